/// Which timeout an action or event refers to: the event timeout, the state timeout, or a named one.
public enum TimeoutKind<Name: Hashable & Sendable>: Hashable, Sendable, CustomStringConvertible {
    /// The event timeout: cancelled by any event the machine processes.
    case event
    /// The state timeout: cancelled by a state change.
    case state
    /// A named (generic) timeout: cancelled only explicitly; survives state changes.
    case named(Name)

    /// The same kind (and, for named timeouts, the same name). Written out, and inlinable, because the derived
    /// one is generic code that looks up tuple metadata on every comparison, and the runtime compares kinds on
    /// every transition that re-arms a timer.
    @inlinable
    public static func == (lhs: TimeoutKind, rhs: TimeoutKind) -> Bool {
        switch lhs {
        case .event: if case .event = rhs { true } else { false }
        case .state: if case .state = rhs { true } else { false }
        case .named(let name): if case .named(let other) = rhs { name == other } else { false }
        }
    }

    /// `eventTimeout`, `stateTimeout` or `timeout(name)`.
    public var description: String {
        switch self {
        case .event: "eventTimeout"
        case .state: "stateTimeout"
        case .named(let name): "timeout(\(name))"
        }
    }
}

/// When a timeout fires: after a relative duration, at an absolute instant, or never.
public enum TimeoutTime: Hashable, Sendable, CustomStringConvertible {
    /// After `duration` from when the action is taken. Must not be negative; `.zero` means "as the next event
    /// after the queued ones, before any new message" (the zero-timeout queue).
    case after(Duration)
    /// At an absolute instant of the runtime's clock; an instant in the past fires as soon as possible.
    case at(RuntimeInstant)
    /// Never: the same as cancelling the timeout.
    case infinity

    /// A zero timeout.
    public static var zero: TimeoutTime { .after(.zero) }

    /// `after(5s)`, `at(t=1.000s)` or `infinity`.
    public var description: String {
        switch self {
        case .after(let duration): "after(\(duration.shortDescription))"
        case .at(let instant): "at(\(instant))"
        case .infinity: "infinity"
        }
    }
}

/// What a timeout action does to its timer.
@usableFromInline
enum TimeoutOperation<Content: Sendable>: Sendable {
    case set(TimeoutTime, Content)
    case cancel
    case update(Content)
}

/// Identifies a message a machine sent to itself with a delay, so it can be cancelled
/// (the `Process.send_after` / `Process.cancel_timer` shape). Create one, keep it in `Data`, use it in
/// ``Action/send(_:after:reference:)`` and ``Action/cancelSend(_:)``.
public struct SelfMessageReference: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline let rawValue: UInt64

    /// Creates a new, unique reference.
    public init() { rawValue = IdentityCounter.next() }

    /// `#Timer<N>`.
    public var description: String { "#Timer<\(rawValue)>" }
}

extension Duration {
    /// `30s`, `1.5s`, `250ms`, `40µs`, `12ns`: for traces.
    var shortDescription: String {
        let nanoseconds = self.nanoseconds
        func trimmed(_ value: Int64, _ scale: Int64, _ unit: String) -> String {
            let whole = value / scale
            let fraction = (value % scale).magnitude
            guard fraction != 0 else { return "\(whole)\(unit)" }
            var digits = String(fraction)
            digits = String(repeating: "0", count: String(scale).count - 1 - digits.count) + digits
            while digits.last == "0" { digits.removeLast() }
            return "\(value < 0 && whole == 0 ? "-" : "")\(whole).\(digits)\(unit)"
        }
        let magnitude = nanoseconds.magnitude
        if magnitude >= 1_000_000_000 { return trimmed(nanoseconds, 1_000_000_000, "s") }
        if magnitude >= 1_000_000 { return trimmed(nanoseconds, 1_000_000, "ms") }
        if magnitude >= 1_000 { return trimmed(nanoseconds, 1_000, "µs") }
        return "\(nanoseconds)ns"
    }
}
