/// The one implementation of `gen_statem`'s semantics (otp-semantics §1.4–§1.10): a value that owns a machine's
/// state, data, event queue, postponed events, zero-timeout queue and timer records, and turns one input into
/// handler calls plus commands for the runtime.
///
/// Both the real runtime and the virtual-time runtime drive this type; nothing else decides semantics. It is
/// synchronous and performs no I/O: replies are written to their reply slots as the actions are processed (that is
/// `gen_statem`'s "sent immediately"), everything else is a ``EngineCommand`` in the output buffer.
///
/// Not thread-safe: exactly one thread steps an engine at a time (the runtime's mailbox guarantees it).
@usableFromInline
struct Engine<M: StateMachine>: Sendable {
    /// A timer the engine considers registered: running, zero-pending, or fired but not yet handled.
    @usableFromInline
    struct TimerRecord: Sendable {
        @usableFromInline var generation: UInt64
        @usableFromInline var content: M.Timeout
        @usableFromInline var isZero: Bool

        @inlinable init(generation: UInt64, content: M.Timeout, isZero: Bool) {
            self.generation = generation
            self.content = content
            self.isZero = isZero
        }
    }

    @usableFromInline let machine: M
    /// The server this engine runs in, to reject replies through another server's handles; `nil` when stepped
    /// by hand.
    @usableFromInline let serverRawID: UInt64
    /// The server's identity (0 in `serverRawID` when stepped by hand: identities start at 1).
    @inlinable var serverID: ServerID? { serverRawID == 0 ? nil : ServerID(rawValue: serverRawID) }
    @usableFromInline let callsStateEnter: Bool

    @usableFromInline var state: M.State
    @usableFromInline var data: M.Data
    /// Inserted and retried events, handled before any new message.
    @inlinable var queue: RingBuffer<Event<M>> {
        get { queues?.queue ?? RingBuffer() }
        _modify { yield &uniqueQueues().queue }
    }
    /// Postponed events, oldest first, retried after the next state change.
    @inlinable var postponed: RingBuffer<Event<M>> {
        get { queues?.postponed ?? RingBuffer() }
        _modify { yield &uniqueQueues().postponed }
    }
    /// The time-out-zero queue: `(kind, generation)`, delivered after `queue` and before new messages.
    @inlinable var zeroQueue: RingBuffer<(TimeoutKind<M.Timer>, UInt64)> {
        get { queues?.zeroQueue ?? RingBuffer() }
        _modify { yield &uniqueQueues().zeroQueue }
    }
    /// Named timers, kept with the queues (out of line: most machines never use them).
    @inlinable var namedTimers: [M.Timer: TimerRecord] {
        get { queues?.namedTimers ?? [:] }
        _modify { yield &uniqueQueues().namedTimers }
    }
    /// The three queues and the named timers, allocated the first time an event is inserted, postponed, a zero
    /// timeout set or a named timer started: most machines never need them, and an idle server then pays one word.
    @usableFromInline var queues: EngineQueues<M>?

    /// The queues, created or copied so this engine owns them alone (copy on write).
    @inlinable mutating func uniqueQueues() -> EngineQueues<M> {
        if queues == nil {
            queues = EngineQueues()
        } else if !isKnownUniquelyReferenced(&queues!) {
            queues = queues!.copy()
        }
        return queues!
    }
    @usableFromInline var eventTimer: TimerRecord?
    @usableFromInline var stateTimer: TimerRecord?
    @usableFromInline var nextGeneration: UInt64 = 0
    /// Set once the engine has stopped; it then accepts no more input.
    @usableFromInline var exitReason: ExitReason?
    /// Events handled so far, enter calls excluded.
    @usableFromInline var handledEvents = 0

    @usableFromInline init(machine: M, serverID: ServerID?, state: M.State, data: M.Data) {
        self.machine = machine
        self.serverRawID = serverID?.rawValue ?? 0
        self.callsStateEnter = machine.callsStateEnter
        self.state = state
        self.data = data
    }

    /// Runs the machine's `start`; a thrown error becomes ``Start/error(_:)``. On `.ok`, the caller builds the
    /// engine in that state, where it will live, and calls ``enterInitialState(_:_:_:into:)``. (Two steps rather than
    /// one that returns the engine: a generic engine returned inside an enum is copied and destroyed through the
    /// runtime's value witnesses.)
    @inlinable
    static func runStart(_ machine: M) -> Start<M> {
        do { return try machine.start() } catch { return .error(error) }
    }

    /// The transition into the initial state after a successful `start`: its actions, the initial enter call,
    /// then every inserted event and zero timeout (otp-semantics §1.2).
    @inlinable
    mutating func enterInitialState(
        _ firstAction: Action<M>?, _ secondAction: Action<M>?, _ moreActions: ActionList<M>?,
        into output: inout EngineOutput<M>
    ) {
        output.trace(.started(state))
        transition(
            after: .enter(from: state), from: state, .next(state), firstAction, secondAction, moreActions,
            isInitial: true, into: &output)
        runQueued(into: &output)
    }

    // MARK: Input

    /// Handles one event from the mailbox, then every event it inserted or released and every zero timeout,
    /// until only new messages could come next.
    @inlinable
    mutating func receive(_ event: Event<M>, into output: inout EngineOutput<M>) {
        guard exitReason == nil else { return }
        handle(event, into: &output)
        runQueued(into: &output)
    }

    /// A real timer fired. If it is still the registered timer of its kind, its timeout event is handled as a
    /// message; a stale fire (cancelled or restarted since) is dropped without effect.
    @inlinable
    mutating func timerFired(_ kind: TimeoutKind<M.Timer>, generation: UInt64, into output: inout EngineOutput<M>) {
        guard exitReason == nil, let record = timerRecord(kind), record.generation == generation, !record.isZero else {
            return
        }
        setTimerRecord(kind, nil)
        receive(Self.timeoutEvent(kind, record.content), into: &output)
    }

    /// Stops the engine from outside (a `stop` request, a supervisor shutdown): calls `terminate` with `reason`.
    @usableFromInline
    mutating func stop(_ reason: ExitReason, into output: inout EngineOutput<M>) {
        guard exitReason == nil else { return }
        terminate(reason, into: &output)
    }

    /// Ends the engine without calling `terminate`: a brutal kill (exit reason ``ExitReason/killed``), or the
    /// abnormal exit of a linked server when this one does not trap exits (its reason).
    @usableFromInline
    mutating func kill(_ reason: ExitReason = .killed, into output: inout EngineOutput<M>) {
        guard exitReason == nil else { return }
        terminate(reason, callingTerminate: false, into: &output)
    }

    /// Replaces state and data from outside (`sys:replace_state`): a rename, so no enter call, no retry of
    /// postponed events and no timeout is cancelled.
    @usableFromInline
    mutating func replace(state: M.State, data: M.Data) {
        self.state = state
        self.data = data
    }

    // MARK: The loop (§1.5 step 8)

    /// Handles every inserted, retried and zero-timeout event there is (tested here, where it is inlined: most
    /// machines have no queues, and the loop's frame is large).
    ///
    /// A stopped engine has no queues (``terminate(_:callingTerminate:into:)`` drops them, and a step that stops
    /// returns at once, making none again), so the test of the queues is also the test that the engine still runs.
    @inlinable @inline(__always) mutating func runQueued(into output: inout EngineOutput<M>) {
        if queues != nil { runQueuedEvents(into: &output) }
    }

    /// ``runQueued(into:)``'s loop: ``handle(_:into:)`` and the handler are inlined into it, so a replayed or inserted
    /// event is handled without a call.
    @inlinable @inline(never) mutating func runQueuedEvents(into output: inout EngineOutput<M>) {
        // The queues are made this engine's alone once, here: nothing in the loop copies the engine, and their
        // rings never share a block (``EngineQueues/copy()``), so each event is taken out without a check.
        _ = uniqueQueues()
        // No separate test of the exit reason: stopping drops the queues (``runQueued(into:)``).
        while queues != nil {
            assert(exitReason == nil, "a stopped engine kept its queues")
            // Two calls of the inlined step, one per source: one call fed through `??` took 7 instructions more per
            // retried event.
            if let next = queues.unsafelyUnwrapped.queue.popFirstUnshared() {
                handle(next, into: &output)
            } else if let zero = popZeroTimeout() {
                handle(zero, into: &output)
            } else {
                return
            }
        }
    }

    /// The first still-valid entry of the zero-timeout queue, consumed, as its timeout event.
    @inlinable mutating func popZeroTimeout() -> Event<M>? {
        while let (kind, generation) = zeroQueue.popFirst() {
            guard let record = timerRecord(kind), record.generation == generation, record.isZero else { continue }
            setTimerRecord(kind, nil)
            return Self.timeoutEvent(kind, record.content)
        }
        return nil
    }

    @inlinable static func timeoutEvent(_ kind: TimeoutKind<M.Timer>, _ content: M.Timeout) -> Event<M> {
        switch kind {
        case .event: .eventTimeout(content)
        case .state: .stateTimeout(content)
        case .named(let name): .timeout(name, content)
        }
    }

    // MARK: One event (§1.5 steps 1–7)

    /// Handles one event: the handler's call and its result's commonest forms. Always inlined, into ``receive(_:into:)``
    /// and into the loop of ``runQueuedEvents(into:)``: there the handler is inlined too where the compiler inlines it,
    /// and a retried postponed event takes 63 instructions instead of 143 (callgrind; no result in memory, no frame).
    @inlinable @inline(__always) mutating func handle(_ event: Event<M>, into output: inout EngineOutput<M>) {
        output.trace(.handling(event, in: state))
        handledEvents &+= 1
        let stateBefore = state
        let result: Transition<M>
        do {
            result = try machine.handle(event, in: state, data: &data)
        } catch {
            terminate(.error(error), into: &output)
            return
        }
        // The commonest results, a keep or a state change without actions, are told apart first: where their
        // parts are known empty they are not destroyed through calls, and a keep without actions leaves only step 5.
        if result.firstAction == nil, result.secondAction == nil, result.moreActions == nil {
            switch result.target {
            case .keep:
                if eventTimer != nil { cancelTimer(.event, into: &output) }
            case .next(let next):
                transition(
                    after: event, from: stateBefore, .next(next), nil, nil, nil, isInitial: false, into: &output)
            default:
                transition(
                    after: event, from: stateBefore, result.target, nil, nil, nil, isInitial: false, into: &output)
            }
            return
        }
        transition(
            after: event, from: stateBefore, result.target, result.firstAction, result.secondAction, result.moreActions,
            isInitial: false, into: &output)
    }

    /// Accumulated effects of one transition (the event's actions merged with its enter calls' actions).
    @usableFromInline
    struct Pending {
        @usableFromInline var postpone = false
        /// Inserted events, `nil` until the first (a `nil` array is destroyed without a call into the runtime).
        @usableFromInline var nextEvents: [Event<M>]?
        /// The first timeout action, inline (most transitions have at most one), then the others.
        /// `(operation, kind)`: the operation first, so the pair packs into fewer words.
        @usableFromInline var firstTimeout: (TimeoutOperation<M.Timeout>, TimeoutKind<M.Timer>)?
        @usableFromInline var moreTimeouts: [(TimeoutOperation<M.Timeout>, TimeoutKind<M.Timer>)]?
        @inlinable init() {}

        @inlinable mutating func addTimeout(_ kind: TimeoutKind<M.Timer>, _ operation: TimeoutOperation<M.Timeout>) {
            if firstTimeout == nil {
                firstTimeout = (operation, kind)
            } else if moreTimeouts == nil {
                moreTimeouts = [(operation, kind)]
            } else {
                moreTimeouts!.append((operation, kind))
            }
        }
    }

    /// Applies a handler's result: `event` is the event handled, `from` the state before it, then the result's
    /// target and actions. The initial transition (`isInitial`) handled no event: its `event` is a placeholder,
    /// never read (an optional event would have to be a copy of the handler's, one retain and release per event).
    ///
    /// The result comes in its parts rather than as one `Transition`: a `Transition` is too large to pass in
    /// registers, and a value of the engine's generic types destroyed from memory is destroyed through the
    /// runtime's value witnesses even in code specialized for the machine; each part alone travels in registers.
    @inlinable mutating func transition(
        after event: Event<M>, from oldState: M.State, _ target: Transition<M>.Target, _ firstAction: Action<M>?,
        _ secondAction: Action<M>?, _ moreActions: ActionList<M>?, isInitial: Bool, into output: inout EngineOutput<M>
    ) {
        var pending = Pending()
        let isRepeat: Bool
        switch target {
        case .next(let next):
            state = next
            isRepeat = false
        case .keep:
            isRepeat = false
        case .repeatState:
            isRepeat = true
        case .stop(let reason):
            terminate(reason, into: &output)
            return
        case .stopAndReply(let reason, let replies):
            stopAndReply(reason, replies, into: &output)
            return
        }
        // Effects bound to the old state are cancelled before any effect this transition starts.
        let firstCommand = output.commands.count
        // Step 1: actions, left to right; replies are sent now.
        if let failure = process(
            firstAction, secondAction, moreActions, isEnterCall: false, into: &pending, output: &output)
        {
            terminate(failure, into: &output)
            return
        }
        if isInitial { pending.postpone = false }
        let isStateChange = !isInitial && state != oldState
        // Step 2: state-enter calls, merged into the same accumulators.
        if callsStateEnter && (isStateChange || isRepeat || isInitial) {
            guard enter(from: oldState, into: &pending, output: &output) else { return }
        }
        if isStateChange { output.trace(.transition(from: oldState, to: state)) }
        // Step 3: postpone.
        if pending.postpone {
            output.trace(.postponed(event))
            postponed.append(event)
        }
        // Step 4: a state change retries the postponed events and cancels the state timeout.
        if isStateChange {
            if queues?.postponed.isEmpty == false {
                let queues = uniqueQueues()
                queues.queue.prepend(draining: &queues.postponed)
            }
            // Tested here first, as the event timeout below: most state changes have none to cancel.
            if stateTimer != nil { cancelTimer(.state, into: &output) }
            output.stateChangedAtCommand = firstCommand
        }
        // Step 5: any processed event cancels the event timeout (tested here first: most events have none, and
        // `cancelTimer` is a call).
        if !isInitial, eventTimer != nil { cancelTimer(.event, into: &output) }
        // Step 6: timeouts. Per kind only the last action counts (across the event and its enter calls); those
        // are applied in action order (restarting a pending zero timeout moves it to the back of the zero queue).
        if let first = pending.firstTimeout {
            if let moreTimeouts = pending.moreTimeouts {
                let all = [first] + moreTimeouts
                for index in all.indices {
                    var isLast = true
                    var later = index + 1
                    while later < all.count {
                        if all[later].1 == all[index].1 { isLast = false; break }
                        later += 1
                    }
                    if isLast { apply(all[index].0, to: all[index].1, into: &output) }
                }
            } else {
                apply(first.0, to: first.1, into: &output)
            }
        }
        // Step 7: inserted events go first, first action first.
        if let nextEvents = pending.nextEvents { queue.prepend(contentsOf: nextEvents) }
    }

    /// Makes the state-enter call(s) for the current state; false if the machine stopped.
    @inlinable mutating func enter(
        from oldState: M.State, into pending: inout Pending, output: inout EngineOutput<M>
    ) -> Bool {
        while true {
            let enterEvent = Event<M>.enter(from: oldState)
            output.trace(.handling(enterEvent, in: state))
            let result: Transition<M>
            do {
                result = try machine.handle(enterEvent, in: state, data: &data)
            } catch {
                terminate(.error(error), into: &output)
                return false
            }
            var repeats = false
            switch result.target {
            case .next(let next) where next != state:
                terminate(.error(StateServerError(
                    .invalidTransition,
                    "a state-enter call in \(state) returned goto(\(next)); an enter call may not change state")),
                    into: &output)
                return false
            case .next, .keep:
                break
            case .repeatState:
                repeats = true
            case .stop(let reason):
                terminate(reason, into: &output)
                return false
            case .stopAndReply(let reason, let replies):
                stopAndReply(reason, replies, into: &output)
                return false
            }
            if let failure = process(
                result.firstAction, result.secondAction, result.moreActions, isEnterCall: true, into: &pending,
                output: &output)
            {
                terminate(failure, into: &output)
                return false
            }
            if !repeats { return true }
        }
    }

    /// Processes actions into `pending`; returns an exit reason if an action is invalid there.
    @inlinable mutating func process(
        _ firstAction: Action<M>?, _ secondAction: Action<M>?, _ moreActions: ActionList<M>?, isEnterCall: Bool,
        into pending: inout Pending, output: inout EngineOutput<M>
    ) -> ExitReason? {
        guard let firstAction else { return nil }
        if let failure = process(firstAction, isEnterCall: isEnterCall, into: &pending, output: &output) {
            return failure
        }
        guard let secondAction else { return nil }
        if let failure = process(secondAction, isEnterCall: isEnterCall, into: &pending, output: &output) {
            return failure
        }
        guard let moreActions else { return nil }
        for index in 0..<moreActions.count {
            if let failure = process(moreActions[index], isEnterCall: isEnterCall, into: &pending, output: &output) {
                return failure
            }
        }
        return nil
    }

    /// Processes one action into `pending`; returns an exit reason if it is invalid there.
    @inlinable mutating func process(
        _ action: Action<M>, isEnterCall: Bool, into pending: inout Pending, output: inout EngineOutput<M>
    ) -> ExitReason? {
        switch action.kind {
        case .reply(let slot, let value):
            if let failure = reply(slot, value, into: &output) { return failure }
        case .postpone(let isPostponed):
            if isEnterCall && isPostponed {
                return invalidAction("postpone in the state-enter call of \(state); enter calls cannot postpone")
            }
            pending.postpone = isPostponed
        case .nextEvent(let event):
            if isEnterCall {
                return invalidAction("nextEvent(\(event)) in the state-enter call of \(state); enter calls cannot insert events")
            }
            if pending.nextEvents == nil { pending.nextEvents = [event] } else { pending.nextEvents!.append(event) }
        case .timeout(let operation, let kind):
            // Validated here, like every action, so nothing after an invalid one runs (§1.7).
            if case .set(.after(let duration), _) = operation, duration.isNegative {
                return invalidAction("\(kind) after \(duration) in \(state): a relative timeout cannot be negative")
            }
            pending.addTimeout(kind, operation)
        case .effect(let effect):
            output.commands.append(.startEffect(effect))
        case .sendToSelf(let info, let delay, let reference):
            if let delay, delay.isNegative {
                return invalidAction("send(after: \(delay)) in \(state): a delay cannot be negative")
            }
            output.commands.append(.sendToSelf(info, after: delay, reference))
        case .cancelSendToSelf(let reference):
            output.commands.append(.cancelSendToSelf(reference))
        case .report(let message):
            output.commands.append(.report(message))
        }
        return nil
    }

    @inlinable func reply(_ slot: ReplySlotBase, _ value: ReplyValue, into output: inout EngineOutput<M>) -> ExitReason? {
        if let owner = slot.owner, let serverID, owner != serverID {
            return invalidAction("reply through a handle of server \(owner) from server \(serverID) in \(state)")
        }
        let delivered = slot.deliver(value)
        output.trace(.replied(value.erased(as: slot.valueType), wasDelivered: delivered))
        return nil
    }

    @inlinable func invalidAction(_ message: String) -> ExitReason {
        .error(StateServerError(.invalidAction, message))
    }

    // MARK: Timers (§1.7)

    @inlinable func timerRecord(_ kind: TimeoutKind<M.Timer>) -> TimerRecord? {
        switch kind {
        case .event: eventTimer
        case .state: stateTimer
        case .named(let name): namedTimers[name]
        }
    }

    @inlinable mutating func setTimerRecord(_ kind: TimeoutKind<M.Timer>, _ record: TimerRecord?) {
        switch kind {
        case .event: eventTimer = record
        case .state: stateTimer = record
        case .named(let name): if record != nil || queues != nil { namedTimers[name] = record }
        }
    }

    /// Forgets the timer of `kind`, disarming its real timer; a zero entry left in the queue becomes stale.
    @inlinable mutating func cancelTimer(_ kind: TimeoutKind<M.Timer>, into output: inout EngineOutput<M>) {
        guard let record = timerRecord(kind) else { return }
        setTimerRecord(kind, nil)
        if !record.isZero { output.commands.append(.cancelTimer(kind)) }
        output.trace(.timeoutCancelled(kind))
    }

    @inlinable mutating func apply(
        _ operation: TimeoutOperation<M.Timeout>, to kind: TimeoutKind<M.Timer>, into output: inout EngineOutput<M>
    ) {
        switch operation {
        case .cancel, .set(.infinity, _):
            cancelTimer(kind, into: &output)
        case .update(let content):
            if var record = timerRecord(kind) {
                record.content = content
                setTimerRecord(kind, record)
            } else {
                start(kind, .zero, content, into: &output)
            }
        case .set(let time, let content):
            start(kind, time, content, into: &output)
        }
    }

    @inlinable mutating func start(
        _ kind: TimeoutKind<M.Timer>, _ time: TimeoutTime, _ content: M.Timeout, into output: inout EngineOutput<M>
    ) {
        let wasArmed = timerRecord(kind).map { !$0.isZero } ?? false
        nextGeneration &+= 1
        let isZero = if case .after(let duration) = time { duration.isZero } else { false }
        setTimerRecord(kind, TimerRecord(generation: nextGeneration, content: content, isZero: isZero))
        output.trace(.timeoutArmed(kind, time))
        if isZero {
            if wasArmed { output.commands.append(.cancelTimer(kind)) }
            zeroQueue.append((kind, nextGeneration))
        } else {
            output.commands.append(.armTimer(TimerArm(time, generation: nextGeneration), kind))
        }
    }

    // MARK: Termination (§1.10)

    @inlinable mutating func stopAndReply(_ reason: ExitReason, _ replies: [Action<M>], into output: inout EngineOutput<M>) {
        for action in replies {
            guard case .reply(let slot, let value) = action.kind else {
                terminate(invalidAction("stopAndReply in \(state) with \(action.kind), which is not a reply"), into: &output)
                return
            }
            if let failure = reply(slot, value, into: &output) {
                terminate(failure, into: &output)
                return
            }
        }
        terminate(reason, into: &output)
    }

    /// Calls `terminate` and marks the engine stopped; its timers are disarmed and its queues dropped. Out of line:
    /// it is on no hot path, and inlined it would grow the frames of the loops that handle events.
    @inlinable @inline(never) mutating func terminate(
        _ reason: ExitReason, callingTerminate: Bool = true, into output: inout EngineOutput<M>
    ) {
        guard exitReason == nil else { return }
        output.trace(.stopping(reason, in: state))
        var finalReason = reason
        if callingTerminate {
            do {
                try machine.terminate(reason: reason, state: state, data: data)
            } catch {
                finalReason = .error(error)
            }
        }
        exitReason = finalReason
        if eventTimer.map({ !$0.isZero }) == true { output.commands.append(.cancelTimer(.event)) }
        if stateTimer.map({ !$0.isZero }) == true { output.commands.append(.cancelTimer(.state)) }
        for (name, record) in namedTimers where !record.isZero { output.commands.append(.cancelTimer(.named(name))) }
        eventTimer = nil
        stateTimer = nil
        queues = nil
    }

    /// The kinds of the timeouts currently registered.
    var registeredTimeouts: [TimeoutKind<M.Timer>] {
        var kinds: [TimeoutKind<M.Timer>] = []
        if eventTimer != nil { kinds.append(.event) }
        if stateTimer != nil { kinds.append(.state) }
        kinds.append(contentsOf: namedTimers.keys.map { .named($0) })
        return kinds
    }
}

/// An engine's inserted-event queue, postponed events, zero-timeout queue and named timers, kept out of line.
@usableFromInline
final class EngineQueues<M: StateMachine>: @unchecked Sendable {
    // Safety: owned by one engine (copied on write by `Engine.uniqueQueues()`), which one thread steps at a time;
    // the engine never holds two accesses to one property at once, so the dynamic exclusivity checks (a
    // thread-local access set per `inout` use, ~10% of a replayed postponed event) are off. The rings' blocks are
    // never shared with another ring (a copy copies them), so the engine takes events out without checking.
    @usableFromInline @exclusivity(unchecked) var queue = RingBuffer<Event<M>>()
    @usableFromInline @exclusivity(unchecked) var postponed = RingBuffer<Event<M>>()
    @usableFromInline @exclusivity(unchecked) var zeroQueue = RingBuffer<(TimeoutKind<M.Timer>, UInt64)>()
    @usableFromInline @exclusivity(unchecked) var namedTimers: [M.Timer: Engine<M>.TimerRecord] = [:]

    @usableFromInline init() {}

    @usableFromInline func copy() -> EngineQueues {
        let copy = EngineQueues()
        copy.queue = queue.unsharedCopy
        copy.postponed = postponed.unsharedCopy
        copy.zeroQueue = zeroQueue.unsharedCopy
        copy.namedTimers = namedTimers
        return copy
    }
}
