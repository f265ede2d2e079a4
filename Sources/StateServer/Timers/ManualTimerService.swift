import Synchronization

/// The timer service under a ``ManualClock``: a binary heap ordered by (deadline, insertion), fired only when the
/// clock is advanced.
final class ManualTimerService: TimerService, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`.
    private let lock = Locked(())
    /// Armed timers: `(deadline, sequence, node)`, the node's position its index here.
    private var heap: [(deadline: Int64, sequence: UInt64, node: TimerNode)] = []
    private var sequence: UInt64 = 0
    private var currentTime: Int64 = 0

    var now: Int64 { lock.withLock { _ in currentTime } }

    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: AnyObject) {
        lock.withLock { _ in
            if node.isArmed { remove(node) }
            sequence &+= 1
            node.generation = generation
            node.target = target
            node.position = Int32(heap.count)
            heap.append((deadline, sequence, node))
            siftUp(heap.count - 1)
        }
    }

    func cancel(_ node: TimerNode) {
        lock.withLock { _ in
            if node.isArmed {
                remove(node)
                node.target = nil
            }
        }
    }

    /// Removes and returns the earliest timer due at or before `limit`, moving `now` to its deadline; or moves
    /// `now` to `limit` and returns nil when none is due.
    func popDue(until limit: Int64) -> (AnyObject, TimerNode, UInt64)? {
        lock.withLock { _ in
            while let (deadline, _, node) = heap.first, deadline <= limit {
                remove(node)
                currentTime = Swift.max(currentTime, deadline)
                if let target = node.target {
                    node.target = nil
                    return (target, node, node.generation)
                }
            }
            currentTime = Swift.max(currentTime, limit)
            return nil
        }
    }

    /// The earliest armed deadline, if any.
    var nextDeadline: Int64? { lock.withLock { _ in heap.first?.deadline } }

    /// How many timers are armed.
    var armedCount: Int { lock.withLock { _ in heap.count } }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        heap[a].deadline != heap[b].deadline ? heap[a].deadline < heap[b].deadline : heap[a].sequence < heap[b].sequence
    }

    private func remove(_ node: TimerNode) {
        let index = Int(node.position)
        let last = heap.count - 1
        if index != last {
            heap.swapAt(index, last)
            heap[index].node.position = Int32(index)
        }
        heap.removeLast()
        node.position = -1
        if index < heap.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private func siftUp(_ start: Int) {
        var index = start
        while index > 0 {
            let parent = (index - 1) / 2
            guard precedes(index, parent) else { return }
            heap.swapAt(index, parent)
            heap[index].node.position = Int32(index)
            heap[parent].node.position = Int32(parent)
            index = parent
        }
    }

    private func siftDown(_ start: Int) {
        var index = start
        while true {
            let left = 2 * index + 1
            let right = left + 1
            var smallest = index
            if left < heap.count && precedes(left, smallest) { smallest = left }
            if right < heap.count && precedes(right, smallest) { smallest = right }
            if smallest == index { return }
            heap.swapAt(index, smallest)
            heap[index].node.position = Int32(index)
            heap[smallest].node.position = Int32(smallest)
            index = smallest
        }
    }
}
