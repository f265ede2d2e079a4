/// What a handler returns: where the machine goes next and which actions to take.
///
/// ```swift
/// return .goto(.green, .stateTimeout(.seconds(25)))
/// return .keep(.reply(reply, data.balance))
/// return .keep(.postpone)
/// return .stop(.normal)
/// ```
///
/// A transition with no action or one action allocates nothing; more actions are kept in an array.
public struct Transition<M: StateMachine>: Sendable {
    @usableFromInline
    enum Target: Sendable {
        case next(M.State)
        case keep
        case repeatState
        case stop(ExitReason)
        indirect case stopAndReply(ExitReason, [Action<M>])
    }

    @usableFromInline let target: Target
    /// The first action, stored inline.
    @usableFromInline let firstAction: Action<M>?
    /// The actions after the first.
    @usableFromInline let moreActions: [Action<M>]

    @inlinable init(_ target: Target, first: Action<M>? = nil, more: [Action<M>] = []) {
        self.target = target
        self.firstAction = first
        self.moreActions = more
    }

    @inlinable init(_ target: Target, _ actions: [Action<M>]) {
        self.target = target
        self.firstAction = actions.first
        self.moreActions = actions.count > 1 ? Array(actions.dropFirst()) : []
    }

    /// Every action, in order.
    @usableFromInline var actions: [Action<M>] {
        guard let firstAction else { return [] }
        return [firstAction] + moreActions
    }

    /// Moves to `state` (a state change if it differs from the current one).
    @inlinable public static func goto(_ state: M.State) -> Transition { Transition(.next(state)) }
    /// Moves to `state` and takes `action`.
    @inlinable public static func goto(_ state: M.State, _ action: Action<M>) -> Transition {
        Transition(.next(state), first: action)
    }
    /// Moves to `state` and takes `actions`, in order.
    @inlinable public static func goto(_ state: M.State, _ actions: Action<M>...) -> Transition {
        Transition(.next(state), actions)
    }
    /// Moves to `state` and takes `actions`, in order.
    @inlinable public static func goto(_ state: M.State, actions: [Action<M>]) -> Transition {
        Transition(.next(state), actions)
    }

    /// Stays in the current state; postponed events are not retried and no enter call is made.
    @inlinable public static var keep: Transition { Transition(.keep) }
    /// Stays in the current state and takes `action`.
    @inlinable public static func keep(_ action: Action<M>) -> Transition { Transition(.keep, first: action) }
    /// Stays in the current state and takes `actions`, in order.
    @inlinable public static func keep(_ actions: Action<M>...) -> Transition { Transition(.keep, actions) }
    /// Stays in the current state and takes `actions`, in order.
    @inlinable public static func keep(actions: [Action<M>]) -> Transition { Transition(.keep, actions) }

    /// Stays in the current state but makes the state-enter call again (if the machine uses them).
    @inlinable public static var repeatState: Transition { Transition(.repeatState) }
    /// Stays, repeats the state-enter call, and takes `actions`, in order.
    @inlinable public static func repeatState(_ actions: Action<M>...) -> Transition {
        Transition(.repeatState, actions)
    }

    /// Stops the server normally.
    @inlinable public static var stop: Transition { Transition(.stop(.normal)) }
    /// Stops the server with `reason`, after calling `terminate`.
    @inlinable public static func stop(_ reason: ExitReason) -> Transition { Transition(.stop(reason)) }

    /// Sends `replies` (which must be ``Action/reply(_:_:)`` actions) in order, then stops with `reason`;
    /// the replies reach their callers before `terminate` runs.
    @inlinable public static func stopAndReply(_ reason: ExitReason, _ replies: Action<M>...) -> Transition {
        Transition(.stopAndReply(reason, replies))
    }
}
