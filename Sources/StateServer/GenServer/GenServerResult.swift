/// What a ``GenServer`` callback returns: reply or not, go on or stop, and what follows.
///
/// | `gen_server`                         | `GenServerResult`                                   |
/// |--------------------------------------|-----------------------------------------------------|
/// | `{reply, R, S}`                      | `.reply(handle, r)`                                 |
/// | `{reply, R, S, Timeout}`             | `.reply(handle, r, timeout: .seconds(5))`           |
/// | `{reply, R, S, {continue, C}}`       | `.reply(handle, r, continue: c)`                    |
/// | `{noreply, S}`                       | `.noreply`                                          |
/// | `{noreply, S, Timeout}`              | `.noreply(timeout: .seconds(5))`                    |
/// | `{noreply, S, {continue, C}}`        | `.noreply(continue: c)`                             |
/// | `{stop, Reason, S}`                  | `.stop(reason)`                                     |
/// | `{stop, Reason, R, S}`               | `.stop(reason, reply: handle, r)`                   |
///
/// The state is not part of the result: callbacks change it in place (`state: inout`).
///
/// Every form except the stops also takes ``Action``s, performed in order when the callback returns:
/// `.send(.tick, after: .seconds(1), reference: ref)` (`Process.send_after`), `.cancelSend(ref)`
/// (`Process.cancel_timer`), `.run { … } then: { … }` (async work whose result arrives in `handleInfo`),
/// `.reply(otherHandle, value)` (answer a call kept earlier), `.report("…")`. `postpone` has no meaning in a
/// single-state server and stops it with an ``StateServerError/Code/invalidAction`` error.
///
/// **Inactivity timeout.** `timeout:` starts a timer cancelled by the next message of any kind (call, cast, info,
/// a message to self, an effect's result); if none arrives in time, ``GenServer/handleTimeout(state:)`` runs. A
/// result without `timeout:` leaves no timeout running. System requests (`status`, `getState`, `suspend`) do not
/// cancel or restart it (OTP 28's behaviour). `timeout: .zero` differs from `gen_server`: the timeout is
/// delivered right after the callback, even if messages are already waiting in the mailbox, where `gen_server`
/// would handle a waiting message instead and drop the timeout.
///
/// **Continue.** `continue:` runs ``GenServer/handleContinue(_:state:)`` next, before any message already waiting
/// in the mailbox; it may return another `continue:`.
public struct GenServerResult<Server: GenServer>: Sendable {
    enum Outcome: Sendable {
        case proceed([Action<Server>], GenServerFollowUp<Server.Continue>)
        case stop(ExitReason)
        case stopAndReply(ExitReason, PendingStopReply)
    }

    let outcome: Outcome

    private init(_ outcome: Outcome) { self.outcome = outcome }

    // MARK: Reply now

    /// Answers the call through `handle` with `value` and goes on, taking `actions`.
    public static func reply<Value>(_ handle: Reply<Value>, _ value: Value, _ actions: Action<Server>...) -> Self {
        Self(.proceed([.reply(handle, value)] + actions, .none))
    }

    /// Answers the call and starts an inactivity timeout of `timeout`.
    public static func reply<Value>(
        _ handle: Reply<Value>, _ value: Value, timeout: Duration, _ actions: Action<Server>...
    ) -> Self {
        Self(.proceed([.reply(handle, value)] + actions, .timeout(timeout)))
    }

    /// Answers the call, then runs ``GenServer/handleContinue(_:state:)`` with `work` before any other message.
    public static func reply<Value>(
        _ handle: Reply<Value>, _ value: Value, continue work: Server.Continue, _ actions: Action<Server>...
    ) -> Self {
        Self(.proceed([.reply(handle, value)] + actions, .proceed(work)))
    }

    // MARK: No reply (or a reply later)

    /// Goes on without answering (a call then waits for a later ``Reply/send(_:)`` or `.reply` action).
    public static var noreply: Self { Self(.proceed([], .none)) }

    /// Goes on without answering, taking `actions`.
    public static func noreply(_ actions: Action<Server>...) -> Self { Self(.proceed(actions, .none)) }

    /// Goes on without answering, taking `actions`.
    public static func noreply(actions: [Action<Server>]) -> Self { Self(.proceed(actions, .none)) }

    /// Goes on and starts an inactivity timeout of `timeout`.
    public static func noreply(timeout: Duration, _ actions: Action<Server>...) -> Self {
        Self(.proceed(actions, .timeout(timeout)))
    }

    /// Goes on, then runs ``GenServer/handleContinue(_:state:)`` with `work` before any other message.
    public static func noreply(continue work: Server.Continue, _ actions: Action<Server>...) -> Self {
        Self(.proceed(actions, .proceed(work)))
    }

    // MARK: Stop

    /// Stops normally: ``GenServer/terminate(reason:state:)`` runs, then the server ends. A caller still waiting
    /// for a reply gets ``StateServerError/Code/serverExited``.
    public static var stop: Self { Self(.stop(.normal)) }

    /// Stops with `reason` (`{stop, Reason, State}`).
    public static func stop(_ reason: ExitReason) -> Self { Self(.stop(reason)) }

    /// Stops with `reason` and answers the call with `value` **after** ``GenServer/terminate(reason:state:)`` has
    /// run (`{stop, Reason, Reply, State}`; unlike a state machine's `stopAndReply`, which answers first). The
    /// reply is sent even if `terminate` throws.
    public static func stop<Value>(_ reason: ExitReason, reply handle: Reply<Value>, _ value: Value) -> Self {
        Self(.stopAndReply(reason, PendingStopReply(slot: handle.slot.cell, value: ReplyValue(value))))
    }
}
