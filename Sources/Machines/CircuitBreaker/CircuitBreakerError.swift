/// Why a ``CircuitBreakerClient`` did not run an operation.
public enum CircuitBreakerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The breaker is open: the operation was not run. `remaining` is the time until the breaker lets trial calls
    /// through, or `nil` when it is half-open with every trial slot taken.
    case open(remaining: Duration?)

    /// `circuit breaker is open (retry in 12s)`.
    public var description: String {
        switch self {
        case .open(let remaining?): "circuit breaker is open (retry in \(remaining))"
        case .open(nil): "circuit breaker is half-open and its trial calls are busy"
        }
    }
}
