/// Something a handler asks for alongside a transition: a reply, postponing the event, inserting an event,
/// setting a timeout, sending itself a message, or starting async work.
///
/// Actions run left to right when the handler returns, exactly as `gen_statem` processes its action list:
/// replies are sent at once; for postpone and each timeout kind the last action wins.
public struct Action<M: StateMachine>: Sendable {
    @usableFromInline
    enum Kind: Sendable {
        // Every case's payload stays under three words (the rare, larger ones are `indirect`): the compiler
        // copies and destroys enums with larger payloads through the runtime's value witnesses.
        case reply(ReplySlotBase, ReplyValue)
        case postpone(Bool)
        indirect case nextEvent(Event<M>)
        case timeout(TimeoutOperation<M.Timeout>, TimeoutKind<M.Timer>)
        indirect case effect(Effect<M>)
        indirect case sendToSelf(M.Info, after: Duration?, SelfMessageReference?)
        case cancelSendToSelf(SelfMessageReference)
        case report(String)
    }

    @usableFromInline let kind: Kind

    @usableFromInline init(_ kind: Kind) { self.kind = kind }

    // MARK: Replies and events

    /// Answers a call. Sent immediately while the actions are processed, before any state-enter call and before
    /// `terminate`. Answering through another server's handle stops this server with an `invalidAction` error;
    /// answering twice drops the second reply.
    @inlinable public static func reply<Value>(_ handle: Reply<Value>, _ value: Value) -> Action {
        Action(.reply(handle.slot.cell, ReplyValue(value)))
    }

    /// Postpones the current event until the state changes; it is then retried before the rest of the queue.
    @inlinable public static var postpone: Action { Action(.postpone(true)) }

    /// Sets or clears the postpone flag explicitly (`postpone(false)` is also allowed in state-enter calls).
    @inlinable public static func postpone(_ isPostponed: Bool) -> Action { Action(.postpone(isPostponed)) }

    /// Inserts an event to be handled next, ahead of every queued and postponed event and any new message.
    /// Several are handled in action order. Any kind of event may be inserted.
    @inlinable public static func nextEvent(_ event: Event<M>) -> Action { Action(.nextEvent(event)) }

    /// Inserts an internal event (``Event/internal(_:)``) to be handled next.
    @inlinable public static func next(_ info: M.Info) -> Action { Action(.nextEvent(.internal(info))) }

    // MARK: Timeouts

    /// Starts (or restarts) the event timeout, cancelled by any event the machine processes.
    @inlinable public static func eventTimeout(_ time: TimeoutTime, _ content: M.Timeout) -> Action {
        Action(.timeout(.set(time, content), .event))
    }

    /// Starts (or restarts) the state timeout, cancelled by a state change. Set in a transition that changes
    /// state, it belongs to the new state.
    @inlinable public static func stateTimeout(_ time: TimeoutTime, _ content: M.Timeout) -> Action {
        Action(.timeout(.set(time, content), .state))
    }

    /// Starts (or restarts) the named timeout `name`, cancelled only explicitly.
    @inlinable public static func timeout(_ name: M.Timer, _ time: TimeoutTime, _ content: M.Timeout) -> Action {
        Action(.timeout(.set(time, content), .named(name)))
    }

    /// Cancels the event timeout (also one that fired but was not yet handled).
    @inlinable public static var cancelEventTimeout: Action { Action(.timeout(.cancel, .event)) }
    /// Cancels the state timeout (also one that fired but was not yet handled).
    @inlinable public static var cancelStateTimeout: Action { Action(.timeout(.cancel, .state)) }
    /// Cancels the named timeout `name` (also one that fired but was not yet handled).
    @inlinable public static func cancelTimeout(_ name: M.Timer) -> Action { Action(.timeout(.cancel, .named(name))) }

    /// Replaces what the running event timeout will carry, keeping its deadline. With no running (or fired but
    /// unhandled) timer it behaves as a zero timeout with this content.
    @inlinable public static func updateEventTimeout(_ content: M.Timeout) -> Action { Action(.timeout(.update(content), .event)) }
    /// Replaces what the running state timeout will carry; see ``updateEventTimeout(_:)``.
    @inlinable public static func updateStateTimeout(_ content: M.Timeout) -> Action { Action(.timeout(.update(content), .state)) }
    /// Replaces what the named timeout will carry; see ``updateEventTimeout(_:)``.
    @inlinable public static func updateTimeout(_ name: M.Timer, _ content: M.Timeout) -> Action {
        Action(.timeout(.update(content), .named(name)))
    }

    // MARK: Messages to self and effects

    /// Sends `info` to this server's own mailbox, behind what is already queued, now or after `delay`
    /// (`send(self(), Msg)` / `Process.send_after`). Pass a `reference` to be able to cancel a delayed send.
    @inlinable public static func send(_ info: M.Info, after delay: Duration? = nil, reference: SelfMessageReference? = nil) -> Action {
        Action(.sendToSelf(info, after: delay, reference))
    }

    /// Cancels a delayed message sent to self that has not been delivered yet; nothing happens otherwise.
    @inlinable public static func cancelSend(_ reference: SelfMessageReference) -> Action { Action(.cancelSendToSelf(reference)) }

    /// Reports something worth a warning (an unexpected message, say) to the server's observer and the
    /// runtime's reporter, without stopping the server.
    @inlinable public static func report(_ message: String) -> Action { Action(.report(message)) }

    /// Runs async work off the server and delivers its outcome as an ``Event/info(_:)`` event.
    ///
    /// ```swift
    /// return .keep(.run { try await api.fetchQuote() } then: { .quoteFetched($0) })
    /// ```
    ///
    /// With `cancelOnStateExit`, the work is cancelled when the machine leaves the current state (its outcome
    /// is then not delivered).
    @inlinable public static func run<Value: Sendable>(
        cancelOnStateExit: Bool = false,
        _ operation: @escaping @Sendable () async throws -> Value,
        then deliver: @escaping @Sendable (Result<Value, any Error>) -> M.Info
    ) -> Action {
        Action(.effect(Effect(isBoundToState: cancelOnStateExit) {
            do { return deliver(.success(try await operation())) } catch { return deliver(.failure(error)) }
        }))
    }
}

extension Action where M.Timeout == Void {
    /// Starts (or restarts) the event timeout for a machine whose timeouts carry nothing.
    @inlinable public static func eventTimeout(_ time: TimeoutTime) -> Action { eventTimeout(time, ()) }
    /// Starts (or restarts) the event timeout after `duration`.
    @_disfavoredOverload
    @inlinable public static func eventTimeout(_ duration: Duration) -> Action { eventTimeout(.after(duration), ()) }
    /// Starts (or restarts) the state timeout for a machine whose timeouts carry nothing.
    @inlinable public static func stateTimeout(_ time: TimeoutTime) -> Action { stateTimeout(time, ()) }
    /// Starts (or restarts) the state timeout after `duration`.
    @_disfavoredOverload
    @inlinable public static func stateTimeout(_ duration: Duration) -> Action { stateTimeout(.after(duration), ()) }
    /// Starts (or restarts) the named timeout for a machine whose timeouts carry nothing.
    @inlinable public static func timeout(_ name: M.Timer, _ time: TimeoutTime) -> Action { timeout(name, time, ()) }
    /// Starts (or restarts) the named timeout `name` after `duration`.
    @_disfavoredOverload
    @inlinable public static func timeout(_ name: M.Timer, _ duration: Duration) -> Action { timeout(name, .after(duration), ()) }
}

/// Async work started by an ``Action/run(cancelOnStateExit:_:then:)`` action.
@usableFromInline
struct Effect<M: StateMachine>: Sendable {
    @usableFromInline let isBoundToState: Bool
    @usableFromInline let operation: @Sendable () async -> M.Info

    @usableFromInline init(isBoundToState: Bool, operation: @escaping @Sendable () async -> M.Info) {
        self.isBoundToState = isBoundToState
        self.operation = operation
    }
}
