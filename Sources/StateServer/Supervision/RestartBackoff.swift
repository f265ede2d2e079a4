/// Exponential backoff between restarts of a crashing child (beyond OTP, where restarts are immediate).
///
/// The n-th consecutive restart of a child waits `min(initialDelay × 2ⁿ, maximumDelay)` (n from 0); a child that
/// ran for `resetAfter` before ending starts again from `initialDelay`. While it waits, the child is shown as
/// ``ChildStatus/restarting`` and the supervisor handles other requests. The delay is a named timeout of the
/// supervisor, so under a ``ManualClock`` nothing restarts until the test advances the clock.
///
/// Backoff spaces restarts out, so tune the restart intensity with it: with the defaults (1 restart in 5 s), a
/// child that crashes right after its delayed restart stops the supervisor.
///
/// Concurrency: an immutable value; `Sendable`.
public struct RestartBackoff: Hashable, Sendable {
    /// The delay before the first restart.
    public var initialDelay: Duration
    /// The longest delay.
    public var maximumDelay: Duration
    /// How long a child must run for its next restart to start again from ``initialDelay``.
    public var resetAfter: Duration

    /// Creates a backoff policy.
    ///
    /// - Parameters:
    ///   - initialDelay: The first delay; 100 ms by default.
    ///   - maximumDelay: The cap; 30 s by default.
    ///   - resetAfter: The quiet period that resets the sequence; 60 s by default.
    public init(
        initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(30),
        resetAfter: Duration = .seconds(60)
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.resetAfter = resetAfter
    }

    /// The delay before a restart preceded by `restarts` consecutive restarts: `initialDelay × 2^restarts`,
    /// capped at ``maximumDelay``.
    public func delay(afterConsecutiveRestarts restarts: Int) -> Duration {
        var delay = initialDelay
        var remaining = Swift.max(0, restarts)
        while remaining > 0, delay < maximumDelay {
            delay = delay * 2
            remaining -= 1
        }
        return Swift.min(delay, maximumDelay)
    }
}
