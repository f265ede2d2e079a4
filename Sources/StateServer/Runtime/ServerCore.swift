import Synchronization

/// A message waiting in a server's mailbox.
@usableFromInline
enum Message<M: StateMachine>: Sendable {
    case event(Event<M>)
    case timer(TimeoutKind<M.Timer>, generation: UInt64)
    case delayedInfo(SelfSendNode<M>)
    indirect case effectDone(M.Info, token: UInt64)
}

/// A request handled between messages, also while suspended (the `sys` messages of OTP).
@usableFromInline
enum SystemRequest<M: StateMachine>: Sendable {
    case status(ReplySlot<ServerStatus<M>>)
    case getState(ReplySlot<StateSnapshot<M>>)
    indirect case replaceState(@Sendable (inout M.State, inout M.Data) throws -> Void, ReplySlot<StateSnapshot<M>>)
    case suspend(ReplySlot<Void>)
    case resume(ReplySlot<Void>)
    case stop(ExitReason)
    case kill
    /// A linked server ended: trap it as an event, or end this server too.
    indirect case linkedExit(ServerID, ExitReason)

    var slot: ReplySlotBase? {
        switch self {
        case .status(let slot): slot.cell
        case .getState(let slot), .replaceState(_, let slot): slot.cell
        case .suspend(let slot), .resume(let slot): slot.cell
        case .stop, .kill, .linkedExit: nil
        }
    }
}

/// What a server's ``ServerCore/entry`` is asked to do: a run-queue turn, or a step of telling a fired timer
/// (queue it only; or the two steps of telling it on a worker, ``TimerNode/claim(_:generation:)`` and
/// ``TimerNode/runClaimed(_:generation:_:)``).
@usableFromInline
enum EntryStep {
    case runBatch
    case queueFire
    case claimFire
    case runClaimedFire(TimerClaim)
}

/// The part of a server shared between threads, guarded by the server's lock.
@usableFromInline
struct Mailbox<M: StateMachine>: ~Copyable {
    /// `idle`: nobody owns the server and it has no work. `scheduled`: it is in the run queue and nobody owns it
    /// yet; the first to claim it under the lock (a worker, or a caller that drains it itself) becomes its owner.
    /// `running`: owned.
    @usableFromInline enum Status { case idle, scheduled, running }

    /// Messages and system requests in arrival order (as `sys` messages share a process's mailbox in OTP): the
    /// oldest ``segmentCapacity`` or so here, the rest in ``MailboxExtras/segments`` (see ``append(_:)``). Empty
    /// only when the whole mailbox is.
    @usableFromInline var items = RingBuffer<MailboxItem<M>>()
    /// How many of `items` are messages (not system requests).
    @usableFromInline var messageCount: UInt32 = 0
    /// How many of `items` are system requests.
    @usableFromInline var systemCount: UInt32 = 0
    /// `running` from the start: the starter owns a new server until ``ServerCore/completeStart(_:)`` releases it
    /// (a timer the start arms may fire before that and must only queue).
    @usableFromInline var status = Status.running
    @usableFromInline var isSuspended = false
    /// Whether the server has ended. Its reason is the engine's, written once before this is set under the lock
    /// and never changed after, so any thread that saw this under the lock may read it.
    @usableFromInline var isTerminated = false
    /// How far the owner is in ending the server: ``ServerCore/finish()`` runs once, from `none` to `finishing`;
    /// `told` once the ended server has told its observer and exit observers. An exit observer added before that
    /// waits its turn (so that nobody learns of the end before the server's own observer has seen it). One byte
    /// for both, to keep the mailbox in its 48 bytes.
    @usableFromInline var exitStage = ExitStage.none
    @usableFromInline enum ExitStage { case none, finishing, told }
    /// The most messages the mailbox has held at once.
    @usableFromInline var highWaterMark: UInt32 = 0
    /// What few servers ever need (waiting callers, monitors, drop counts), allocated on first use so an idle
    /// server pays one word for it.
    @usableFromInline var extras: MailboxExtras<M>?

    /// Callers waiting for a reply from this server; failed with the exit reason when it ends.
    @inlinable var waiters: [ReplySlotBase] {
        get { extras?.waiters ?? [] }
        _modify {
            if extras == nil { extras = MailboxExtras() }
            yield &extras!.waiters
        }
    }

    /// When `waiters` next gets pruned of answered callers.
    @inlinable var waitersPruneThreshold: Int {
        get { extras?.waitersPruneThreshold ?? 16 }
        _modify {
            if extras == nil { extras = MailboxExtras() }
            yield &extras!.waitersPruneThreshold
        }
    }

    /// Who is told when the server ends (monitors, links, `waitForExit`, the registry).
    @inlinable var exitObservers: [UInt64: @Sendable (ExitReason) -> Void] {
        get { extras?.exitObservers ?? [:] }
        _modify {
            if extras == nil { extras = MailboxExtras() }
            yield &extras!.exitObservers
        }
    }

    /// Messages dropped by the `dropNewest` policy.
    @inlinable var droppedMessages: Int {
        get { extras?.droppedMessages ?? 0 }
        _modify {
            if extras == nil { extras = MailboxExtras() }
            yield &extras!.droppedMessages
        }
    }

    @inlinable init() {}

    // MARK: The queue

    /// How many items `items` takes before later ones go to fixed-size segments.
    ///
    /// A ring that grew by doubling, as `items` alone did, copied the whole queue into a fresh block each time it
    /// filled, under the lock: with a sender millions of messages ahead of a busy server, a copy of tens of
    /// megabytes into pages the kernel had to fault in and zero, with the server and every sender waiting (a
    /// quarter of the cast stream's samples, `__memmove` and page faults). Segments are filled in place and handed
    /// to the front when it empties, so an item is written once and read once however long the queue grows.
    @inlinable static var segmentCapacity: Int { 256 }

    /// Whether the mailbox holds nothing (the front is empty only when the segments are too).
    @inlinable var isEmpty: Bool { items.isEmpty }

    /// The oldest item, not removed.
    @inlinable var first: MailboxItem<M>? { items.first }

    /// Queues `item` behind everything.
    @inlinable
    mutating func append(_ item: MailboxItem<M>) {
        if items.count < Self.segmentCapacity, extras?.segments.isEmpty ?? true {
            items.append(item)
        } else {
            if extras == nil { extras = MailboxExtras() }
            extras.unsafelyUnwrapped.segments.append(item, segmentCapacity: Self.segmentCapacity)
        }
    }

    /// Puts `item` in front of everything.
    @inlinable
    mutating func prepend(_ item: MailboxItem<M>) { items.prepend(item) }

    /// Removes and returns the oldest item.
    @inlinable
    mutating func popFirst() -> MailboxItem<M>? {
        // An empty front means an empty mailbox: nothing to refill then.
        guard let item = items.popFirst() else { return nil }
        if items.isEmpty, let extras, !extras.segments.isEmpty { extras.segments.moveFirst(into: &items) }
        return item
    }

    /// Removes every item, returning them oldest first.
    @inlinable
    mutating func removeAll() -> [MailboxItem<M>] {
        var all: [MailboxItem<M>] = []
        while let item = popFirst() { all.append(item) }
        items = RingBuffer()
        extras?.segments = RingSegments()
        return all
    }

    /// Removes and returns the oldest item for which `predicate` is true, keeping the order of the rest. O(n).
    @inlinable
    mutating func removeFirst(where predicate: (MailboxItem<M>) -> Bool) -> MailboxItem<M>? {
        guard let extras, !extras.segments.isEmpty else { return items.removeFirst(where: predicate) }
        var found: MailboxItem<M>?
        for item in removeAll() {
            if found == nil, predicate(item) { found = item } else { append(item) }
        }
        return found
    }
}

/// One entry of a mailbox: a message, or a system request handled in its turn (also while suspended).
@usableFromInline
enum MailboxItem<M: StateMachine>: Sendable {
    case message(Message<M>)
    case system(SystemRequest<M>)
}

/// The rarely used part of a mailbox, guarded by the same lock.
@usableFromInline
final class MailboxExtras<M: StateMachine>: @unchecked Sendable {
    // Safety: only reached through `Mailbox`, which lives inside the server's lock.
    @usableFromInline var waiters: [ReplySlotBase] = []
    @usableFromInline var waitersPruneThreshold = 16
    @usableFromInline var exitObservers: [UInt64: @Sendable (ExitReason) -> Void] = [:]
    @usableFromInline var droppedMessages = 0
    /// A long mailbox's items after its first ``Mailbox/segmentCapacity``.
    @usableFromInline @exclusivity(unchecked) var segments = RingSegments<MailboxItem<M>>()

    @usableFromInline init() {}
}

/// The rarely used owner state of a server (the event timer, named timers, delayed messages to self, running
/// effects), allocated on first use.
@usableFromInline
final class OwnerExtras<M: StateMachine> {
    @usableFromInline var eventTimerNode: EngineTimerNode<M>?
    @usableFromInline var namedTimerNodes: [M.Timer: EngineTimerNode<M>] = [:]
    @usableFromInline var delayedSends: [UInt64: SelfSendNode<M>] = [:]
    @usableFromInline var effects: [UInt64: (task: Task<Void, Never>, isBoundToState: Bool)] = [:]

    @usableFromInline init() {}
}

/// How a server was started, when it was not with the default options (kept out of line: most servers use
/// the defaults).
@usableFromInline
final class ServerSettings<M: StateMachine>: Sendable {
    @usableFromInline let capacity: Int?
    @usableFromInline let overflowPolicy: ServerOptions<M>.OverflowPolicy
    @usableFromInline let observer: (@Sendable (Server<M>.Observation) -> Void)?
    @usableFromInline let trapsExits: Bool

    @usableFromInline init(_ options: ServerOptions<M>) {
        capacity = options.mailboxCapacity
        overflowPolicy = options.overflowPolicy
        observer = options.observer
        trapsExits = options.trapsExits
    }
}

/// What `enqueue` decided under the lock.
@usableFromInline
enum EnqueueOutcome { case result(EnqueueResult), schedule }

/// The outcome of putting a message in a mailbox.
@usableFromInline
enum EnqueueResult {
    /// The server had ended.
    case dead
    /// The bounded mailbox was full and rejects.
    case full
    /// The message was dropped by the `dropNewest` policy.
    case dropped
    /// Queued; the server is already scheduled or running (or suspended).
    case queued
    /// Not queued: the caller took ownership of the idle server and must hand the message to
    /// ``ServerCore/drain(first:budget:)`` now.
    case runInline
    /// Queued behind others, and the caller took ownership of the server, which was waiting in the run queue for
    /// a worker: it must drain it now, `items` of its mailbox (its own message last), with
    /// ``ServerCore/drainClaimed(items:)``.
    case drainQueued(items: Int)
}

/// A server's engine hosted in the runtime: the mailbox, the drain loop, and the bridge from engine commands to
/// timers, effects and callers.
///
/// Ownership: whoever moves the mailbox status to running under the lock owns every field marked "owner" until it
/// sets the status back; only that thread touches them. A caller does so from idle (an inline call) or from
/// scheduled (a call that finds the server waiting in the run queue); a worker from scheduled, when it takes the
/// server from the run queue (an entry that finds it claimed or idle is stale and does nothing).
///
/// The core is also the timer node of the server's state timeout (the commonest timer), so a machine waiting on
/// one is a single heap block.
@usableFromInline
final class ServerCore<M: StateMachine>: ServerTimerNode<M>, Schedulable, @unchecked Sendable {
    // Safety: `mailbox` is a mutex; every other `var` is owner state, accessed only by the thread that owns
    // the drain (see the type's documentation), which the mailbox status hands over with a lock. The same
    // invariant makes the dynamic exclusivity checks on the hottest owner fields redundant, so they are
    // `@exclusivity(unchecked)`: only the owner touches them, and never re-entrantly.
    //
    // Layout: stored properties are laid out in declaration order, and the mailbox, which every sender writes, is
    // last, after the fields the owner rarely reads (the drain entry, the identity), so that the engine and the
    // fields a drain reads on every step do not share a cache line with it. Otherwise each message a sender
    // queues while the server is draining costs the owner a cache miss on its own fields (measured: 8% of the
    // samples of a producer casting state changes at full speed, on the loads of `runtime` and `settings`).
    @usableFromInline let runtime: Runtime
    /// Non-default start options, or nil.
    @usableFromInline let settings: ServerSettings<M>?
    /// The mailbox bound, if any.
    @inlinable var capacity: Int? { settings?.capacity }
    /// What a full bounded mailbox does.
    @inlinable var overflowPolicy: ServerOptions<M>.OverflowPolicy { settings?.overflowPolicy ?? .reject }
    /// Who sees every step.
    @inlinable var observer: (@Sendable (Server<M>.Observation) -> Void)? { settings?.observer }
    /// Whether linked exits arrive as events.
    @inlinable var trapsExits: Bool { settings?.trapsExits ?? false }

    // Owner state.
    @usableFromInline @exclusivity(unchecked) var engine: Engine<M>
    /// The event timer, named timers, delayed messages to self and effects, allocated on first use.
    @usableFromInline @exclusivity(unchecked) var extras: OwnerExtras<M>?

    /// ``enter(_:timer:generation:)``, created where the machine type is concrete, so that worker threads and
    /// timers run the specialized drain rather than the generic one.
    @usableFromInline let entry: @Sendable (ServerCore<M>, TimerNode?, UInt64, EntryStep) -> TimerClaim
    @usableFromInline let id: ServerID
    @usableFromInline let mailbox = Locked(Mailbox<M>())

    @inlinable var eventTimerNode: EngineTimerNode<M>? {
        get { extras?.eventTimerNode }
        _modify {
            if extras == nil { extras = OwnerExtras() }
            yield &extras!.eventTimerNode
        }
    }

    @inlinable var namedTimerNodes: [M.Timer: EngineTimerNode<M>] {
        get { extras?.namedTimerNodes ?? [:] }
        _modify {
            if extras == nil { extras = OwnerExtras() }
            yield &extras!.namedTimerNodes
        }
    }

    @inlinable var delayedSends: [UInt64: SelfSendNode<M>] {
        get { extras?.delayedSends ?? [:] }
        _modify {
            if extras == nil { extras = OwnerExtras() }
            yield &extras!.delayedSends
        }
    }

    @inlinable var effects: [UInt64: (task: Task<Void, Never>, isBoundToState: Bool)] {
        get { extras?.effects ?? [:] }
        _modify {
            if extras == nil { extras = OwnerExtras() }
            yield &extras!.effects
        }
    }

    /// Messages drained per activation before the server yields its worker to others.
    @inlinable static var batchSize: Int { 64 }

    @inlinable
    init(
        id: ServerID, runtime: Runtime, machine: M, state: M.State, data: M.Data, options: ServerOptions<M>,
        entry: @escaping @Sendable (ServerCore<M>, TimerNode?, UInt64, EntryStep) -> TimerClaim
    ) {
        self.id = id
        self.runtime = runtime
        // Built in place: a generic engine value copied into the field goes through the value witnesses.
        self.engine = Engine(machine: machine, serverID: id, state: state, data: data)
        let isDefault = options.mailboxCapacity == nil && options.observer == nil && !options.trapsExits
        self.settings = isDefault ? nil : ServerSettings(options)
        self.entry = entry
        super.init()
    }

    /// Runs the transition into the initial state with the start's actions (`initial`'s) and performs it (the
    /// starter owns the new server until this returns).
    @inlinable
    func completeStart(_ initial: Transition<M>) {
        withOutput { output in
            engine.enterInitialState(initial.firstAction, initial.secondAction, initial.moreActions, into: &output)
            perform(&output)
        }
        if engine.exitReason != nil {
            finish()
        } else if release() {
            runtime.scheduler.schedule(self)
        }
    }

    // MARK: Sending

    /// Puts `message` in the mailbox. With `allowInline` on a runtime that allows it, a caller that finds the server
    /// idle, or waiting in the run queue with no worker on it yet, becomes the owner and drains it on its own thread
    /// (``EnqueueResult/runInline``, ``EnqueueResult/drainQueued``): no hand-off to a worker and back.
    @inlinable
    func enqueue(_ message: Message<M>, allowInline: Bool = false, bypassCapacity: Bool = false) -> EnqueueResult {
        let inline = allowInline && runtime.allowsInlineDrain
        switch enqueueLocked(message, inline: inline, bypassCapacity: bypassCapacity) {
        case .schedule:
            runtime.scheduler.schedule(self)
            return .queued
        case .result(.dropped):
            if let observer { observer(Server<M>.Observation(server: id, time: runtime.now, event: .messageDropped)) }
            return .dropped
        case .result(let result):
            return result
        }
    }

    /// The part of ``enqueue(_:allowInline:bypassCapacity:)`` under the mailbox lock: `.schedule` when the message
    /// made the server busy and the caller must schedule it.
    @inlinable
    func enqueueLocked(_ message: Message<M>, inline: Bool, bypassCapacity: Bool) -> EnqueueOutcome {
        mailbox.withLock { mailbox -> EnqueueOutcome in
            if mailbox.isTerminated { return .result(.dead) }
            if !bypassCapacity, let capacity, Int(mailbox.messageCount) >= capacity {
                if case .event(.call) = message { return .result(.full) }
                switch overflowPolicy {
                case .reject: return .result(.full)
                case .dropNewest:
                    mailbox.droppedMessages += 1
                    return .result(.dropped)
                }
            }
            // An idle server with nothing queued: the caller takes it over and handles its message directly,
            // without queueing it (no ring storage, no second lock to take it out again).
            if inline, mailbox.status == .idle, !mailbox.isSuspended, mailbox.isEmpty {
                mailbox.status = .running
                return .result(.runInline)
            }
            mailbox.append(.message(message))
            mailbox.messageCount += 1
            if mailbox.messageCount > mailbox.highWaterMark { mailbox.highWaterMark = mailbox.messageCount }
            if mailbox.isSuspended { return .result(.queued) }
            switch mailbox.status {
            case .idle:
                mailbox.status = .scheduled
                return .schedule
            case .scheduled where inline:
                // Busy, but no worker has taken it yet: the caller drains it (its run-queue entry goes stale, and the
                // worker that reaches it finds it claimed).
                mailbox.status = .running
                return .result(.drainQueued(items: Int(mailbox.messageCount) + Int(mailbox.systemCount)))
            case .scheduled, .running:
                return .result(.queued)
            }
        }
    }

    /// Queues a system request; returns false if the server had ended.
    @usableFromInline
    func enqueueSystem(_ request: SystemRequest<M>, isUrgent: Bool = false) -> Bool {
        let mustSchedule = mailbox.withLock { mailbox -> Bool? in
            if mailbox.isTerminated { return nil }
            // Exit signals (a kill, a linked exit that is not trapped) are not messages: they go ahead of the
            // queue. Other system requests take their turn, as `sys` messages do.
            if isUrgent { mailbox.prepend(.system(request)) } else { mailbox.append(.system(request)) }
            mailbox.systemCount += 1
            guard mailbox.status == .idle else { return false }
            mailbox.status = .scheduled
            return true
        }
        guard let mustSchedule else { return false }
        if mustSchedule { runtime.scheduler.schedule(self) }
        return true
    }

    /// The longest a caller watches for its reply before it suspends (``watch(_:for:)``): about what resuming a
    /// suspended task costs when its thread has gone to sleep (10–20 µs on a virtual machine whose idle core halts).
    @inlinable static var replyWatch: Duration { .microseconds(20) }

    /// Watches `cell` without suspending until it is resolved, the server stops running (it went idle without
    /// answering: a deferred reply, a suspended or ended server), the worker running it is found waiting for the
    /// watcher's processor, or `limit` has passed. Returns the time spent.
    ///
    /// For a caller whose call another thread is handling: a reply that comes within the limit is taken without a
    /// suspension and the wake-up of a thread that went to sleep meanwhile. The server's status is read under its
    /// lock only every 256 looks, so a watcher does not contend with the thread it waits for. At the start and at
    /// those looks the watcher also asks the pool whether the worker running the server last ran it on the
    /// watcher's own processor: then the worker is not running (it lost the processor to the watcher, as when
    /// another process holds the machine's other cores), and watching would only keep it from running.
    /// `givesWay: false` leaves that question out (a test that needs the watch to end with the reply wherever the
    /// threads run).
    @usableFromInline
    func watch(_ cell: ReplyCell, for limit: Duration, givesWay: Bool = true) -> Duration {
        let nanoseconds = limit.nanoseconds
        guard nanoseconds > 0 else { return .zero }
        let pool = givesWay ? runtime.workerPool : nil
        if let pool, pool.isRunningOnThisProcessor(self) { return .zero }
        let start = monotonicNanoseconds()
        var now = start
        var looks = 0
        while !cell.isResolved {
            looks &+= 1
            guard looks & 63 == 0 else { continue }
            now = monotonicNanoseconds()
            if now &- start >= nanoseconds { break }
            if looks & 255 == 0 {
                if mailbox.withLock({ $0.status == .idle }) { break }
                if let pool, pool.isRunningOnThisProcessor(self) { break }
            }
        }
        return .nanoseconds(now &- start)
    }

    /// Registers a caller to be failed with the exit reason if the server ends before answering; fails it at
    /// once if the server has already ended.
    @usableFromInline
    func addWaiter(_ slot: ReplySlotBase) {
        let reason = mailbox.withLock { mailbox -> ExitReason? in
            if mailbox.isTerminated { return engine.exitReason }
            mailbox.waiters.append(slot)
            if mailbox.waiters.count >= mailbox.waitersPruneThreshold {
                mailbox.waiters.removeAll { $0.isResolved }
                mailbox.waitersPruneThreshold = Swift.max(16, mailbox.waiters.count * 2)
            }
            return nil
        }
        if let reason { _ = slot.fail(Self.exitedError(id, reason)) }
    }

    /// Calls `observer` once with the exit reason when the server ends (at once if it has).
    @usableFromInline
    func onExit(token: UInt64, _ observer: @escaping @Sendable (ExitReason) -> Void) {
        let reason = mailbox.withLock { mailbox -> ExitReason? in
            if mailbox.exitStage == .told { return engine.exitReason }
            mailbox.exitObservers[token] = observer
            return nil
        }
        if let reason { observer(reason) }
    }

    /// Removes an exit observer; true if it was still registered.
    @usableFromInline @discardableResult
    func removeExitObserver(token: UInt64) -> Bool {
        mailbox.withLock { $0.exitObservers.removeValue(forKey: token) != nil }
    }

    @usableFromInline
    static func exitedError(_ id: ServerID, _ reason: ExitReason) -> StateServerError {
        StateServerError(.serverExited, "server \(id) exited before replying", exitReason: reason)
    }

    // MARK: Draining

    @usableFromInline func runScheduled() -> Bool { entry(self, nil, 0, .runBatch) == .schedule }

    @usableFromInline
    enum Next {
        case idle
        /// A run-queue entry found the server claimed by someone else, or already idle: nothing to do.
        case claimedElsewhere
        case message(Message<M>)
        case system(SystemRequest<M>)
    }

    /// A worker's turn with the server it took from the run queue: claims it (unless a caller drained it meanwhile)
    /// and drains a batch. Returns true when work remains and the server stays scheduled.
    @inlinable
    func runClaimingBatch() -> Bool {
        withDrainBuffers { taken, output in
            var handled = 0
            return drain(budget: Self.batchSize, claiming: true, taken: taken, output: &output, handled: &handled)
        }
    }

    /// Drains a server the caller claimed from the run queue (``EnqueueResult/drainQueued(items:)``): the `items`
    /// up to and including the caller's own (at most a batch), no more, so that a caller does only the work it would
    /// have waited for; then hands the server back to the scheduler if work remains. Returns whether it handled
    /// messages ahead of the caller's (other senders' work, other callers woken).
    @inlinable
    func drainClaimed(items: Int) -> Bool {
        if drain(budget: Swift.min(items, Self.batchSize)) { runtime.scheduler.schedule(self) }
        return items > 1
    }

    /// Handles `message` as the owner (it was not queued) on the caller's thread, then drains as
    /// ``drain(budget:)``, handing the server to the scheduler if work remains. Returns whether it handled messages
    /// that arrived behind `message` (other senders' work, other callers woken).
    @inlinable
    func drain(first message: Message<M>, budget: Int) -> Bool {
        var handled = 0
        let hasWork = withDrainBuffers { taken, output in
            if case .event(let event) = message {
                engine.receive(event, into: &output)
                perform(&output)
            } else {
                handle(message, into: &output)
            }
            if engine.exitReason != nil {
                finish()
                return false
            }
            return drain(budget: budget - 1, claiming: false, taken: taken, output: &output, handled: &handled)
        }
        if hasWork { runtime.scheduler.schedule(self) }
        return handled > 0
    }

    /// Handles up to `budget` messages as the owner, then releases the server. Returns true when work remains:
    /// the server stays scheduled and the caller must hand it to the scheduler (or run it again).
    ///
    /// Messages that follow one another in the mailbox (up to ``takeLimit``, never past a system request) are
    /// taken under one lock, so a busy server does not contend with its senders for every message.
    @inlinable
    func drain(budget: Int) -> Bool {
        withDrainBuffers { taken, output in
            var handled = 0
            return drain(budget: budget, claiming: false, taken: taken, output: &output, handled: &handled)
        }
    }

    /// Runs `body` with the stack buffers of one drain: room for the messages taken ahead (they are moved in and
    /// out, never copied or destroyed) and the engine's output.
    @inlinable
    func withDrainBuffers<Result>(
        _ body: (UnsafeMutablePointer<Message<M>>, inout EngineOutput<M>) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: Message<M>.self, capacity: Self.takeLimit) { taken in
            withOutput { output in body(taken.baseAddress!, &output) }
        }
    }

    /// Runs `body` with an empty engine output whose first commands live on the stack (more spill to the heap,
    /// freed when `body` returns). A server keeps no output between drains.
    @inlinable
    func withOutput<Result>(_ body: (inout EngineOutput<M>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: EngineCommand<M>.self, capacity: EngineOutput<M>.inlineCommands) { room in
            var output = EngineOutput<M>(room: room, isTracing: observer != nil)
            defer { output.commands.freeSpill() }
            return body(&output)
        }
    }

    /// The drain loop. With `claiming`, the caller is a run-queue entry that must first claim the server (a
    /// scheduled server becomes running); otherwise the caller owns it already. Counts the messages and system
    /// requests it handles into `handled`.
    @inlinable
    func drain(
        budget: Int, claiming: Bool, taken: UnsafeMutablePointer<Message<M>>, output: inout EngineOutput<M>,
        handled: inout Int
    ) -> Bool {
        var mustClaim = claiming
        var remaining = budget
        var takenCount = 0
        var nextTaken = 0
        while remaining > 0 {
            let next: Next
            if nextTaken < takenCount {
                next = .message((taken + nextTaken).move())
                nextTaken += 1
            } else {
                nextTaken = 0
                takenCount = 0
                next = mailbox.withLock { mailbox -> Next in
                    if mustClaim {
                        guard mailbox.status == .scheduled else { return .claimedElsewhere }
                        mailbox.status = .running
                    }
                    if !mailbox.isSuspended, let item = mailbox.popFirst() {
                        switch item {
                        case .message(let message):
                            mailbox.messageCount -= 1
                            let more = Swift.min(Int(mailbox.messageCount), Self.takeLimit, remaining - 1)
                            if mailbox.systemCount == 0 {
                                // Every item is a message: each is moved out as it is taken, never copied.
                                while takenCount < more, case .message(let following)? = mailbox.popFirst() {
                                    (taken + takenCount).initialize(to: following)
                                    takenCount += 1
                                }
                                mailbox.messageCount -= UInt32(takenCount)
                            } else {
                                while takenCount < more, case .message(let following)? = mailbox.first {
                                    _ = mailbox.popFirst()
                                    mailbox.messageCount -= 1
                                    (taken + takenCount).initialize(to: following)
                                    takenCount += 1
                                }
                            }
                            return .message(message)
                        case .system(let request):
                            mailbox.systemCount -= 1
                            return .system(request)
                        }
                    }
                    if mailbox.isSuspended, mailbox.systemCount > 0,
                        case .system(let request)? = mailbox.removeFirst(where: { if case .system = $0 { true } else { false } })
                    {
                        mailbox.systemCount -= 1
                        return .system(request)
                    }
                    mailbox.status = .idle
                    return .idle
                }
            }
            mustClaim = false
            switch consume next {
            case .idle, .claimedElsewhere:
                // Ownership was handed back under the lock, or never taken: no owner state may be touched.
                return false
            case .message(let message):
                handle(message, into: &output)
            case .system(let request):
                handle(request, into: &output)
            }
            handled += 1
            if engine.exitReason != nil {
                putBack(taken + nextTaken, count: takenCount - nextTaken)
                finish()
                return false
            }
            remaining -= 1
        }
        putBack(taken + nextTaken, count: takenCount - nextTaken)
        return release()
    }

    /// The most messages taken from the mailbox under one lock.
    @inlinable static var takeLimit: Int { 16 }

    /// Moves `count` messages taken but not handled back to the front of the mailbox, in order.
    @inlinable
    func putBack(_ messages: UnsafeMutablePointer<Message<M>>, count: Int) {
        guard count > 0 else { return }
        mailbox.withLock { mailbox in
            for index in (0..<count).reversed() { mailbox.prepend(.message((messages + index).move())) }
            mailbox.messageCount += UInt32(count)
        }
    }

    /// Gives up ownership. Returns true when messages arrived meanwhile: the server is then marked scheduled and
    /// the caller must hand it to the scheduler.
    @inlinable
    func release() -> Bool {
        mailbox.withLock { mailbox -> Bool in
            let hasWork = mailbox.systemCount > 0 || (!mailbox.isSuspended && mailbox.messageCount > 0)
            mailbox.status = hasWork ? .scheduled : .idle
            return hasWork
        }
    }

    @inlinable
    func handle(_ message: __owned Message<M>, into output: inout EngineOutput<M>) {
        switch consume message {
        case .event(let event):
            engine.receive(event, into: &output)
        case .timer(let kind, let generation):
            engine.timerFired(kind, generation: generation, into: &output)
        case .delayedInfo(let node):
            guard let pending = delayedSends[node.token], pending === node else { return }
            delayedSends[node.token] = nil
            engine.receive(.info(node.info), into: &output)
        case .effectDone(let info, let token):
            guard effects.removeValue(forKey: token) != nil else { return }
            engine.receive(.info(info), into: &output)
        }
        perform(&output)
    }

    @usableFromInline
    func handle(_ request: SystemRequest<M>, into output: inout EngineOutput<M>) {
        switch request {
        case .status(let slot):
            let (queued, dropped, highWater, suspended) = mailbox.withLock {
                (Int($0.messageCount), $0.droppedMessages, Int($0.highWaterMark), $0.isSuspended)
            }
            _ = slot.resolve(.success(ServerStatus(
                id: id, state: engine.state, data: engine.data, isSuspended: suspended, queuedMessages: queued,
                postponedEvents: engine.postponed.count, timeouts: engine.registeredTimeouts,
                droppedMessages: dropped, mailboxHighWaterMark: highWater, handledEvents: engine.handledEvents)))
        case .getState(let slot):
            _ = slot.resolve(.success(StateSnapshot(state: engine.state, data: engine.data)))
        case .replaceState(let transform, let slot):
            var state = engine.state
            var data = engine.data
            do {
                try transform(&state, &data)
                engine.replace(state: state, data: data)
                _ = slot.resolve(.success(StateSnapshot(state: state, data: data)))
            } catch {
                _ = slot.resolve(.failure(StateServerError(
                    .invalidArgument, "replaceState's transform threw \(error); the state is unchanged")))
            }
        case .suspend(let slot):
            mailbox.withLock { $0.isSuspended = true }
            _ = slot.resolve(.success(()))
        case .resume(let slot):
            mailbox.withLock { $0.isSuspended = false }
            _ = slot.resolve(.success(()))
        case .stop(let reason):
            engine.stop(reason, into: &output)
            perform(&output)
        case .kill:
            engine.kill(into: &output)
            perform(&output)
        case .linkedExit(let server, let reason):
            if trapsExits {
                engine.receive(.exit(server, reason), into: &output)
            } else if case .normal = reason {
                return
            } else {
                // An exit signal, not a message: the server ends at once, without `terminate` (as in OTP).
                engine.kill(reason, into: &output)
            }
            perform(&output)
        }
    }

    // MARK: Performing engine commands

    /// Carries out the engine's commands and reports its traces, then clears the buffer.
    ///
    /// Runs once per handled message. The clock is read at most once here: the timeouts one message arms all start
    /// from the same instant, and no relative timeout starts before the handler that armed it ran.
    @inlinable
    func perform(_ output: inout EngineOutput<M>) {
        let stateChangedAt = output.stateChangedAtCommand
        output.stateChangedAtCommand = nil
        // Most steps (a cast that only updates data or changes state, a call answered at once) leave nothing to do.
        if output.commands.count == 0 && output.recordedTraces == nil {
            if stateChangedAt != nil, let extras, !extras.effects.isEmpty { cancelEffects(boundToStateOnly: true) }
            return
        }
        var clock: Int64?
        // Effects started by this batch of commands, with the index of the command that started each.
        var startedHere: [(token: UInt64, index: Int)] = []
        let count = output.commands.count
        for index in 0..<count {
            // Moved out, so that it is destroyed here, in specialized code (see `CommandBuffer`).
            switch output.commands.take(index) {
            case .armTimer(let arm, let kind):
                let timers = runtime.timers
                let due = deadline(for: arm, clock: &clock, timers: timers)
                // The state timer's node is the core itself: passed as it is, with no reference of its own.
                if case .state = kind {
                    timers.arm(self, at: due, generation: arm.generation, target: self)
                } else {
                    timers.arm(timerNode(for: kind), at: due, generation: arm.generation, target: self)
                }
            case .cancelTimer(let kind):
                // A cancel followed by a re-arm of the same timer (a state change re-arming the state timeout)
                // is one re-arm: arming an armed node moves it.
                if isRearmed(kind, after: index, in: output.commands) { continue }
                if case .state = kind {
                    runtime.timers.cancel(self)
                } else if let node = existingTimerNode(for: kind) {
                    runtime.timers.cancel(node)
                }
            case .startEffect(let effect):
                startedHere.append((startEffect(effect), index))
            case .sendToSelf(let info, nil, _):
                _ = enqueue(.event(.info(info)), bypassCapacity: true)
            case .sendToSelf(let info, let delay?, let reference):
                let token = reference?.rawValue ?? IdentityCounter.next()
                if let previous = delayedSends[token] { runtime.timers.cancel(previous) }
                let node = SelfSendNode<M>(info: info, token: token)
                delayedSends[token] = node
                let arm = TimerArm(.after(delay), generation: 0)
                let timers = runtime.timers
                timers.arm(node, at: deadline(for: arm, clock: &clock, timers: timers), generation: arm.generation, target: self)
            case .cancelSendToSelf(let reference):
                if let node = delayedSends.removeValue(forKey: reference.rawValue) { runtime.timers.cancel(node) }
            case .report(let message):
                observer?(Server<M>.Observation(server: id, time: runtime.now, event: .reported(message)))
                runtime.reporter?(RuntimeReport(server: id, machine: "\(M.self)", kind: .warning(message)))
            }
        }
        // A state change cancels the effects bound to the states left: all but those its transition started.
        if let stateChangedAt, let extras, !extras.effects.isEmpty {
            let spared = Set(startedHere.lazy.filter { $0.index >= stateChangedAt }.map(\.token))
            cancelEffects(boundToStateOnly: true, sparing: spared)
        }
        // The traces first: they exist only when the server is observed, and reading the observer here would touch
        // the start settings on every step.
        if let traces = output.recordedTraces, !traces.isEmpty, let observer {
            let now = runtime.now
            for trace in traces { observer(Server<M>.Observation(server: id, time: now, event: trace)) }
        }
        output.commands.removeTaken()
        output.clearTraces()
    }

    @inlinable
    func isRearmed(_ kind: TimeoutKind<M.Timer>, after index: Int, in commands: CommandBuffer<M>) -> Bool {
        var later = index + 1
        while later < commands.count {
            switch commands[later] {
            case .armTimer(_, let armed) where armed == kind: return true
            case .cancelTimer(let cancelled) where cancelled == kind: return false
            default: later += 1
            }
        }
        return false
    }

    /// The instant on the runtime's timeline an arm is due (a relative one counts from `clock`, read into it
    /// if not read yet), saturated at the end of the timeline.
    @inlinable
    func deadline(for arm: TimerArm, clock: inout Int64?, timers: any TimerService) -> Int64 {
        guard arm.isRelative else { return arm.nanoseconds }
        let now = clock ?? timers.now
        clock = now
        let (sum, overflow) = now.addingReportingOverflow(arm.nanoseconds)
        return overflow ? (arm.nanoseconds < 0 ? .min : .max) : sum
    }

    /// The timer node of `kind`, created on first use (the state timer's is the core itself).
    @inlinable
    func timerNode(for kind: TimeoutKind<M.Timer>) -> TimerNode {
        if let node = existingTimerNode(for: kind) { return node }
        let node = EngineTimerNode<M>(kind: kind)
        switch kind {
        case .event: eventTimerNode = node
        case .state: break
        case .named(let name): namedTimerNodes[name] = node
        }
        return node
    }

    @inlinable
    func existingTimerNode(for kind: TimeoutKind<M.Timer>) -> TimerNode? {
        switch kind {
        case .event: eventTimerNode
        case .state: self
        case .named(let name): namedTimerNodes[name]
        }
    }

    /// One of this server's timers fired, told by the thread advancing a manual clock: queues it only.
    @usableFromInline func timerFired(_ node: TimerNode, generation: UInt64) -> (any Schedulable)? {
        entry(self, node, generation, .queueFire) == .schedule ? self : nil
    }

    /// The first step of telling one of this server's fires on a worker (see ``TimerNode/claim(_:generation:)``).
    @usableFromInline func claimTimerFire(_ node: TimerNode, generation: UInt64) -> TimerClaim {
        entry(self, node, generation, .claimFire)
    }

    /// The second step of telling one of this server's fires on a worker.
    @usableFromInline
    func runClaimedTimerFire(_ node: TimerNode, generation: UInt64, _ claim: TimerClaim) -> (any Schedulable)? {
        entry(self, node, generation, .runClaimedFire(claim)) == .schedule ? self : nil
    }

    /// What ``entry`` runs, specialized for the machine: a run-queue turn (`timer` nil), or a step of telling a
    /// fire of `timer`. `.schedule` when the server is busy and must be handed to the scheduler.
    @inlinable
    func enter(_ step: EntryStep, timer node: TimerNode?, generation: UInt64) -> TimerClaim {
        guard let node else { return runClaimingBatch() ? .schedule : .done }
        let message: Message<M>
        if node === self {
            message = .timer(.state, generation: generation)
        } else if let node = node as? EngineTimerNode<M> {
            message = .timer(node.kind, generation: generation)
        } else if let node = node as? SelfSendNode<M> {
            message = .delayedInfo(node)
        } else {
            return .done
        }
        switch step {
        case .runBatch:
            return .done
        case .queueFire:
            if case .schedule = enqueueLocked(message, inline: false, bypassCapacity: true) { return .schedule }
            return .done
        case .claimFire:
            // An idle server is claimed without queueing the fire (no ring storage, no second lock to take it
            // out); one waiting in the run queue is claimed with its queue.
            switch enqueueLocked(message, inline: runtime.allowsInlineDrain, bypassCapacity: true) {
            case .schedule: return .schedule
            case .result(.runInline): return .run
            case .result(.drainQueued(let items)): return .drain(items: items)
            case .result: return .done
            }
        case .runClaimedFire(.run):
            _ = drain(first: message, budget: Self.batchSize)
            return .done
        case .runClaimedFire(.drain(let items)):
            _ = drainClaimed(items: items)
            return .done
        case .runClaimedFire:
            return .done
        }
    }

    @usableFromInline
    /// Starts `effect` off the server; returns its token.
    @discardableResult
    func startEffect(_ effect: Effect<M>) -> UInt64 {
        let token = IdentityCounter.next()
        let runtime = runtime
        runtime.effectStarted()
        let task = Task { [self] in
            let info = await effect.operation()
            if !Task.isCancelled { _ = enqueue(.effectDone(info, token: token), bypassCapacity: true) }
            // In virtual time, handle the result now (a drain on another thread is waited for, not skipped).
            runtime.settle()
            runtime.effectFinished()
        }
        effects[token] = (task, effect.isBoundToState)
        return token
    }

    @usableFromInline
    func cancelEffects(boundToStateOnly: Bool, sparing spared: Set<UInt64> = []) {
        for (token, effect) in effects where (!boundToStateOnly || effect.isBoundToState) && !spared.contains(token) {
            effect.task.cancel()
            effects[token] = nil
        }
    }

    // MARK: Ending

    /// The engine stopped: disarm everything, fail every pending caller, tell the exit observers.
    @usableFromInline
    func finish() {
        guard let reason = engine.exitReason else { return }
        let isFirst = mailbox.withLock { mailbox in
            guard mailbox.exitStage == .none else { return false }
            mailbox.exitStage = .finishing
            return true
        }
        guard isFirst else { return }
        for node in delayedSends.values { runtime.timers.cancel(node) }
        runtime.timers.cancel(self)
        if let node = eventTimerNode { runtime.timers.cancel(node) }
        for node in namedTimerNodes.values { runtime.timers.cancel(node) }
        cancelEffects(boundToStateOnly: false)
        extras = nil
        let (waiters, systemRequests, observers, droppedCount) = mailbox.withLock { mailbox in
            mailbox.isTerminated = true
            mailbox.status = .idle
            let waiters = mailbox.waiters
            let observers = Array(mailbox.exitObservers.values)
            let dropped = Int(mailbox.messageCount)
            let systemRequests = mailbox.removeAll().compactMap { item -> SystemRequest<M>? in
                if case .system(let request) = item { return request }
                return nil
            }
            mailbox.extras = nil
            mailbox.messageCount = 0
            mailbox.systemCount = 0
            return (waiters, systemRequests, observers, dropped)
        }
        let error = Self.exitedError(id, reason)
        for slot in waiters { _ = slot.fail(error) }
        for request in systemRequests { _ = request.slot?.fail(error) }
        if let observer {
            let now = runtime.now
            if droppedCount > 0 {
                observer(Server<M>.Observation(server: id, time: now, event: .discardedAtExit(droppedCount)))
            }
            observer(Server<M>.Observation(server: id, time: now, event: .exited(reason)))
        }
        if !reason.isNormal {
            runtime.reporter?(RuntimeReport(server: id, machine: "\(M.self)", kind: .terminated(reason)))
        }
        for exitObserver in observers { exitObserver(reason) }
        // Exit observers added since the server was marked ended (a `stop` registers one after queueing its
        // request), told now rather than when they were added, which could come before the observer above.
        while true {
            let late = mailbox.withLock { mailbox -> [@Sendable (ExitReason) -> Void] in
                let late = Array(mailbox.exitObservers.values)
                mailbox.extras = nil
                if late.isEmpty { mailbox.exitStage = .told }
                return late
            }
            if late.isEmpty { break }
            for exitObserver in late { exitObserver(reason) }
        }
    }
}

/// A timer node whose target is a server running `M`: the server's own core (its state timer), an event or named
/// timer's node, a delayed message to self. It tells the server through the server's specialized entry.
@usableFromInline
class ServerTimerNode<M: StateMachine>: TimerNode, @unchecked Sendable {
    // Safety: no state of its own; the base class's state is guarded by the timer service.
    @usableFromInline override init() { super.init() }

    /// Tells the server (the target while armed).
    @usableFromInline override func fire(_ target: AnyObject, generation: UInt64) -> (any Schedulable)? {
        unsafeDowncast(target, to: ServerCore<M>.self).timerFired(self, generation: generation)
    }

    @usableFromInline override func claim(_ target: AnyObject, generation: UInt64) -> TimerClaim {
        unsafeDowncast(target, to: ServerCore<M>.self).claimTimerFire(self, generation: generation)
    }

    @usableFromInline
    override func runClaimed(_ target: AnyObject, generation: UInt64, _ claim: TimerClaim) -> (any Schedulable)? {
        unsafeDowncast(target, to: ServerCore<M>.self).runClaimedTimerFire(self, generation: generation, claim)
    }
}

/// The timer node of one timeout kind of one server.
@usableFromInline
final class EngineTimerNode<M: StateMachine>: ServerTimerNode<M>, @unchecked Sendable {
    // Safety: `kind` is immutable; the base class's state is guarded by the timer service.
    @usableFromInline let kind: TimeoutKind<M.Timer>
    @inlinable init(kind: TimeoutKind<M.Timer>) {
        self.kind = kind
        super.init()
    }
}

/// A delayed message a server sent itself.
@usableFromInline
final class SelfSendNode<M: StateMachine>: ServerTimerNode<M>, @unchecked Sendable {
    // Safety: `info` and `token` are immutable; the base class's state is guarded by the timer service.
    @usableFromInline let info: M.Info
    @usableFromInline let token: UInt64
    @usableFromInline init(info: M.Info, token: UInt64) {
        self.info = info
        self.token = token
        super.init()
    }
}
