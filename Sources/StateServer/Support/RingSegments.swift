/// The back of a long queue: fixed-size ring blocks filled in place, oldest first, each handed whole to the front
/// of the queue (a ``RingBuffer``) when the front empties.
///
/// Nothing is copied as the queue grows (a single ring copies everything each time it doubles), and a drained
/// block is kept for the next one to fill, so a queue that keeps draining and refilling allocates nothing.
///
/// Concurrency: a value type, guarded by whoever owns it (the mailbox lock).
@usableFromInline
struct RingSegments<Element> {
    /// Full blocks, oldest first.
    @usableFromInline var full = RingBuffer<RingStorage<Element>>()
    /// The newest block, being filled; nil when there is nothing here.
    @usableFromInline var filling: RingStorage<Element>?
    /// An empty block kept for the next one to fill.
    @usableFromInline var spare: RingStorage<Element>?

    @inlinable init() {}

    /// Whether no element is here.
    @inlinable var isEmpty: Bool { filling == nil }

    /// Queues `element` behind the others, in a new block of `segmentCapacity` (a power of two) when the newest
    /// is full.
    @inlinable
    mutating func append(_ element: Element, segmentCapacity: Int) {
        if let block = filling, !block.ring.isFull {
            block.appendInPlace(element)
            return
        }
        let block: RingStorage<Element>
        if let spare {
            block = spare
            self.spare = nil
        } else {
            block = RingStorage.make(capacity: segmentCapacity)
        }
        block.appendInPlace(element)
        if let previous = filling { full.append(previous) }
        filling = block
    }

    /// Hands the oldest block to `front`, which must be empty; its empty block is kept as the spare when it has the
    /// segments' size (`front` may have grown by other means).
    @inlinable
    mutating func moveFirst(into front: inout RingBuffer<Element>) {
        let drained = front.storage
        if let block = full.popFirst() {
            front.storage = block
        } else {
            front.storage = filling
            filling = nil
        }
        if spare == nil, let drained, drained.ring.capacity == front.storage.unsafelyUnwrapped.ring.capacity {
            spare = drained
        }
    }
}

// Safety: as `RingBuffer`'s: the blocks are reached only through this value and changed only by its owner.
extension RingSegments: @unchecked Sendable where Element: Sendable {}
