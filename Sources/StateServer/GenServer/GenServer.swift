/// A server with one piece of state and the `gen_server` callbacks: `initialize`, `handleCall`, `handleCast`,
/// `handleInfo`, `handleContinue`, `handleTimeout` and `terminate`.
///
/// A `GenServer` is a ``StateMachine`` with a single state (a `gen_server` is a `gen_statem` with one state), so
/// it runs on the same engine and runtime, and `runtime.start(_:)` returns the same ``Server`` handle:
///
/// ```swift
/// struct Counter: GenServer {
///     enum Call: Sendable { case increment(Reply<Int>), value(Reply<Int>) }
///     enum Cast: Sendable { case reset }
///
///     func initialize() -> GenServerStart<Self> { .ok(0) }
///
///     func handleCall(_ request: Call, state count: inout Int) -> GenServerResult<Self> {
///         switch request {
///         case .increment(let reply): count += 1; return .reply(reply, count)
///         case .value(let reply): return .reply(reply, count)
///         }
///     }
///
///     func handleCast(_ message: Cast, state count: inout Int) -> GenServerResult<Self> {
///         switch message {
///         case .reset: count = 0; return .noreply
///         }
///     }
/// }
///
/// let counter = try runtime.start(Counter())       // Server<Counter>
/// let one = try await counter.call { .increment($0) }
/// try counter.cast(.reset)
/// ```
///
/// **The server's state is ``ServerState``, which is the machine's `Data`.** Swift infers it from the
/// callbacks' `state:` parameter, and `Call`, `Cast`, `Info` and `Continue` from the nested types of those
/// names (each `Never` when absent), so no typealias is needed (only a server none of whose callbacks names its
/// state needs `typealias ServerState = …`). The machine's `State` is fixed to ``GenServerPhase``: do not
/// declare a nested type named `State` in a `GenServer` (name your state type `Store`, `Sessions`, …).
///
/// **Callbacks and their `gen_server` counterparts.**
/// - ``initialize()`` is `init/1`; it returns a ``GenServerStart``: `.ok(state)`, `.ok(state, timeout:)`,
///   `.ok(state, continue:)`, `.ignore`, `.stop(reason)`, `.error(error)`.
/// - ``handleCall(_:state:)``, ``handleCast(_:state:)``, ``handleInfo(_:state:)``,
///   ``handleContinue(_:state:)`` and ``handleTimeout(state:)`` return a ``GenServerResult``: `.reply(handle,
///   value)`, `.noreply`, `.stop(reason)`, `.stop(reason, reply: handle, value)`; the first two optionally with
///   an inactivity `timeout:` or a `continue:` (one or the other, like `gen_server`'s optional last element), and
///   with ``Action``s such as ``Action/send(_:after:reference:)``.
/// - A call is answered through the ``Reply`` handle its case carries: now with `.reply(handle, value)`, or later
///   by keeping the handle in the state and answering with ``Reply/send(_:)`` or a `.reply` action
///   (`GenServer.reply/2`).
/// - ``handleDown(_:reason:state:)`` and ``handleExit(from:reason:state:)`` receive what `gen_server` delivers
///   to `handle_info` as `{'DOWN', …}` and `{'EXIT', …}` messages.
/// - ``terminate(reason:state:)`` is `terminate/2`.
///
/// Only `initialize` is required, plus `handleCall` when the server has a `Call` type, `handleCast` when it has a
/// `Cast` type and `handleContinue` when it has a `Continue` type. The default ``handleInfo(_:state:)`` reports an
/// unexpected message as a warning and keeps running, as `gen_server` does without `handle_info/2`.
///
/// Not carried over from `gen_server`: hibernation and `code_change` (a Swift process does not swap code while
/// it runs; start a new server with the new type instead), and `format_status`.
///
/// Concurrency: a `GenServer` value is shared by the runtime and must be `Sendable`; the runtime never runs two
/// callbacks of one server at the same time, so the callbacks need no locking. The server's state is only ever
/// touched by the callbacks.
public protocol GenServer: StateMachine
where State == GenServerPhase, Data == ServerState, Timeout == GenServerSignal<Continue> {
    /// The server's state (`gen_server`'s `State`), the machine's `Data`. Inferred from the callbacks'
    /// `state:` parameter.
    associatedtype ServerState: Sendable

    /// Any other message (``StateMachine/Info``), restated here so that Swift can infer `Never` for a server
    /// without one while ``handleInfo(_:state:)`` has a default.
    associatedtype Info = Never

    /// What a `continue:` carries to ``handleContinue(_:state:)`` (`{continue, Term}`); `Never` by default.
    associatedtype Continue: Sendable = Never

    /// Starts the server (`init/1`): its initial state, and optionally an inactivity timeout, a continue or
    /// actions. Runs on the starter's thread before ``Runtime/start(_:options:)`` returns; a `continue:` runs
    /// before `start` returns too.
    ///
    /// Throwing is the same as returning `.error(error)`: the starter gets ``StateServerError/Code/startFailed``.
    func initialize() throws -> GenServerStart<Self>

    /// Handles a request (`handle_call/3`). Answer through the ``Reply`` handle in the request: `.reply(handle,
    /// value)` now, or `.noreply` and later, from any callback or any thread, ``Reply/send(_:)``.
    ///
    /// Throwing stops the server with ``ExitReason/error(_:)``; the caller gets
    /// ``StateServerError/Code/serverExited`` with that reason.
    func handleCall(_ request: Call, state: inout ServerState) throws -> GenServerResult<Self>

    /// Handles a fire-and-forget message (`handle_cast/2`).
    func handleCast(_ message: Cast, state: inout ServerState) throws -> GenServerResult<Self>

    /// Handles any other message (`handle_info/2`): ``Server/send(_:)``, messages sent to self with
    /// ``Action/send(_:after:reference:)``, results of ``Action/run(cancelOnStateExit:_:then:)`` effects, and
    /// events inserted with ``Action/next(_:)``.
    ///
    /// The default reports the message with ``Action/report(_:)`` (a warning for the runtime's reporter and the
    /// observer) and keeps running, as `gen_server` logs and drops a message when `handle_info/2` is missing.
    func handleInfo(_ message: Info, state: inout ServerState) throws -> GenServerResult<Self>

    /// Continues work asked for with `continue:` (`handle_continue/2`): runs right after the callback that asked
    /// for it, before any message already waiting in the mailbox. It may ask for another continue (a chain).
    func handleContinue(_ work: Continue, state: inout ServerState) throws -> GenServerResult<Self>

    /// Called when an inactivity timeout expires: a `timeout:` was given by the last callback and no message
    /// arrived in that time (`handle_info(timeout, State)`).
    ///
    /// The default reports the unexpected timeout with ``Action/report(_:)`` and keeps running.
    func handleTimeout(state: inout ServerState) throws -> GenServerResult<Self>

    /// Called when a server this one monitors ends (see ``Server/monitor(by:)``); `gen_server` delivers this to
    /// `handle_info` as `{'DOWN', Ref, process, Pid, Reason}`. The default reports it and keeps running.
    func handleDown(
        _ monitor: MonitorReference, reason: ExitReason, state: inout ServerState
    ) throws -> GenServerResult<Self>

    /// Called when a linked server ends while this one traps exits (``ServerOptions/trapsExits``); `gen_server`
    /// delivers this to `handle_info` as `{'EXIT', Pid, Reason}`. The default reports it and keeps running.
    func handleExit(from server: ServerID, reason: ExitReason, state: inout ServerState) throws -> GenServerResult<Self>

    /// Called once when the server stops for any reason except ``ExitReason/killed`` (`terminate/2`), with its
    /// final state. After `.stop(reason, reply: handle, value)`, the reply is sent after this returns (or throws),
    /// as `gen_server` does. Throwing replaces the exit reason with ``ExitReason/error(_:)``. Does nothing by
    /// default.
    func terminate(reason: ExitReason, state: ServerState) throws
}

extension GenServer {
    /// Reports the unexpected message and keeps running.
    public func handleInfo(_ message: Info, state: inout ServerState) throws -> GenServerResult<Self> {
        .noreply(.report("unexpected info \(message) for \(Self.self), which does not implement handleInfo"))
    }

    /// Reports the unexpected inactivity timeout and keeps running.
    public func handleTimeout(state: inout ServerState) throws -> GenServerResult<Self> {
        .noreply(.report("inactivity timeout for \(Self.self), which does not implement handleTimeout"))
    }

    /// Reports the end of the monitored server and keeps running.
    public func handleDown(
        _ monitor: MonitorReference, reason: ExitReason, state: inout ServerState
    ) throws -> GenServerResult<Self> {
        .noreply(.report(
            "unexpected down(\(monitor), \(reason)) for \(Self.self), which does not implement handleDown"))
    }

    /// Reports the end of the linked server and keeps running.
    public func handleExit(
        from server: ServerID, reason: ExitReason, state: inout ServerState
    ) throws -> GenServerResult<Self> {
        .noreply(.report(
            "unexpected exit(\(server), \(reason)) for \(Self.self), which does not implement handleExit"))
    }

    /// Does nothing.
    public func terminate(reason: ExitReason, state: ServerState) throws {}
}

extension GenServer where Call == Never {
    /// A server without requests has no calls to handle.
    public func handleCall(_ request: Never, state: inout ServerState) throws -> GenServerResult<Self> {}
}

extension GenServer where Cast == Never {
    /// A server without casts has no casts to handle.
    public func handleCast(_ message: Never, state: inout ServerState) throws -> GenServerResult<Self> {}
}

extension GenServer where Continue == Never {
    /// A server that never continues has no continue to handle.
    public func handleContinue(_ work: Never, state: inout ServerState) throws -> GenServerResult<Self> {}
}
