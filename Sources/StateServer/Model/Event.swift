/// An event delivered to a machine's handler: a message, an internal event, a state-enter call, a timeout, or
/// notice that a monitored server ended.
public enum Event<M: StateMachine>: Sendable {
    /// A request from ``Server/call(timeout:_:)``; answer through the ``Reply`` in the case.
    case call(M.Call)
    /// A fire-and-forget message from ``Server/cast(_:)``.
    case cast(M.Cast)
    /// Any other message: ``Server/send(_:)``, effect results, messages sent to self.
    case info(M.Info)
    /// An event inserted by the machine itself with ``Action/nextEvent(_:)`` (`internal` in `gen_statem`).
    case `internal`(M.Info)
    /// The state-enter call, made only when ``StateMachine/callsStateEnter`` is true. `from` is the state before
    /// the event that caused the transition (equal to the current state for the initial state and repeats).
    case enter(from: M.State)
    /// The event timeout fired: no event arrived for its duration.
    case eventTimeout(M.Timeout)
    /// The state timeout fired: the machine stayed in the state for its duration.
    case stateTimeout(M.Timeout)
    /// The named (generic) timeout fired.
    case timeout(M.Timer, M.Timeout)
    /// A server this one monitors ended, with its exit reason.
    // `indirect` (boxed) keeps `Event` a fixed-layout value: a reference-counted multi-payload enum in a tuple
    // payload beside the machine's own types makes the compiler copy and destroy every event through the
    // runtime's value witnesses, and these two events are rare.
    indirect case down(MonitorReference, ExitReason)
    /// A linked server ended while this server traps exits.
    indirect case exit(ServerID, ExitReason)

    /// Whether this event is a timeout of any kind.
    public var isTimeout: Bool {
        switch self {
        case .eventTimeout, .stateTimeout, .timeout: true
        default: false
        }
    }
}

/// Identifies a running server for as long as the process lives; never reused.
public struct ServerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The numeric identity, unique in the process.
    public let rawValue: UInt64

    /// Creates an identifier from its raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Orders identifiers by creation.
    public static func < (lhs: ServerID, rhs: ServerID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `<0.N>`, in the spirit of an Erlang pid.
    public var description: String { "<\(rawValue)>" }
}

/// Identifies one monitor: the value a `.down` event carries so the watcher knows which monitor fired.
public struct MonitorReference: Hashable, Sendable, CustomStringConvertible {
    /// The numeric identity, unique in the process.
    public let rawValue: UInt64

    /// Creates a reference from its raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `#Ref<N>`.
    public var description: String { "#Ref<\(rawValue)>" }
}
