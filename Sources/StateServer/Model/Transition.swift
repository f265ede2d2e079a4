/// What a handler returns: where the machine goes next and which actions to take.
///
/// ```swift
/// return .goto(.green, .stateTimeout(.seconds(25)))
/// return .keep(.reply(reply, data.balance))
/// return .keep(.postpone)
/// return .stop(.normal)
/// ```
public struct Transition<M: StateMachine>: Sendable {
    @usableFromInline
    enum Target: Sendable {
        case next(M.State)
        case keep
        case repeatState
        case stop(ExitReason)
        case stopAndReply(ExitReason, [Action<M>])
    }

    @usableFromInline let target: Target
    @usableFromInline let actions: [Action<M>]

    @usableFromInline init(_ target: Target, _ actions: [Action<M>]) {
        self.target = target
        self.actions = actions
    }

    /// Moves to `state` (a state change if it differs from the current one) and takes `actions`.
    public static func goto(_ state: M.State, _ actions: Action<M>...) -> Transition { Transition(.next(state), actions) }
    /// Moves to `state` and takes `actions`.
    public static func goto(_ state: M.State, actions: [Action<M>]) -> Transition { Transition(.next(state), actions) }

    /// Stays in the current state; postponed events are not retried and no enter call is made.
    public static var keep: Transition { Transition(.keep, []) }
    /// Stays in the current state and takes `actions`.
    public static func keep(_ actions: Action<M>...) -> Transition { Transition(.keep, actions) }
    /// Stays in the current state and takes `actions`.
    public static func keep(actions: [Action<M>]) -> Transition { Transition(.keep, actions) }

    /// Stays in the current state but makes the state-enter call again (if the machine uses them).
    public static var repeatState: Transition { Transition(.repeatState, []) }
    /// Stays, repeats the state-enter call, and takes `actions`.
    public static func repeatState(_ actions: Action<M>...) -> Transition { Transition(.repeatState, actions) }

    /// Stops the server normally.
    public static var stop: Transition { Transition(.stop(.normal), []) }
    /// Stops the server with `reason`, after calling `terminate`.
    public static func stop(_ reason: ExitReason) -> Transition { Transition(.stop(reason), []) }

    /// Sends `replies` (which must be ``Action/reply(_:_:)`` actions) in order, then stops with `reason`;
    /// the replies reach their callers before `terminate` runs.
    public static func stopAndReply(_ reason: ExitReason, _ replies: Action<M>...) -> Transition {
        Transition(.stopAndReply(reason, replies), [])
    }
}
