/// A state machine that runs as a server: a typed state, data, typed messages, and one synchronous handler.
///
/// This is `gen_statem` with Swift types. The handler reads an event, the current state and the data, may
/// mutate the data, and returns a ``Transition`` (where to go and which ``Action``s to take). It never sleeps,
/// awaits or reads the clock: time arrives as timeout events, and async work is an ``Action/run(cancelOnStateExit:_:then:)``
/// effect whose result comes back as an event. That keeps every machine deterministic and testable step by step.
///
/// ```swift
/// struct Account: StateMachine {
///     enum State: Hashable, Sendable { case open, frozen }
///     enum Call: Sendable { case balance(Reply<Int>) }
///     enum Cast: Sendable { case deposit(Int), freeze }
///
///     func start() -> Start<Self> { .ok(.open, data: 0) }
///
///     func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
///         switch (state, event) {
///         case (_, .call(.balance(let reply))): return .keep(.reply(reply, data))
///         case (.open, .cast(.deposit(let amount))): data += amount; return .keep
///         case (.open, .cast(.freeze)): return .goto(.frozen)
///         default: return .keep
///         }
///     }
/// }
/// ```
///
/// Concurrency: a machine value is shared by the runtime and must be `Sendable`; the runtime never runs two
/// handler calls of one server at the same time, so `handle` needs no locking of its own.
public protocol StateMachine: Sendable {
    /// The machine's states, usually an enum. A state change is `newState != state`.
    associatedtype State: Hashable & Sendable
    /// The extended state ("data" in `gen_statem`), owned by the server and passed `inout` to the handler.
    associatedtype Data: Sendable = Void
    /// Requests with a reply; each case carries a ``Reply`` handle that fixes its reply type.
    associatedtype Call: Sendable = Never
    /// Fire-and-forget messages.
    associatedtype Cast: Sendable = Never
    /// Everything else: notifications, effect results, messages sent to self, internal events.
    associatedtype Info: Sendable = Never
    /// Names of generic (named) timeouts.
    associatedtype Timer: Hashable & Sendable = Never
    /// What a timeout event carries; replaced by the `update` forms of the timeout actions.
    associatedtype Timeout: Sendable = Void

    /// Whether the handler is called with ``Event/enter(from:)`` after every state change, on
    /// `repeatState`, and for the initial state (`gen_statem`'s `state_enter` mode). Defaults to `false`.
    var callsStateEnter: Bool { get }

    /// The initial state, data and actions (`init/1`). Runs on the starter's thread before `start` returns.
    func start() throws -> Start<Self>

    /// Handles one event in `state`, mutating `data`, and says what happens next.
    ///
    /// Throwing stops the server with ``ExitReason/error(_:)``.
    func handle(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self>

    /// Called once when the server stops, except when it is killed or ended by the exit signal of a linked server
    /// (it does not trap exits), with the state and data
    /// at that moment. Replies of a `stopAndReply` have already been sent. Throwing replaces the exit reason.
    func terminate(reason: ExitReason, state: State, data: Data) throws
}

extension StateMachine {
    /// State-enter calls are off unless the machine opts in.
    public var callsStateEnter: Bool { false }

    /// Does nothing.
    public func terminate(reason: ExitReason, state: State, data: Data) throws {}
}

/// What a machine's `start` returns: the outcomes of `gen_statem`'s `init/1`.
///
/// ```swift
/// func start() -> Start<Self> { .ok(.red, .stateTimeout(.seconds(30))) }   // {ok, red, Data, [{state_timeout, …}]}
/// func start() -> Start<Self> { .ok(.idle, data: Data()) }                   // {ok, idle, Data}
/// func start() -> Start<Self> { .ignore }                                    // ignore
/// func start() -> Start<Self> { .stop(.error(ConfigError.missing)) }         // {stop, Reason}
/// ```
///
/// A start keeps its actions as a ``Transition`` does: none or one allocate nothing, two are kept inline, more in
/// one heap block.
public struct Start<M: StateMachine>: Sendable {
    @usableFromInline
    enum Outcome: Sendable {
        /// The initial state and data, and the actions of the transition into it (its target is never read).
        case ok(M.State, M.Data, Transition<M>)
        case ignore
        case stop(ExitReason)
        case error(any Error)
    }

    @usableFromInline let outcome: Outcome

    @inlinable init(_ outcome: Outcome) { self.outcome = outcome }

    /// Start in `state` with `data`, then take `actions` as if transitioning into the initial state
    /// (a `postpone` is ignored; next events, timeouts and replies are allowed).
    @inlinable public static func ok(_ state: M.State, data: M.Data, actions: __owned [Action<M>]) -> Start {
        Start(.ok(state, data, Transition(.keep, actions)))
    }

    /// Starts in `state` with `data` and no actions.
    @inlinable public static func ok(_ state: M.State, data: M.Data) -> Start {
        Start(.ok(state, data, Transition(.keep)))
    }

    /// Starts in `state` with `data` and one action.
    @inlinable public static func ok(_ state: M.State, data: M.Data, _ action: Action<M>) -> Start {
        Start(.ok(state, data, Transition(.keep, first: action)))
    }

    /// Starts in `state` with `data` and the given actions.
    @inlinable public static func ok(_ state: M.State, data: M.Data, _ actions: Action<M>...) -> Start {
        Start(.ok(state, data, Transition(.keep, actions)))
    }

    /// Do not start; the starter gets ``StateServerError/Code/ignored``.
    @inlinable public static var ignore: Start { Start(.ignore) }

    /// Do not start; the starter gets ``StateServerError/Code/startFailed`` with this reason.
    @inlinable public static func stop(_ reason: ExitReason) -> Start { Start(.stop(reason)) }

    /// Do not start, quietly (OTP 26's `{error, Reason}`); the starter gets `startFailed` with `.error(error)`.
    @inlinable public static func error(_ error: any Error) -> Start { Start(.error(error)) }

    /// The initial state, or nil when the start does not start the machine (for tests of a machine's `start`).
    public var state: M.State? {
        if case .ok(let state, _, _) = outcome { state } else { nil }
    }

    /// The initial data, or nil when the start does not start the machine.
    public var data: M.Data? {
        if case .ok(_, let data, _) = outcome { data } else { nil }
    }

    /// The actions taken on entering the initial state, in order (empty when the start does not start the
    /// machine).
    public var actions: [Action<M>] {
        if case .ok(_, _, let initial) = outcome { initial.actions } else { [] }
    }
}

extension Start where M.Data == Void {
    /// Starts in `state`, for machines without data, with no actions.
    @inlinable public static func ok(_ state: M.State) -> Start { Start(.ok(state, (), Transition(.keep))) }

    /// Starts in `state`, for machines without data, with one action.
    @inlinable public static func ok(_ state: M.State, _ action: Action<M>) -> Start {
        Start(.ok(state, (), Transition(.keep, first: action)))
    }

    /// Starts in `state`, for machines without data, with the given actions.
    @inlinable public static func ok(_ state: M.State, _ actions: Action<M>...) -> Start {
        Start(.ok(state, (), Transition(.keep, actions)))
    }
}
