/// Why a server ended: the value every pending caller, monitor and supervisor receives.
///
/// `normal`, `shutdown` and `shutdown(_:)` are the expected ways to end (not reported as errors, and a
/// transient child is not restarted for them); `error` carries what a handler threw or what the runtime
/// rejected; `killed` is a stop that did not run `terminate`.
public enum ExitReason: Sendable, CustomStringConvertible {
    /// The server finished its work.
    case normal
    /// The server was told to shut down; the optional detail says why (`{shutdown, Term}` in OTP).
    indirect case shutdown(String?)
    /// A handler threw, returned something invalid, or the runtime stopped the server for a broken rule.
    case error(any Error)
    /// The server was stopped without running `terminate` (a brutal kill, or a stop that timed out).
    case killed

    /// The plain shutdown reason, with no detail.
    public static var shutdown: ExitReason { .shutdown(nil) }

    /// Whether this is `normal`, `shutdown` or `shutdown(_:)`: an exit that is not a failure.
    public var isNormal: Bool {
        switch self {
        case .normal, .shutdown: true
        case .error, .killed: false
        }
    }

    /// `normal`, `shutdown`, `shutdown(detail)`, `error(…)` or `killed`.
    public var description: String {
        switch self {
        case .normal: "normal"
        case .shutdown(nil): "shutdown"
        case .shutdown(let detail?): "shutdown(\(detail))"
        case .error(let error): "error(\(error))"
        case .killed: "killed"
        }
    }
}
