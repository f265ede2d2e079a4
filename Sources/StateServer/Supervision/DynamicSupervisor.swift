/// Describes a dynamic supervisor: no children at start, one template, and one child per
/// ``DynamicSupervisor/startChild(_:)`` (OTP's `simple_one_for_one`, Elixir's `DynamicSupervisor`). Use it for
/// one machine per session, connection or key.
///
/// ```swift
/// let sessions = try DynamicSupervisorSpec(restart: .transient) { (user: String) in Session(user: user) }
///     .start(on: runtime)
/// let alice: Server<Session>? = try await sessions.startChild("alice")
/// ```
///
/// Children are restarted one for one (with the same argument), subject to the restart intensity; on shutdown
/// they are all asked to stop at once, and the supervisor ends when all have.
///
/// Concurrency: an immutable value; `Sendable`.
public struct DynamicSupervisorSpec<Argument: Sendable, Child: ServerHandle>: Sendable {
    /// The children's restart type; `.permanent` by default.
    public var restart: ChildSpec.Restart
    /// How the children are stopped; 5 seconds by default.
    public var shutdown: ChildSpec.Shutdown
    /// Whether the children are workers or supervisors.
    public var type: ChildSpec.ChildType
    /// The most restarts allowed within ``period``; OTP's default: 1.
    public var intensity: Int
    /// The sliding window of ``intensity``; OTP's default: 5 seconds.
    public var period: Duration
    /// Delays between restarts of a crashing child, or `nil` to restart at once.
    public var backoff: RestartBackoff?
    /// The most children at once, or `nil` for no limit.
    public var maximumChildren: Int?
    /// Starts one child for an argument.
    public var start: @Sendable (Runtime, Argument) throws -> Child

    /// A dynamic supervisor whose children are started by `start`.
    public init(
        restart: ChildSpec.Restart = .permanent,
        shutdown: ChildSpec.Shutdown = .timeout(.seconds(5)),
        type: ChildSpec.ChildType = .worker,
        intensity: Int = 1,
        period: Duration = .seconds(5),
        backoff: RestartBackoff? = nil,
        maximumChildren: Int? = nil,
        start: @escaping @Sendable (Runtime, Argument) throws -> Child
    ) {
        self.restart = restart
        self.shutdown = shutdown
        self.type = type
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self.maximumChildren = maximumChildren
        self.start = start
    }

    /// A dynamic supervisor of workers running the machine `makeMachine` builds from each argument.
    public init<M: StateMachine>(
        restart: ChildSpec.Restart = .permanent,
        shutdown: ChildSpec.Shutdown = .timeout(.seconds(5)),
        intensity: Int = 1,
        period: Duration = .seconds(5),
        backoff: RestartBackoff? = nil,
        maximumChildren: Int? = nil,
        options: ServerOptions<M> = ServerOptions(),
        _ makeMachine: @escaping @Sendable (Argument) -> M
    ) where Child == Server<M> {
        self.init(
            restart: restart, shutdown: shutdown, type: .worker, intensity: intensity, period: period,
            backoff: backoff, maximumChildren: maximumChildren
        ) { runtime, argument in
            try runtime.start(makeMachine(argument), options: options)
        }
    }

    /// Starts the (childless) supervisor on `runtime`.
    ///
    /// - Throws: ``SupervisorError/Code/invalidSpecification``.
    public func start(on runtime: Runtime) throws -> DynamicSupervisor<Argument, Child> {
        try SupervisorMachine.validate(intensity: intensity, period: period)
        try SupervisorMachine.validate(backoff: backoff)
        if let maximumChildren, maximumChildren < 0 {
            throw SupervisorError(.invalidSpecification, "the maximum of children \(maximumChildren) is negative")
        }
        let configuration = SupervisorMachine.Configuration(
            strategy: .oneForOne, intensity: intensity, period: period, backoff: backoff, children: [],
            isDynamic: true, maximumChildren: maximumChildren)
        let (server, _) = try SupervisorMachine.launch(configuration, on: runtime)
        return DynamicSupervisor(server: server, specification: self)
    }

    /// Runs the supervisor until the task is cancelled, then stops every child and returns (the shape of
    /// swift-service-lifecycle's `Service.run()`).
    ///
    /// - Throws: ``SupervisorError/Code/ended`` if the supervisor ended on its own.
    public func run(on runtime: Runtime = .shared) async throws {
        try await start(on: runtime).server.runUntilCancelled()
    }
}

/// A running dynamic supervisor: start one child per argument, terminate children by server.
///
/// Concurrency: `Sendable` and cheap to copy; every method may be called from any task.
public struct DynamicSupervisor<Argument: Sendable, Child: ServerHandle>: ServerHandle, Hashable, CustomStringConvertible {
    let server: Server<SupervisorMachine>
    let specification: DynamicSupervisorSpec<Argument, Child>

    /// The supervisor's server identity.
    public var id: ServerID { server.id }
    /// Whether the supervisor is still running.
    public var isAlive: Bool { server.isAlive }
    /// Why the supervisor ended, or `nil` while it runs.
    public var exitReason: ExitReason? { server.exitReason }
    /// `DynamicSupervisor<N>`.
    public var description: String { "DynamicSupervisor\(server.id)" }

    /// Handles are equal when they refer to the same supervisor.
    public static func == (lhs: DynamicSupervisor, rhs: DynamicSupervisor) -> Bool { lhs.server == rhs.server }
    /// Hashes the supervisor's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(server) }

    /// Starts a child for `argument`. Returns its server, or `nil` if its start returned `ignore` (nothing is
    /// added).
    ///
    /// - Throws: ``SupervisorError`` with `failedToStartChild` or `maximumChildren`; ``StateServerError`` if
    ///   the supervisor has ended.
    @discardableResult
    public func startChild(_ argument: Argument) async throws -> Child? {
        let template = specification.start
        let spec = ChildSpec(
            id: 0, restart: specification.restart, shutdown: specification.shutdown, type: specification.type
        ) { runtime in try template(runtime, argument) }
        let started = try await server.call(timeout: nil) { .startDynamicChild(spec, $0) }.get()
        return started.map { $0 as! Child }  // the template returns a Child
    }

    /// Stops the child running as `child` with the shutdown setting and removes it; returns once it has ended.
    ///
    /// - Throws: ``SupervisorError`` with `notFound`; ``StateServerError`` if the supervisor has ended.
    public func terminateChild(_ child: some ServerHandle) async throws {
        let id = child.id
        try await server.call(timeout: nil) { .terminateServer(id, $0) }.get()
    }

    /// The children in start order, numbered from 1 (`ChildID(1)`, …).
    ///
    /// - Complexity: O(n log n) in the number of children.
    public func whichChildren() async throws -> [ChildInfo] {
        try await server.call(timeout: nil) { .whichChildren($0) }
    }

    /// How many children there are (``ChildCounts/specs`` counts every child, running or restarting).
    public func countChildren() async throws -> ChildCounts {
        try await server.call(timeout: nil) { .countChildren($0) }
    }

    /// The running children's servers, in start order.
    public func children() async throws -> [Child] {
        try await whichChildren().compactMap { $0.server as? Child }
    }

    /// Stops every child (all at once), then ends the supervisor with `reason`; returns once it has ended.
    ///
    /// - Throws: ``StateServerError`` with `noSuchServer` if it had ended, `stopTimeout` if it did not end in
    ///   time.
    public func stop(_ reason: ExitReason = .normal, timeout: Duration? = nil) async throws {
        try await server.stopInOrder(reason, timeout: timeout)
    }

    /// Ends the supervisor at once; its children receive its end as a linked exit with reason `killed`.
    public func kill() { server.kill() }

    /// Waits until the supervisor ends and returns its exit reason.
    public func waitForExit() async throws -> ExitReason { try await server.waitForExit() }

    /// Calls `handler` with the exit reason when the supervisor ends.
    @discardableResult
    public func monitor(_ handler: @escaping @Sendable (ExitReason) -> Void) -> MonitorReference {
        server.monitor(handler)
    }

    /// Removes a monitor; false if it had already fired or was removed.
    @discardableResult
    public func demonitor(_ reference: MonitorReference) -> Bool { server.demonitor(reference) }

    /// A linked server ended: unless it ended normally, the supervisor shuts down with its reason.
    public func deliverLinkedExit(from server: ServerID, reason: ExitReason) {
        self.server.deliverLinkedExit(from: server, reason: reason)
    }
}

extension DynamicSupervisor: ShutdownRequestable {
    func requestShutdown(_ reason: ExitReason) { server.requestShutdown(reason) }
}
