/// What one engine step asks the runtime to do; the engine performs no I/O itself.
///
/// Every case's payload stays under three words (the rare, larger ones are `indirect`): the compiler copies and
/// destroys enums with larger payloads through the runtime's value witnesses.
@usableFromInline
enum EngineCommand<M: StateMachine>: Sendable {
    /// Arm (or re-arm) the real timer for `kind`; when it fires, feed the arm's generation back in.
    case armTimer(TimerArm, TimeoutKind<M.Timer>)
    /// Disarm the real timer for `kind`.
    case cancelTimer(TimeoutKind<M.Timer>)
    /// Start async work.
    indirect case startEffect(Effect<M>)
    /// The state changed: cancel the effects bound to the old state, that is every bound effect except those
    /// started by commands at index `startedFrom` or later (the transition's own).
    case cancelStateEffects(startedFrom: Int)
    /// Deliver `info` to this server's own mailbox, now or after a delay.
    indirect case sendToSelf(M.Info, after: Duration?, SelfMessageReference?)
    /// Cancel a delayed message to self.
    case cancelSendToSelf(SelfMessageReference)
    /// Report a warning.
    case report(String)
}

/// One observable step of a server, for observers, traces and the test kit.
public enum TraceEvent<M: StateMachine>: Sendable {
    /// The server started in `state`.
    case started(M.State)
    /// The handler is about to be called with `event` in `state`.
    case handling(Event<M>, in: M.State)
    /// The state changed.
    case transition(from: M.State, to: M.State)
    /// The current event was postponed.
    case postponed(Event<M>)
    /// A reply was sent to a caller (`wasDelivered` is false when it was dropped: answered twice or too late).
    case replied(any Sendable, wasDelivered: Bool)
    /// A timeout was armed.
    case timeoutArmed(TimeoutKind<M.Timer>, TimeoutTime)
    /// A timeout was cancelled (explicitly, by an event, or by a state change).
    case timeoutCancelled(TimeoutKind<M.Timer>)
    /// The server is stopping with `reason` in `state` (before `terminate`).
    case stopping(ExitReason, in: M.State)
    /// The server has ended with `reason` (after `terminate`); pending callers were told.
    case exited(ExitReason)
    /// A bounded mailbox with the `dropNewest` policy dropped a message.
    case messageDropped
    /// The server ended with this many messages still in its mailbox; they were not handled. (Callers among
    /// them got the exit reason.)
    case discardedAtExit(Int)
    /// The machine reported a warning with ``Action/report(_:)``.
    case reported(String)
}

/// The engine's reusable output buffer: the runtime keeps one per drain so a step allocates nothing.
@usableFromInline
struct EngineOutput<M: StateMachine>: Sendable {
    @usableFromInline var commands: [EngineCommand<M>] = []
    /// The traces of the step, or `nil` when nobody observes the server (then no trace is built at all).
    @usableFromInline var recordedTraces: [TraceEvent<M>]?

    @usableFromInline init(isTracing: Bool) { recordedTraces = isTracing ? [] : nil }

    /// The traces of the step.
    @inlinable var traces: [TraceEvent<M>] { recordedTraces ?? [] }

    @inlinable mutating func trace(_ event: @autoclosure () -> TraceEvent<M>) {
        if recordedTraces != nil { recordedTraces!.append(event()) }
    }

    /// Empties the buffer and frees its storage (kept between steps of a busy server, dropped when it goes idle).
    @inlinable mutating func releaseStorage() {
        commands = []
        if recordedTraces != nil { recordedTraces = [] }
    }

    @inlinable mutating func clear() {
        if !commands.isEmpty { commands.removeAll(keepingCapacity: true) }
        if recordedTraces?.isEmpty == false { recordedTraces!.removeAll(keepingCapacity: true) }
    }
}

/// When an armed timer is due, in two words and a flag: a delay from the moment the runtime performs the command,
/// or an instant on the runtime's timeline; with the generation the engine expects back when it fires.
@usableFromInline
struct TimerArm: Sendable {
    @usableFromInline let generation: UInt64
    /// Nanoseconds: the delay (relative) or the instant (absolute), saturated at the bounds of `Int64`.
    @usableFromInline let nanoseconds: Int64
    @usableFromInline let isRelative: Bool

    /// `time` must not be `.infinity` (an infinite timeout is never armed).
    @inlinable init(_ time: TimeoutTime, generation: UInt64) {
        self.generation = generation
        switch time {
        case .after(let duration):
            nanoseconds = duration.nanoseconds
            isRelative = true
        case .at(let instant):
            nanoseconds = instant.nanoseconds
            isRelative = false
        case .infinity:
            nanoseconds = .max
            isRelative = false
        }
    }
}
