/// A handle to a running server (its "pid"): send it calls, casts and info messages, stop it, inspect it.
///
/// `Sendable` and cheap to copy; handles to the same server are equal. A handle keeps the server's record alive,
/// so a handle to a server that has ended still answers ``exitReason`` and fails new requests with
/// ``StateServerError/Code/noSuchServer``.
///
/// Every request gets exactly one outcome: the reply, or a ``StateServerError`` (timeout, the server exited
/// with its reason, no such server, full mailbox, cancelled).
public struct Server<M: StateMachine>: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline let core: ServerCore<M>

    @usableFromInline init(core: ServerCore<M>) { self.core = core }

    /// The default time a ``call(timeout:_:)`` waits for its reply: 5 seconds, as `gen_server`'s call.
    /// (`gen_statem` waits forever by default; pass `timeout: nil` for that.)
    public static var defaultCallTimeout: Duration { .seconds(5) }

    /// The server's identity.
    public var id: ServerID { core.id }

    /// The runtime hosting the server.
    public var runtime: Runtime { core.runtime }

    /// `<N>` with the machine's type.
    public var description: String { "Server<\(M.self)>\(core.id)" }

    /// Handles are equal when they refer to the same server.
    public static func == (lhs: Server, rhs: Server) -> Bool { lhs.core === rhs.core }

    /// Hashes the server's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(core.id) }

    // MARK: Calls

    /// Sends a request and waits for its typed reply.
    ///
    /// ```swift
    /// let balance = try await account.call { .balance($0) }
    /// ```
    ///
    /// When the server is idle and the runtime allows it, the handler runs on the caller's thread and the call
    /// returns without suspending; when the server has messages but no worker has taken it up yet, the caller
    /// handles those ahead of its call and its call itself, in order. A caller that handled other senders'
    /// messages on its way yields once (`Task.yield()`) before returning, so that the callers it answered get a
    /// thread before it calls again. When another thread is running the server (and the machine has more than one
    /// core), the caller watches for its reply for up to 20 µs before it suspends (a reply that comes that soon
    /// costs no suspension and no wake-up of a thread that went to sleep); it stops watching at once if the server
    /// goes idle without answering (a deferred reply), and the time watched counts against `timeout`. A reply that
    /// arrives after the timeout is dropped.
    ///
    /// - Parameters:
    ///   - timeout: How long to wait; `nil` waits forever. Defaults to ``defaultCallTimeout``.
    ///   - makeRequest: Builds the request from its reply handle.
    /// - Throws: ``StateServerError`` with `callTimeout`, `serverExited` (with the exit reason), `noSuchServer`,
    ///   `mailboxFull`, `cancelled` or `invalidArgument` (a negative timeout).
    @inlinable
    nonisolated(nonsending)
    public func call<Value: Sendable>(
        timeout: Duration? = Server.defaultCallTimeout,
        _ makeRequest: (Reply<Value>) -> M.Call
    ) async throws -> Value {
        let (slot, immediate, drainedOthers) = try enqueueCall(makeRequest, timeout: timeout, watching: true)
        if let immediate {
            // This caller drained other senders' messages on its way (and so woke the callers among them, now
            // queued behind it for a thread): it lets them run before it goes on, or a caller whose calls keep
            // completing inline would hold its thread while they wait (the cooperative pool has no preemption).
            if drainedOthers { await Task.yield() }
            return try immediate.get(as: Value.self)
        }
        return try await slot.wait()
    }

    /// Sends a request without waiting, returning a handle to its outcome: for fan-out (many requests in
    /// flight at once), and for tests that read outcomes synchronously once the servers are idle.
    ///
    /// Errors that are known at once (no such server, full mailbox, negative timeout) are recorded in the handle.
    @inlinable
    public func request<Value: Sendable>(
        timeout: Duration? = Server.defaultCallTimeout,
        _ makeRequest: (Reply<Value>) -> M.Call
    ) -> PendingReply<Value> {
        do {
            return PendingReply(slot: try enqueueCall(makeRequest, timeout: timeout).slot)
        } catch {
            let slot = ReplySlot<Value>(owner: core.id)
            _ = slot.fail(error as? StateServerError ?? StateServerError(.invalidArgument, "\(error)"))
            return PendingReply(slot: slot)
        }
    }

    /// Sends a call. With `watching`, a caller whose call another thread is handling watches for the reply before
    /// it registers to wait (``ServerCore/watch(_:for:)``); `request`, which does not wait, does not watch.
    @inlinable
    func enqueueCall<Value: Sendable>(
        _ makeRequest: (Reply<Value>) -> M.Call, timeout: Duration?, watching: Bool = false
    ) throws -> (slot: ReplySlot<Value>, immediate: ReplyOutcome?, drainedOthers: Bool) {
        if let timeout, timeout.isNegative {
            throw StateServerError(.invalidArgument, "call timeout \(timeout) is negative")
        }
        let slot = ReplySlot<Value>(owner: core.id)
        let message = Message<M>.event(.call(makeRequest(Reply(slot: slot))))
        var drainedOthers = false
        switch core.enqueue(message, allowInline: true) {
        case .dead:
            throw StateServerError(.noSuchServer, "\(self) has ended", exitReason: core.exitReason)
        case .full, .dropped:
            throw StateServerError(.mailboxFull, "the mailbox of \(self) is full")
        case .runInline:
            drainedOthers = core.drain(first: message, budget: ServerCore<M>.batchSize)
        case .drainQueued(let items):
            drainedOthers = core.drainClaimed(items: items)
        case .queued:
            break
        }
        core.runtime.settle()
        if let immediate = slot.currentOutcome { return (slot, immediate, drainedOthers) }
        // Another thread runs the server: the reply may be a few microseconds away, less than a suspended task's
        // wake-up costs. Watched for briefly, within the timeout.
        var watched = Duration.zero
        if watching, core.runtime.watchesReplies {
            let limit = timeout.map { Swift.min($0, ServerCore<M>.replyWatch) } ?? ServerCore<M>.replyWatch
            watched = core.watch(slot.cell, for: limit)
            if let immediate = slot.currentOutcome { return (slot, immediate, false) }
        }
        core.addWaiter(slot.cell)
        if let timeout {
            slot.armTimeout(after: timeout, elapsed: watched, on: core.runtime.timers, server: core.id)
            core.runtime.settle()
        }
        return (slot, nil, false)
    }

    // MARK: Casts and info

    /// Sends a fire-and-forget message; handled as ``Event/cast(_:)``.
    ///
    /// - Throws: ``StateServerError/Code/noSuchServer`` if the server has ended, `mailboxFull` if a bounded
    ///   mailbox rejects it. (Unlike OTP's cast, a message that cannot be delivered is reported, not lost.)
    @inlinable
    public func cast(_ message: M.Cast) throws {
        try deliver(.event(.cast(message)))
    }

    /// Sends an info message (any other message); handled as ``Event/info(_:)``.
    ///
    /// - Throws: as ``cast(_:)``.
    @inlinable
    public func send(_ info: M.Info) throws {
        try deliver(.event(.info(info)))
    }

    @inlinable
    func deliver(_ message: Message<M>) throws {
        switch core.enqueue(message) {
        case .dead: throw StateServerError(.noSuchServer, "\(self) has ended", exitReason: core.exitReason)
        case .full: throw StateServerError(.mailboxFull, "the mailbox of \(self) is full")
        case .dropped, .queued, .runInline, .drainQueued: break
        }
        core.runtime.settle()
    }

    // MARK: Lifecycle

    /// Whether the server is still running.
    public var isAlive: Bool { core.exitReason == nil }

    /// Why the server ended, or `nil` while it runs.
    public var exitReason: ExitReason? { core.exitReason }

    /// Stops the server: after the message it is handling, it calls `terminate` with `reason` and ends. Returns
    /// once it has ended (`gen_statem:stop/3`).
    ///
    /// - Parameters:
    ///   - reason: The exit reason; defaults to `.normal`.
    ///   - timeout: How long to wait for the server to end; `nil` waits forever.
    /// - Throws: `noSuchServer` if it had already ended; `stopTimeout` if it did not end in time (it still stops
    ///   once its current handler returns); `serverExited` with the error as exit reason if `terminate` threw.
    nonisolated(nonsending)
    public func stop(_ reason: ExitReason = .normal, timeout: Duration? = nil) async throws {
        let exited = ReplySlot<ExitReason>(owner: nil)
        let token = IdentityCounter.next()
        guard core.enqueueSystem(.stop(reason)) else {
            throw StateServerError(.noSuchServer, "\(self) has ended", exitReason: core.exitReason)
        }
        core.onExit(token: token) { reason in _ = exited.resolve(.success(reason)) }
        core.runtime.settle()
        if let timeout {
            exited.armTimeout(after: timeout, on: core.runtime.timers, server: core.id, code: .stopTimeout)
            core.runtime.settle()
        }
        let actual: ExitReason
        do {
            actual = try await exited.wait()
        } catch {
            core.removeExitObserver(token: token)
            throw error
        }
        // As `gen_statem:stop/3`: if `terminate` threw, the stop fails with that error.
        if case .error = actual, !Self.isError(reason) {
            throw StateServerError(.serverExited, "\(self) failed while stopping", exitReason: actual)
        }
    }

    private static func isError(_ reason: ExitReason) -> Bool {
        if case .error = reason { return true }
        return false
    }

    /// Waits until the server ends and returns its exit reason (at once if it has ended).
    ///
    /// - Throws: ``StateServerError/Code/cancelled`` if the waiting task is cancelled first (the server keeps
    ///   running).
    nonisolated(nonsending)
    public func waitForExit() async throws -> ExitReason {
        let exited = ReplySlot<ExitReason>(owner: nil)
        let token = IdentityCounter.next()
        core.onExit(token: token) { reason in _ = exited.resolve(.success(reason)) }
        do {
            return try await exited.wait()
        } catch {
            core.removeExitObserver(token: token)
            throw error
        }
    }

    // MARK: Monitors

    /// Makes `watcher` receive ``Event/down(_:_:)`` with this server's exit reason when this server ends (at once
    /// if it already has). Returns the reference the event will carry.
    @discardableResult
    public func monitor<Watcher: StateMachine>(by watcher: Server<Watcher>) -> MonitorReference {
        let reference = MonitorReference(rawValue: IdentityCounter.next())
        let watcherCore = watcher.core
        core.onExit(token: reference.rawValue) { reason in
            _ = watcherCore.enqueue(.event(.down(reference, reason)), bypassCapacity: true)
        }
        core.runtime.settle()
        return reference
    }

    /// Calls `handler` with the exit reason when this server ends (at once, on this thread, if it has).
    /// The handler runs on whichever thread ends the server; keep it short.
    @discardableResult
    public func monitor(_ handler: @escaping @Sendable (ExitReason) -> Void) -> MonitorReference {
        let reference = MonitorReference(rawValue: IdentityCounter.next())
        core.onExit(token: reference.rawValue, handler)
        return reference
    }

    /// Removes a monitor; returns false if it had already fired or was removed.
    @discardableResult
    public func demonitor(_ reference: MonitorReference) -> Bool {
        core.removeExitObserver(token: reference.rawValue)
    }

    // MARK: System requests (otp-semantics §1.12)

    /// The server's status: state, data, suspension, queue lengths and registered timeouts. Handled between
    /// messages, also while suspended.
    nonisolated(nonsending)
    public func status(timeout: Duration? = Server.defaultCallTimeout) async throws -> ServerStatus<M> {
        try await system(timeout: timeout) { .status($0) }
    }

    /// The current state and data (`sys:get_state`). Handled between messages, also while suspended.
    nonisolated(nonsending)
    public func getState(timeout: Duration? = Server.defaultCallTimeout) async throws -> StateSnapshot<M> {
        try await system(timeout: timeout) { .getState($0) }
    }

    /// Replaces state and data (`sys:replace_state`): a rename, with no enter call, no retry of postponed events
    /// and no cancelled timeout. If `transform` throws, nothing changes and the error is reported.
    @discardableResult
    nonisolated(nonsending)
    public func replaceState(
        timeout: Duration? = Server.defaultCallTimeout,
        _ transform: @escaping @Sendable (inout M.State, inout M.Data) throws -> Void
    ) async throws -> StateSnapshot<M> {
        try await system(timeout: timeout) { .replaceState(transform, $0) }
    }

    /// Suspends the server: until ``resume(timeout:)``, only system requests are handled; messages queue.
    nonisolated(nonsending)
    public func suspend(timeout: Duration? = Server.defaultCallTimeout) async throws {
        try await system(timeout: timeout) { .suspend($0) }
    }

    /// Resumes a suspended server; queued messages are then handled in order.
    nonisolated(nonsending)
    public func resume(timeout: Duration? = Server.defaultCallTimeout) async throws {
        try await system(timeout: timeout) { .resume($0) }
    }

    nonisolated(nonsending)
    private func system<Value: Sendable>(
        timeout: Duration?, _ makeRequest: (ReplySlot<Value>) -> SystemRequest<M>
    ) async throws -> Value {
        let slot = ReplySlot<Value>(owner: nil)
        guard core.enqueueSystem(makeRequest(slot)) else {
            throw StateServerError(.noSuchServer, "\(self) has ended", exitReason: core.exitReason)
        }
        core.runtime.settle()
        if let outcome = slot.currentOutcome { return try outcome.get(as: Value.self) }
        core.addWaiter(slot.cell)
        if let timeout {
            slot.armTimeout(after: timeout, on: core.runtime.timers, server: core.id)
            core.runtime.settle()
        }
        return try await slot.wait()
    }
}

extension Server {
    /// One observed step of a server, as passed to ``ServerOptions/observer``.
    public struct Observation: Sendable {
        /// The server observed.
        public var server: ServerID
        /// When, on the runtime's clock.
        public var time: RuntimeInstant
        /// What happened.
        public var event: TraceEvent<M>

        @usableFromInline init(server: ServerID, time: RuntimeInstant, event: TraceEvent<M>) {
            self.server = server
            self.time = time
            self.event = event
        }
    }
}

/// The outcome of a request sent with ``Server/request(timeout:_:)``, to read now or await later.
///
/// Concurrency: `Sendable`; may be awaited from several tasks.
public struct PendingReply<Value: Sendable>: Sendable {
    @usableFromInline let slot: ReplySlot<Value>

    @usableFromInline init(slot: ReplySlot<Value>) { self.slot = slot }

    /// Whether the outcome is known.
    @inlinable public var isResolved: Bool { slot.isResolved }

    /// The outcome, or `nil` while pending.
    @inlinable public var result: Result<Value, StateServerError>? { slot.currentResult }

    /// Waits for the outcome and returns the reply or throws its error. Cancelling the waiting task ends this
    /// wait with ``StateServerError/Code/cancelled`` but leaves the request pending; use ``cancel()`` to abandon it.
    nonisolated(nonsending)
    public func value() async throws -> Value { try await slot.wait(abandonsOnCancel: false) }

    /// Calls `body` with the outcome once it is known (at once, on this thread, if it is).
    package func onResolve(_ body: @escaping @Sendable (Result<Value, StateServerError>) -> Void) {
        let slot = slot
        slot.onResolve { if let result = slot.currentResult { body(result) } }
    }

    /// Gives up on the request: its outcome becomes ``StateServerError/Code/cancelled`` and a late reply is dropped.
    public func cancel() { _ = slot.fail(StateServerError(.cancelled, "the request was cancelled by its sender")) }
}

extension ServerCore {
    /// The exit reason, once the server has ended.
    @usableFromInline var exitReason: ExitReason? { mailbox.withLock { $0.isTerminated ? engine.exitReason : nil } }
}

extension Server {
    /// The current state and data, read synchronously: in virtual time, where every server is idle between
    /// operations, this always succeeds; on the real runtime it returns `nil` unless the snapshot is immediate.
    /// For test kits; application code uses ``getState(timeout:)``.
    package func snapshotNow() -> StateSnapshot<M>? {
        let slot = ReplySlot<StateSnapshot<M>>(owner: nil)
        guard core.enqueueSystem(.getState(slot)) else { return nil }
        core.runtime.settle()
        if case .success(let snapshot)? = slot.currentResult { return snapshot }
        _ = slot.fail(StateServerError(.cancelled, "snapshot abandoned"))
        return nil
    }
}
