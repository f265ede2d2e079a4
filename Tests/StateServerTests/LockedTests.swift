import Dispatch
import Synchronization
import Testing
@testable import StateServer

/// The runtime's lock (``Locked``): every critical section runs alone, whether the lock is free, briefly contended
/// (threads spin for it) or held long enough that waiting threads park and must be woken.
@Suite struct LockedTests {
    /// A counter behind the lock, and a check of exclusion: the section sees nobody else inside.
    private final class Guarded: Sendable {
        let value = Locked((count: 0, inside: false))
        let overlaps = Atomic<Int>(0)

        /// Adds one under the lock, after `work` rounds of busy work inside it (a long section makes waiters park).
        func increment(work: Int) {
            value.withLock { value in
                if value.inside { overlaps.add(1, ordering: .relaxed) }
                value.inside = true
                var spin = 0
                for round in 0..<work { spin &+= round &* 31 }
                value.count += 1 + (spin == -1 ? 1 : 0)
                value.inside = false
            }
        }
    }

    @Test func aFreeLockRunsTheSectionAndReturnsItsResult() {
        let lock = Locked([1, 2])
        let sum = lock.withLock { values in
            values.append(3)
            return values.reduce(0, +)
        }
        #expect(sum == 6)
        #expect(lock.withLock { $0 } == [1, 2, 3])
    }

    @Test func aThrowingSectionReleasesTheLock() {
        struct Failure: Error {}
        let lock = Locked(0)
        #expect(throws: Failure.self) { try lock.withLock { _ throws(Failure) in throw Failure() } }
        #expect(lock.withLock { value in value += 1; return value } == 1)
    }

    /// Runs `sections` critical sections of `work` rounds each on every one of `threads` threads; checks that none
    /// was lost and none overlapped another.
    private func expectExclusive(threads: Int, sections: Int, work: Int) {
        let guarded = Guarded()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<sections { guarded.increment(work: work) }
        }
        #expect(guarded.value.withLock { $0.count } == threads * sections)
        #expect(guarded.overlaps.load(ordering: .relaxed) == 0)
    }

    @Test func briefSectionsOnManyThreadsAreNeverLostOrOverlapped() {
        expectExclusive(threads: 8, sections: 50_000, work: 0)
    }

    /// Sections long enough (tens of microseconds) that threads waiting for them stop spinning and park: each is
    /// woken when the lock is given back, and none is left behind.
    @Test func longSectionsMakeWaitersParkAndEveryOneIsWoken() {
        expectExclusive(threads: 6, sections: 200, work: 100_000)
    }
}
