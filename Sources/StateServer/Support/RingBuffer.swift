/// A growable FIFO queue backed by a power-of-two ring: O(1) append, prepend and removal at both ends.
///
/// The framework's own deque (the package has no dependencies). Empty buffers allocate nothing, so an idle
/// server's queues cost only their inline words.
@usableFromInline
struct RingBuffer<Element> {
    @usableFromInline var storage: ContiguousArray<Element?> = []
    /// Index of the first element, and the number of elements: 32 bits each keep an empty ring at 16 bytes.
    @usableFromInline var head32: UInt32 = 0
    @usableFromInline var count32: UInt32 = 0

    /// The index of the first element.
    @inlinable var head: Int {
        get { Int(head32) }
        set { head32 = UInt32(truncatingIfNeeded: newValue) }
    }

    /// The number of elements.
    @inlinable var count: Int {
        get { Int(count32) }
        set { count32 = UInt32(truncatingIfNeeded: newValue) }
    }

    @inlinable init() {}

    @inlinable var isEmpty: Bool { count == 0 }

    @inlinable var first: Element? { count == 0 ? nil : storage[head] }

    @inlinable
    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head &+ count) & (storage.count &- 1)] = element
        count &+= 1
    }

    @inlinable
    mutating func prepend(_ element: Element) {
        if count == storage.count { grow() }
        head = (head &- 1) & (storage.count &- 1)
        storage[head] = element
        count &+= 1
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
        guard count > 0 else { return nil }
        let element = storage[head].take()
        head = (head &+ 1) & (storage.count &- 1)
        count &-= 1
        return element
    }

    /// Removes every element, returning them oldest first.
    @inlinable
    mutating func removeAll() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        while let element = popFirst() { result.append(element) }
        storage = []
        head = 0
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
        (0..<count).map { storage[(head &+ $0) & (storage.count &- 1)]! }
    }

    /// Doubles the storage (specialized in the caller: a busy mailbox grows under its lock).
    @inlinable
    mutating func grow() {
        let newCapacity = Swift.max(4, storage.count &* 2)
        var newStorage = ContiguousArray<Element?>(repeating: nil, count: newCapacity)
        for index in 0..<count {
            newStorage[index] = storage[(head &+ index) & (storage.count &- 1)].take()
        }
        storage = newStorage
        head = 0
    }
}

extension RingBuffer: Sendable where Element: Sendable {}
