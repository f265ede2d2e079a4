import StateServer
import Synchronization

/// Counts handled events down from a total and wakes one waiter when the count reaches zero: how a run over many
/// servers knows that every event was handled (an `atomics` counter on the OTP side).
final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let waiter = Mutex<Waiter>(Waiter())

    private struct Waiter {
        var isDone = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    init(_ count: Int) {
        remaining = Atomic(count)
        if count <= 0 { waiter.withLock { $0.isDone = true } }
    }

    /// One event handled; the last one wakes the waiter.
    func tick() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            let continuation = waiter.withLock { waiter in
                waiter.isDone = true
                defer { waiter.continuation = nil }
                return waiter.continuation
            }
            continuation?.resume()
        }
    }

    /// Returns once every event was handled.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isDone = waiter.withLock { waiter in
                if waiter.isDone { return true }
                waiter.continuation = continuation
                return false
            }
            if isDone { continuation.resume() }
        }
    }
}

/// Where the ``Alarm`` machines record how late their timeouts ran: one slot per machine (each written once, by
/// its own machine), and a ``Countdown`` to wait for all of them.
final class LatenessLog: @unchecked Sendable {
    // Safety: slot `i` is written only by machine `i`, once; `values` is read only after `wait()` returned,
    // which the countdown's acquire-release ordering makes happen after every write.
    private let runtime: Runtime
    private let slots: UnsafeMutableBufferPointer<Int64>
    private let countdown: Countdown

    init(count: Int, runtime: Runtime) {
        self.runtime = runtime
        slots = .allocate(capacity: count)
        slots.initialize(repeating: 0)
        countdown = Countdown(count)
    }

    deinit { slots.deallocate() }

    /// Machine `index` is running its timeout's handler now.
    func record(_ index: Int, deadline: RuntimeInstant) {
        slots[index] = runtime.now.nanoseconds &- deadline.nanoseconds
        countdown.tick()
    }

    /// Every machine's lateness in microseconds, sorted, once all have fired.
    func sortedMicroseconds() async -> [Double] {
        await countdown.wait()
        return slots.map { Double($0) / 1_000 }.sorted()
    }
}

/// The value at `fraction` (0...1) of `sorted`, as the OTP side computes it: the element at 1-based position
/// `round(fraction × count)`, clamped to the array.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let position = Swift.max(1, Swift.min(sorted.count, Int((fraction * Double(sorted.count)).rounded())))
    return sorted[position - 1]
}
