/// What a ``GenServer``'s ``GenServer/initialize()`` returns: the outcomes of `gen_server`'s `init/1`.
///
/// ```swift
/// func initialize() -> GenServerStart<Self> { .ok([:]) }                          // {ok, State}
/// func initialize() -> GenServerStart<Self> { .ok(state, continue: .load) }        // {ok, State, {continue, load}}
/// func initialize() -> GenServerStart<Self> { .ok(state, timeout: .seconds(30)) }  // {ok, State, 30000}
/// func initialize() -> GenServerStart<Self> { .ok(state, .send(.tick, after: .seconds(1))) }
/// ```
public struct GenServerStart<Server: GenServer>: Sendable {
    enum Outcome: Sendable {
        case ok(Server.ServerState, [Action<Server>], GenServerFollowUp<Server.Continue>)
        case ignore
        case stop(ExitReason)
        case error(any Error)
    }

    let outcome: Outcome

    private init(_ outcome: Outcome) { self.outcome = outcome }

    /// Starts with `state`, taking `actions` (messages to self, effects, …) as the server starts.
    public static func ok(_ state: Server.ServerState, _ actions: Action<Server>...) -> Self {
        Self(.ok(state, actions, .none))
    }

    /// Starts with `state` and `actions`.
    public static func ok(_ state: Server.ServerState, actions: [Action<Server>]) -> Self {
        Self(.ok(state, actions, .none))
    }

    /// Starts with `state` and an inactivity timeout: ``GenServer/handleTimeout(state:)`` runs if no message
    /// arrives within `timeout` (`{ok, State, Timeout}`).
    public static func ok(_ state: Server.ServerState, timeout: Duration, _ actions: Action<Server>...) -> Self {
        Self(.ok(state, actions, .timeout(timeout)))
    }

    /// Starts with `state`, then runs ``GenServer/handleContinue(_:state:)`` with `work` before `start` returns
    /// and before any message (`{ok, State, {continue, Continue}}`): for slow setup after the start succeeded.
    public static func ok(
        _ state: Server.ServerState, continue work: Server.Continue, _ actions: Action<Server>...
    ) -> Self {
        Self(.ok(state, actions, .proceed(work)))
    }

    /// Does not start: the starter gets ``StateServerError/Code/ignored`` (`ignore`; a supervisor skips the
    /// child).
    public static var ignore: Self { Self(.ignore) }

    /// Does not start: the starter gets ``StateServerError/Code/startFailed`` with `reason` (`{stop, Reason}`).
    public static func stop(_ reason: ExitReason) -> Self { Self(.stop(reason)) }

    /// Does not start, quietly: the starter gets ``StateServerError/Code/startFailed`` with `.error(error)`
    /// (OTP 26's `{error, Reason}`).
    public static func error(_ error: any Error) -> Self { Self(.error(error)) }
}

/// What follows a callback: nothing, an inactivity timeout, or a continue (`gen_server`'s optional last element
/// `Timeout | {continue, Continue}`).
enum GenServerFollowUp<Continue: Sendable>: Sendable {
    case none
    case timeout(Duration)
    case proceed(Continue)
}
