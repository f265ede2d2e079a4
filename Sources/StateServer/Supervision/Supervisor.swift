/// A running supervisor: a server that starts, watches, restarts and stops its children (OTP's `supervisor`).
///
/// Create one with ``SupervisorSpec/start(on:)``. The supervisor is itself a server on the same runtime, so it
/// can be a child of another supervisor, be monitored and linked, and handles one request at a time.
///
/// ```swift
/// let supervisor = try SupervisorSpec(children: [.worker(id: "cache") { Cache() }]).start(on: runtime)
/// let cache = try await supervisor.child("cache", as: Cache.self)
/// try await supervisor.terminateChild("cache")
/// try await supervisor.stop()              // stops every child in reverse start order, then itself
/// ```
///
/// Concurrency: `Sendable` and cheap to copy; every method may be called from any task. Requests that change
/// the children wait while the supervisor is stopping children for an earlier request or a restart.
public struct Supervisor: ServerHandle, Hashable, CustomStringConvertible {
    let server: Server<SupervisorMachine>

    init(server: Server<SupervisorMachine>) { self.server = server }

    /// The supervisor's server identity.
    public var id: ServerID { server.id }
    /// Whether the supervisor is still running.
    public var isAlive: Bool { server.isAlive }
    /// Why the supervisor ended, or `nil` while it runs.
    public var exitReason: ExitReason? { server.exitReason }
    /// `Supervisor<N>`.
    public var description: String { "Supervisor\(server.id)" }

    /// Handles are equal when they refer to the same supervisor.
    public static func == (lhs: Supervisor, rhs: Supervisor) -> Bool { lhs.server == rhs.server }
    /// Hashes the supervisor's identity.
    public func hash(into hasher: inout Hasher) { hasher.combine(server) }

    // MARK: Children

    /// The children in start order: id, status (running with its server, restarting, or not running), type and
    /// restart type. (OTP's `which_children` lists the most recently started first.)
    ///
    /// - Complexity: O(n log n) in the number of children.
    /// - Throws: ``StateServerError`` if the supervisor has ended.
    public func whichChildren() async throws -> [ChildInfo] {
        try await server.call(timeout: nil) { .whichChildren($0) }
    }

    /// How many specs, running children, supervisors and workers there are.
    ///
    /// - Throws: ``StateServerError`` if the supervisor has ended.
    public func countChildren() async throws -> ChildCounts {
        try await server.call(timeout: nil) { .countChildren($0) }
    }

    /// The running server of the child `id`, typed, or `nil` if it is not running or runs another machine.
    ///
    /// - Throws: ``StateServerError`` if the supervisor has ended.
    public func child<M: StateMachine>(_ id: some Hashable & Sendable, as type: M.Type) async throws -> Server<M>? {
        let id = ChildID(id)
        return try await whichChildren().first { $0.id == id }?.server as? Server<M>
    }

    /// Adds a child at the end of the start order and starts it. Returns its server, or `nil` if its start
    /// returned `ignore` (the spec is then kept, unless temporary).
    ///
    /// - Throws: ``SupervisorError`` with `alreadyStarted` (the running server attached), `alreadyPresent`, or
    ///   `failedToStartChild` (the spec is not added); ``StateServerError`` if the supervisor has ended.
    @discardableResult
    public func startChild(_ spec: ChildSpec) async throws -> (any ServerHandle)? {
        try await server.call(timeout: nil) { .startChild(spec, $0) }.get()
    }

    /// Stops the child `id` with its shutdown setting and returns once it has ended; its spec is kept (a
    /// temporary child's is removed). A child waiting to be restarted is no longer restarted.
    ///
    /// - Throws: ``SupervisorError`` with `notFound`; ``StateServerError`` if the supervisor has ended.
    public func terminateChild(_ id: some Hashable & Sendable) async throws {
        let id = ChildID(id)
        try await server.call(timeout: nil) { .terminateChild(id, $0) }.get()
    }

    /// Starts again a child that is not running (after ``terminateChild(_:)``, say). Not counted toward the
    /// restart intensity. Returns its server, or `nil` if its start returned `ignore`.
    ///
    /// - Throws: ``SupervisorError`` with `notFound`, `running`, `restarting` or `failedToStartChild`;
    ///   ``StateServerError`` if the supervisor has ended.
    @discardableResult
    public func restartChild(_ id: some Hashable & Sendable) async throws -> (any ServerHandle)? {
        let id = ChildID(id)
        return try await server.call(timeout: nil) { .restartChild(id, $0) }.get()
    }

    /// Removes the spec of a child that is not running.
    ///
    /// - Throws: ``SupervisorError`` with `notFound`, `running` or `restarting`; ``StateServerError`` if the
    ///   supervisor has ended.
    public func deleteChild(_ id: some Hashable & Sendable) async throws {
        let id = ChildID(id)
        try await server.call(timeout: nil) { .deleteChild(id, $0) }.get()
    }

    // MARK: Lifecycle

    /// Stops every child in reverse start order (each with its shutdown setting), then ends the supervisor
    /// with `reason`; returns once it has ended.
    ///
    /// - Parameters:
    ///   - reason: The supervisor's exit reason; `.normal` by default. Children always stop with `shutdown`.
    ///   - timeout: How long to wait; `nil` (the default) waits as long as the children take.
    /// - Throws: ``StateServerError`` with `noSuchServer` if it had ended, `stopTimeout` if it did not end in
    ///   time (the shutdown goes on).
    public func stop(_ reason: ExitReason = .normal, timeout: Duration? = nil) async throws {
        try await server.stopInOrder(reason, timeout: timeout)
    }

    /// Ends the supervisor at once without stopping its children in order: they receive its end as a linked
    /// exit with reason `killed` (so they end too, unless they trap exits).
    public func kill() { server.kill() }

    /// Waits until the supervisor ends and returns its exit reason.
    public func waitForExit() async throws -> ExitReason { try await server.waitForExit() }

    /// Calls `handler` with the exit reason when the supervisor ends.
    @discardableResult
    public func monitor(_ handler: @escaping @Sendable (ExitReason) -> Void) -> MonitorReference {
        server.monitor(handler)
    }

    /// Makes `watcher` receive ``Event/down(_:_:)`` when the supervisor ends.
    @discardableResult
    public func monitor<Watcher: StateMachine>(by watcher: Server<Watcher>) -> MonitorReference {
        server.monitor(by: watcher)
    }

    /// Removes a monitor; false if it had already fired or was removed.
    @discardableResult
    public func demonitor(_ reference: MonitorReference) -> Bool { server.demonitor(reference) }

    /// A linked server ended: unless it ended normally, the supervisor shuts down in order with its reason
    /// (supervisors trap exits).
    public func deliverLinkedExit(from server: ServerID, reason: ExitReason) {
        self.server.deliverLinkedExit(from: server, reason: reason)
    }
}

extension Supervisor: ShutdownRequestable {
    func requestShutdown(_ reason: ExitReason) { server.requestShutdown(reason) }
}
