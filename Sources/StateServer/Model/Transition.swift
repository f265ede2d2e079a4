/// What a handler returns: where the machine goes next and which actions to take.
///
/// ```swift
/// return .goto(.green, .stateTimeout(.seconds(25)))
/// return .keep(.reply(reply, data.balance))
/// return .keep(.postpone)
/// return .stop(.normal)
/// ```
///
/// A transition with no action or one action allocates nothing. It keeps two actions inline as well (the array of
/// the variadic call is emptied and freed at once); more are kept in one heap block.
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
    /// The second action, stored inline (a reply and a timeout, say, need no list of their own).
    @usableFromInline let secondAction: Action<M>?
    /// The actions after the second, if any. (A class reference rather than an array: the engine destroys a
    /// handler's result in code specialized for the machine, where an array of actions would still be destroyed
    /// through the runtime's value witnesses, on every event.)
    // Safety: the list is immutable once made (`ManagedBuffer` cannot declare that itself).
    @usableFromInline nonisolated(unsafe) let moreActions: ActionList<M>?

    @inlinable init(_ target: Target, first: Action<M>? = nil, second: Action<M>? = nil) {
        self.target = target
        self.firstAction = first
        self.secondAction = second
        self.moreActions = nil
    }

    /// A transition taking `actions`, which it takes over: up to two are moved out of the array (so that the array,
    /// freed by the runtime's generic code, is empty by then), more are copied into a list.
    @inlinable init(_ target: Target, _ actions: __owned [Action<M>]) {
        self.target = target
        var actions = actions
        switch actions.count {
        case 0:
            firstAction = nil
            secondAction = nil
            moreActions = nil
        case 1:
            firstAction = actions.removeLast()
            secondAction = nil
            moreActions = nil
        case 2:
            secondAction = actions.removeLast()
            firstAction = actions.removeLast()
            moreActions = nil
        default:
            firstAction = actions[0]
            secondAction = actions[1]
            moreActions = ActionList.make(actions.dropFirst(2))
        }
    }

    /// Every action, in order.
    @usableFromInline var actions: [Action<M>] {
        guard let firstAction else { return [] }
        guard let secondAction else { return [firstAction] }
        return [firstAction, secondAction] + (moreActions?.elements ?? [])
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
    @inlinable public static func goto(_ state: M.State, actions: __owned [Action<M>]) -> Transition {
        Transition(.next(state), actions)
    }

    /// Stays in the current state; postponed events are not retried and no enter call is made.
    @inlinable public static var keep: Transition { Transition(.keep) }
    /// Stays in the current state and takes `action`.
    @inlinable public static func keep(_ action: Action<M>) -> Transition { Transition(.keep, first: action) }
    /// Stays in the current state and takes `actions`, in order.
    @inlinable public static func keep(_ actions: Action<M>...) -> Transition { Transition(.keep, actions) }
    /// Stays in the current state and takes `actions`, in order.
    @inlinable public static func keep(actions: __owned [Action<M>]) -> Transition { Transition(.keep, actions) }

    /// Stays in the current state but makes the state-enter call again (if the machine uses them).
    @inlinable public static var repeatState: Transition { Transition(.repeatState) }
    /// Stays, repeats the state-enter call, and takes `action`.
    @inlinable public static func repeatState(_ action: Action<M>) -> Transition {
        Transition(.repeatState, first: action)
    }
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

/// The actions of a transition after its first: immutable, in one heap block (header and elements together).
@usableFromInline
final class ActionList<M: StateMachine>: ManagedBuffer<Int, Action<M>> {
    /// A list holding `actions` (at least one).
    @inlinable
    static func make<C: Collection>(_ actions: C) -> ActionList where C.Element == Action<M> {
        let list = unsafeDowncast(
            ActionList.create(minimumCapacity: actions.count) { _ in actions.count }, to: ActionList.self)
        list.withUnsafeMutablePointerToElements { elements in
            var next = elements
            for action in actions {
                next.initialize(to: action)
                next += 1
            }
        }
        return list
    }

    /// The number of actions.
    @inlinable var count: Int { header }

    /// The action at `index` (`0..<count`).
    @inlinable subscript(index: Int) -> Action<M> { withUnsafeMutablePointerToElements { $0[index] } }

    /// The actions, in order.
    @usableFromInline var elements: [Action<M>] {
        withUnsafeMutablePointerToElements { Array(UnsafeBufferPointer(start: $0, count: header)) }
    }

    @inlinable
    deinit {
        _ = withUnsafeMutablePointerToElements { $0.deinitialize(count: header) }
    }
}
