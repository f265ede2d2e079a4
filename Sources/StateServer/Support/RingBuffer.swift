/// A growable FIFO queue backed by a power-of-two ring: O(1) append, prepend and removal at both ends.
///
/// The framework's own deque (the package has no dependencies). Empty buffers allocate nothing, so an idle
/// server's queues cost one word each. The ring is one heap block (``RingStorage``) whose slots are initialized only
/// while they hold an element: growing moves the elements into a larger block without writing the free slots, and a
/// block is freed without visiting them (an array of optionals, the earlier storage, wrote every free slot when it
/// grew and destroyed every slot, free or not, through the runtime's generic code when it went). Copies share the
/// block until one of them changes (copy on write).
@usableFromInline
struct RingBuffer<Element> {
    @usableFromInline var storage: RingStorage<Element>?

    @inlinable init() {}

    /// The number of elements.
    @inlinable var count: Int { storage?.ring.count ?? 0 }

    @inlinable var isEmpty: Bool { count == 0 }

    /// The first element (a copy), or nil when empty.
    @inlinable var first: Element? {
        guard let storage else { return nil }
        return storage.withUnsafeMutablePointers { header, elements in
            header.pointee.count > 0 ? elements[header.pointee.head] : nil
        }
    }

    /// The storage, owned by this buffer alone and with room for one more element.
    @inlinable
    mutating func uniqueStorageWithRoom() -> RingStorage<Element> {
        guard storage != nil else {
            let created = RingStorage<Element>.make(capacity: 4)
            storage = created
            return created
        }
        if !isKnownUniquelyReferenced(&storage!) {
            let ring = storage!.ring
            storage = storage!.copy(capacity: ring.capacity * (ring.isFull ? 2 : 1))
        } else if storage!.ring.isFull {
            storage = storage!.movedIntoLarger()
        }
        return storage.unsafelyUnwrapped
    }

    @inlinable
    mutating func append(_ element: Element) {
        uniqueStorageWithRoom().appendInPlace(element)
    }

    @inlinable
    mutating func prepend(_ element: Element) {
        let storage = uniqueStorageWithRoom()
        storage.withUnsafeMutablePointers { header, elements in
            header.pointee.head = header.pointee.index(-1)
            (elements + header.pointee.head).initialize(to: element)
            header.pointee.count &+= 1
        }
    }

    /// Puts `elements` in front of the queue, keeping their order.
    @inlinable
    mutating func prepend<C: BidirectionalCollection>(contentsOf elements: C) where C.Element == Element {
        for element in elements.reversed() { prepend(element) }
    }

    /// Moves every element of `front` in front of this queue, keeping their order, and leaves `front` empty.
    /// Into an empty queue this is a swap of storage, however many elements move.
    @inlinable
    mutating func prepend(draining front: inout RingBuffer) {
        guard !front.isEmpty else { return }
        if !isEmpty {
            while let element = popFirst() { front.append(element) }
        }
        swap(&self, &front)
        front = RingBuffer()
    }

    @inlinable
    mutating func popFirst() -> Element? {
        // No local reference to the block while its uniqueness is checked: it would count as a second owner.
        guard storage != nil, storage.unsafelyUnwrapped.ring.count > 0 else { return nil }
        if !isKnownUniquelyReferenced(&storage!) { storage = storage!.copy(capacity: storage!.ring.capacity) }
        return storage.unsafelyUnwrapped.removeFirstInPlace()
    }

    /// ``popFirst()`` for a buffer whose block its owner knows nothing else holds: without the uniqueness check.
    /// (Debug builds check it.)
    @inlinable
    mutating func popFirstUnshared() -> Element? {
        guard storage != nil, storage.unsafelyUnwrapped.ring.count > 0 else { return nil }
        assert(isKnownUniquelyReferenced(&storage!), "a shared ring block popped without copying it")
        return storage.unsafelyUnwrapped.removeFirstInPlace()
    }

    /// A copy with a block of its own (none shared with this buffer).
    @inlinable
    var unsharedCopy: RingBuffer {
        var copy = RingBuffer()
        if let storage { copy.storage = storage.copy(capacity: storage.ring.capacity) }
        return copy
    }

    /// Removes every element, returning them oldest first.
    @inlinable
    mutating func removeAll() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        while let element = popFirst() { result.append(element) }
        storage = nil
        return result
    }

    /// Removes the elements for which `shouldRemove` is true, keeping the order of the rest.
    @inlinable
    mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        guard count > 0 else { return }
        var kept = RingBuffer()
        while let element = popFirst() {
            if !shouldRemove(element) { kept.append(element) }
        }
        self = kept
    }

    /// Removes and returns the first element for which `predicate` is true, keeping the order of the rest.
    ///
    /// - Complexity: O(n).
    @inlinable
    mutating func removeFirst(where predicate: (Element) -> Bool) -> Element? {
        var kept = RingBuffer()
        var found: Element?
        while let element = popFirst() {
            if found == nil, predicate(element) { found = element } else { kept.append(element) }
        }
        self = kept
        return found
    }

    /// The elements, oldest first, without removing them.
    @inlinable
    var elements: [Element] {
        guard let storage else { return [] }
        return storage.withUnsafeMutablePointers { header, elements in
            (0..<header.pointee.count).map { elements[header.pointee.index($0)] }
        }
    }
}

// Safety: a ring's block is shared only between copies of it, each of which copies it before changing it (as an
// array's buffer is), so a copy sent elsewhere is never changed through another.
extension RingBuffer: @unchecked Sendable where Element: Sendable {}

/// Where a ``RingStorage``'s elements are: `count` of them from slot `head` on, wrapping around at `capacity` (a
/// power of two).
@usableFromInline
struct RingHeader {
    @usableFromInline var head: Int
    @usableFromInline var count: Int
    @usableFromInline let capacity: Int

    @inlinable init(capacity: Int) {
        head = 0
        count = 0
        self.capacity = capacity
    }

    @inlinable var isFull: Bool { count == capacity }

    /// The slot `offset` places after the head (negative: before it).
    @inlinable func index(_ offset: Int) -> Int { (head &+ offset) & (capacity &- 1) }
}

/// The block of a ``RingBuffer``: the header and the slots, one allocation; only the slots holding elements are
/// initialized.
@usableFromInline
final class RingStorage<Element>: ManagedBuffer<RingHeader, Element> {
    /// The header, read through its address: `header`, a stored class property, would be checked for exclusive
    /// access at run time on every read.
    @inlinable var ring: RingHeader { withUnsafeMutablePointerToHeader { $0.pointee } }

    /// An empty block of `capacity` slots (a power of two).
    @inlinable
    static func make(capacity: Int) -> RingStorage {
        unsafeDowncast(
            RingStorage.create(minimumCapacity: capacity) { _ in RingHeader(capacity: capacity) }, to: RingStorage.self)
    }

    /// Appends `element` to a block with room that nothing else holds.
    @inlinable
    func appendInPlace(_ element: Element) {
        withUnsafeMutablePointers { header, elements in
            (elements + header.pointee.index(header.pointee.count)).initialize(to: element)
            header.pointee.count &+= 1
        }
    }

    /// Removes and returns the first element of a block that is not empty and that nothing else holds.
    @inlinable
    func removeFirstInPlace() -> Element {
        withUnsafeMutablePointers { header, elements in
            let element = (elements + header.pointee.head).move()
            header.pointee.head = header.pointee.index(1)
            header.pointee.count &-= 1
            return element
        }
    }

    /// A block of `capacity` slots (a power of two, at least `count`) holding copies of these elements, in order.
    @inlinable
    func copy(capacity: Int) -> RingStorage {
        let copy = RingStorage.make(capacity: capacity)
        withUnsafeMutablePointers { header, elements in
            copy.withUnsafeMutablePointers { copyHeader, copyElements in
                for offset in 0..<header.pointee.count {
                    (copyElements + offset).initialize(to: elements[header.pointee.index(offset)])
                }
                copyHeader.pointee.count = header.pointee.count
            }
        }
        return copy
    }

    /// A block twice as large holding these elements, in order; this block is left empty (its elements moved, not
    /// copied: no reference counting, nothing to destroy).
    @inlinable
    func movedIntoLarger() -> RingStorage {
        let larger = RingStorage.make(capacity: Swift.max(4, ring.capacity &* 2))
        withUnsafeMutablePointers { header, elements in
            larger.withUnsafeMutablePointers { largerHeader, largerElements in
                let count = header.pointee.count
                let firstRun = Swift.min(count, header.pointee.capacity &- header.pointee.head)
                largerElements.moveInitialize(from: elements + header.pointee.head, count: firstRun)
                (largerElements + firstRun).moveInitialize(from: elements, count: count &- firstRun)
                largerHeader.pointee.count = count
                header.pointee.count = 0
                header.pointee.head = 0
            }
        }
        return larger
    }

    @inlinable
    deinit {
        // Most blocks go empty (a drained queue, one that grew): nothing to visit.
        guard ring.count > 0 else { return }
        withUnsafeMutablePointers { header, elements in
            let firstRun = Swift.min(header.pointee.count, header.pointee.capacity &- header.pointee.head)
            (elements + header.pointee.head).deinitialize(count: firstRun)
            elements.deinitialize(count: header.pointee.count &- firstRun)
        }
    }
}
