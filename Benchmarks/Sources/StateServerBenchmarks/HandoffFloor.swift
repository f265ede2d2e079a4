import Dispatch
import Synchronization

/// What handing messages from one thread to another costs on this machine, apart from any runtime
/// (`handoff_floor`): a producer thread passes `count` integers to a consumer thread that does nothing with them,
/// through a ring guarded by a lock like the runtime's mailbox lock (a compare-and-swap to take it, a plain store to
/// give it back; the consumer taking up to 16 per lock, as a server's drain does), or through a single-producer
/// ring without a lock. The difference is what the lock costs when both sides use it at full speed.
enum HandoffFloor {
    /// ns per message through the locked ring.
    static func lockedRing(count: Int) -> Double {
        let ring = LockedRing()
        return run(count) { ring.consume(count) } producer: { ring.produce(count) }
    }

    /// ns per message through the lock-free ring.
    static func lockFreeRing(count: Int) -> Double {
        let ring = SingleProducerRing()
        return run(count) { ring.consume(count) } producer: { ring.produce(count) }
    }

    /// Runs `consumer` on a thread of its own and `producer` on this one; the time until both are done.
    private static func run(
        _ count: Int, consumer: @escaping @Sendable () -> Void, producer: () -> Void
    ) -> Double {
        let done = DispatchSemaphore(value: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.global().async {
            consumer()
            done.signal()
        }
        producer()
        done.wait()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / Double(count)
    }

    /// A ring of 2^20 integers under a spin lock.
    private final class LockedRing: @unchecked Sendable {
        // Safety: `buffer`, `head` and `count` are only touched between `lock()` and `unlock()`.
        private let word = Atomic<Int>(0)
        private let capacity = 1 << 20
        private let buffer = UnsafeMutablePointer<Int>.allocate(capacity: 1 << 20)
        private var head = 0
        private var count = 0

        deinit { buffer.deallocate() }

        private func lock() {
            while !word.compareExchange(expected: 0, desired: 1, successOrdering: .acquiring, failureOrdering: .relaxed)
                .exchanged {}
        }

        private func unlock() { word.store(0, ordering: .releasing) }

        func produce(_ total: Int) {
            var next = 0
            while next < total {
                lock()
                if count < capacity {
                    buffer[(head + count) & (capacity - 1)] = next
                    count += 1
                    next += 1
                }
                unlock()
            }
        }

        func consume(_ total: Int) {
            var seen = 0
            var sum = 0
            while seen < total {
                lock()
                let taken = Swift.min(count, 16)
                for offset in 0..<taken { sum &+= buffer[(head + offset) & (capacity - 1)] }
                head = (head + taken) & (capacity - 1)
                count -= taken
                unlock()
                seen += taken
            }
            precondition(sum == total * (total - 1) / 2, "every message arrives once")
        }
    }

    /// A ring of 2^16 integers, one writer and one reader, each publishing its position with a release store.
    private final class SingleProducerRing: @unchecked Sendable {
        // Safety: a slot is written by the producer before it publishes `tail` past it, and read by the consumer
        // only after it has seen that `tail`; the producer reuses it only after the consumer published `head` past it.
        private let tail = Atomic<Int>(0)
        private let head = Atomic<Int>(0)
        private let capacity = 1 << 16
        private let buffer = UnsafeMutablePointer<Int>.allocate(capacity: 1 << 16)

        deinit { buffer.deallocate() }

        func produce(_ total: Int) {
            var consumed = 0
            for next in 0..<total {
                while next - consumed >= capacity { consumed = head.load(ordering: .acquiring) }
                buffer[next & (capacity - 1)] = next
                tail.store(next + 1, ordering: .releasing)
            }
        }

        func consume(_ total: Int) {
            var position = 0
            var sum = 0
            while position < total {
                let available = tail.load(ordering: .acquiring)
                while position < available {
                    sum &+= buffer[position & (capacity - 1)]
                    position += 1
                }
                head.store(position, ordering: .releasing)
            }
            precondition(sum == total * (total - 1) / 2, "every message arrives once")
        }
    }
}
