import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value protected by a lock built for the runtime's short critical sections: a mailbox append, a reply
/// settled, a registry entry.
///
/// The lock is one atomic word beside the value (4 bytes, as `Mutex`'s). Taking it free is one compare-and-swap;
/// giving it back is a plain store when nobody waits, so an uncontended critical section costs one atomic
/// read-modify-write instead of the two of `Synchronization.Mutex` on Linux (whose unlock is a second
/// compare-and-swap, and which reads the thread's id on each side): a call round trip, which takes three such
/// sections, went from 124–130 to 100–115 ns. A thread that finds the lock taken spins (for up to
/// ``LockParking/spinNanoseconds``, far longer than any critical section, so that only a holder that lost its
/// processor makes others wait longer), then parks on a condition variable shared by the locks whose addresses hash
/// alike, where the unlocking thread wakes it. A spinning thread that sees parked threads parks behind them rather
/// than take the lock from under them.
///
/// The plain-store unlock reads whether a thread is parked and then stores, so a waiter that marks the lock
/// contended between the two is not woken; every park is therefore timed (``LockParking/parkNanoseconds``) and
/// the waiter tries again when it ends. That window is a few instructions wide, and a waiter that falls into it
/// waits at most that long: never lost.
///
/// Every acquisition and release goes through an atomic in code the compiler instruments, so ThreadSanitizer sees
/// the critical sections without being told (it could not see those of `Mutex`, whose contended path hands the
/// lock over in the kernel).
///
/// Concurrency: `Sendable`; `withLock` may be called from any thread. Not reentrant: taking the lock again from
/// inside `withLock` on the same thread deadlocks, as with `Mutex`.
@usableFromInline
package struct Locked<Value: ~Copyable>: ~Copyable {
    /// 0: free. 1: taken. 2: taken, and a thread may be parked waiting for it.
    @usableFromInline let word = Atomic<UInt32>(0)
    /// The value's storage, at a stable address for as long as the lock lives (the storage `Mutex` uses too).
    @usableFromInline let cell: _Cell<Value>

    /// Protects `value`.
    @inlinable
    package init(_ value: consuming sending Value) { cell = _Cell(value) }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        let free = word.compareExchange(expected: 0, desired: 1, successOrdering: .acquiring, failureOrdering: .relaxed)
        if !free.exchanged { lockContended() }
        defer {
            let state = word.load(ordering: .relaxed)
            word.store(0, ordering: .releasing)
            if state == 2 { LockParking.wake(anchor) }
        }
        // Through a pointer taken first: `&cell._address.pointee` is a formal access rooted at the lock itself, which
        // ThreadSanitizer would take for a write to the lock word that other threads read while they wait.
        let value = cell._address
        return try body(&value.pointee)
    }

    /// The address parked threads wait on: the lock's own (stable: the lock lives in its owner's storage).
    @inlinable var anchor: UnsafeRawPointer { withUnsafePointer(to: self) { UnsafeRawPointer($0) } }

    /// Takes the lock held by another thread: spins while the holder is likely running its (short) critical
    /// section, then parks until woken (or the park times out).
    @usableFromInline
    borrowing func lockContended() {
        var deadline: Int64 = 0
        var tries = 0
        while true {
            let state = word.load(ordering: .relaxed)
            // Threads are parked: taking the lock now would overtake them; park behind them.
            if state == 2 { break }
            if state == 0,
                word.compareExchange(expected: 0, desired: 1, successOrdering: .acquiring, failureOrdering: .relaxed)
                    .exchanged
            {
                return
            }
            tries += 1
            if tries & 63 == 0 {
                let now = monotonicNanoseconds()
                if deadline == 0 {
                    deadline = now + LockParking.spinNanoseconds
                } else if now > deadline {
                    break
                }
            }
        }
        // Marked contended from here on (also when taken: other threads may still be parked, and the unlock
        // that follows must wake them).
        while word.exchange(2, ordering: .acquiring) != 0 {
            LockParking.park(anchor) { word.load(ordering: .relaxed) == 2 }
        }
    }
}

// Safety: as `Mutex`: the value is only reached through `withLock`, under the lock.
extension Locked: @unchecked Sendable where Value: ~Copyable {}

/// Where threads wait for a ``Locked`` lock held by another thread: a fixed table of condition variables, each
/// shared by the locks whose addresses hash to it (a lock itself stays one word).
@usableFromInline
enum LockParking {
    /// How long a thread spins for a taken lock before it parks: far longer than a critical section, so that
    /// only a holder that lost its processor makes others park.
    static let spinNanoseconds: Int64 = 20_000
    /// The longest a parked thread waits before trying again (the bound on the lost wake-up; see ``Locked``).
    static let parkNanoseconds: Int64 = 1_000_000

    private static let buckets: [ConditionLock] = (0..<64).map { _ in ConditionLock() }

    private static func bucket(_ anchor: UnsafeRawPointer) -> ConditionLock {
        let address = UInt(bitPattern: anchor)
        return buckets[Int((address >> 4 ^ address >> 10) & 63)]
    }

    /// Waits on the lock at `anchor` while `isStillTaken` holds (checked under the bucket's lock, so that an unlock
    /// that reads the contended mark after this check wakes the thread).
    static func park(_ anchor: UnsafeRawPointer, while isStillTaken: () -> Bool) {
        let bucket = bucket(anchor)
        bucket.lock()
        if isStillTaken() { bucket.wait(nanoseconds: parkNanoseconds) }
        bucket.unlock()
    }

    /// Wakes the threads parked on the bucket of the lock at `anchor` (all of them: the bucket is shared, and a
    /// woken thread whose lock is still taken parks again).
    @usableFromInline
    static func wake(_ anchor: UnsafeRawPointer) {
        let bucket = bucket(anchor)
        bucket.lock()
        bucket.broadcast()
        bucket.unlock()
    }
}
