/// How a server is started: its mailbox bound and an observer of everything it does.
public struct ServerOptions<M: StateMachine>: Sendable {
    /// What a bounded mailbox does with a message that does not fit.
    public enum OverflowPolicy: Sendable {
        /// The sender gets ``StateServerError/Code/mailboxFull`` (calls, casts and sends alike).
        case reject
        /// Casts and sends are dropped and counted in ``ServerStatus/droppedMessages`` (reported to the observer);
        /// a call still fails with ``StateServerError/Code/mailboxFull``, so every caller gets an outcome.
        case dropNewest
    }

    /// The most messages waiting in the mailbox, or `nil` for no bound. Timer fires, effect results and messages
    /// a server sends itself are never refused.
    public var mailboxCapacity: Int?
    /// What happens to a message that does not fit.
    public var overflowPolicy: OverflowPolicy
    /// Called, on the thread running the server, for every step of the server (see ``TraceEvent``). Keep it
    /// cheap and non-blocking. Without an observer, no trace is built at all.
    public var observer: (@Sendable (Server<M>.Observation) -> Void)?
    /// Whether the end of a linked server arrives as an ``Event/exit(_:_:)`` event instead of ending this server
    /// (`process_flag(trap_exit, true)`). Defaults to `false`: a linked server's abnormal end ends this one with
    /// the same reason, a normal end is ignored.
    public var trapsExits: Bool

    /// Creates options; by default the mailbox is unbounded, exits are not trapped and nothing observes the server.
    public init(
        mailboxCapacity: Int? = nil,
        overflowPolicy: OverflowPolicy = .reject,
        trapsExits: Bool = false,
        observer: (@Sendable (Server<M>.Observation) -> Void)? = nil
    ) {
        self.mailboxCapacity = mailboxCapacity
        self.overflowPolicy = overflowPolicy
        self.trapsExits = trapsExits
        self.observer = observer
    }
}

/// A snapshot of a server (`sys:get_status`): where it is, what it holds, and what is pending.
public struct ServerStatus<M: StateMachine>: Sendable {
    /// The server.
    public var id: ServerID
    /// The current state.
    public var state: M.State
    /// The current data.
    public var data: M.Data
    /// Whether the server is suspended (only system requests are handled).
    public var isSuspended: Bool
    /// Messages waiting in the mailbox.
    public var queuedMessages: Int
    /// Events postponed until the next state change.
    public var postponedEvents: Int
    /// The timeouts registered (running, zero-pending, or fired but not yet handled).
    public var timeouts: [TimeoutKind<M.Timer>]
    /// Messages dropped by a bounded mailbox with the `dropNewest` policy.
    public var droppedMessages: Int
    /// The most messages the mailbox has held at once.
    public var mailboxHighWaterMark: Int
    /// Events handled so far (messages, inserted events, timeouts).
    public var handledEvents: Int
}

/// A server's state and data at one moment (`sys:get_state`).
public struct StateSnapshot<M: StateMachine>: Sendable {
    /// The state.
    public var state: M.State
    /// The data.
    public var data: M.Data
}
