/// Describes a supervisor: its restart strategy, restart intensity, optional backoff, and children in start
/// order. Start it with ``start(on:)`` or run it as a service with ``run(on:)``.
///
/// ```swift
/// let tree = SupervisorSpec(strategy: .oneForOne, intensity: 3, period: .seconds(5), children: [
///     .worker(id: "cache") { Cache() },
///     .worker(id: "mailer", restart: .transient) { Mailer() },
/// ])
/// let supervisor = try tree.start(on: runtime)
/// ```
///
/// Concurrency: an immutable value; `Sendable`. Start it from any thread or task.
public struct SupervisorSpec: Sendable {
    /// Which children are restarted when one ends and must be restarted.
    public enum Strategy: Hashable, Sendable {
        /// Only the child that ended.
        ///
        /// ```text
        /// [A] [B*] [C]   →   [A] [B'] [C]
        /// ```
        case oneForOne
        /// Every child: the others are stopped in reverse start order, then all are started in order.
        ///
        /// ```text
        /// [A] [B*] [C]   →   stop C, stop A   →   start A', B', C'
        /// ```
        case oneForAll
        /// The child that ended and every child started after it: those are stopped in reverse order, then
        /// restarted in order.
        ///
        /// ```text
        /// [A] [B*] [C] [D]   →   stop D, stop C   →   start B', C', D'
        /// ```
        case restForOne
    }

    /// The restart strategy; `.oneForOne` by default.
    public var strategy: Strategy
    /// The most restarts allowed within ``period``; one more stops the supervisor (and all its children) with
    /// reason `shutdown`. OTP's default: 1.
    public var intensity: Int
    /// The sliding window of ``intensity``. OTP's default: 5 seconds.
    public var period: Duration
    /// Delays between restarts of a crashing child, or `nil` to restart at once (OTP's behaviour).
    public var backoff: RestartBackoff?
    /// The children, in start order.
    public var children: [ChildSpec]

    /// Creates a supervisor description.
    public init(
        strategy: Strategy = .oneForOne,
        intensity: Int = 1,
        period: Duration = .seconds(5),
        backoff: RestartBackoff? = nil,
        children: [ChildSpec]
    ) {
        self.strategy = strategy
        self.intensity = intensity
        self.period = period
        self.backoff = backoff
        self.children = children
    }

    /// Starts the supervisor and its children, in order, on `runtime`, returning once they have started.
    ///
    /// Each child's start runs on the calling thread. If a child fails to start, the children already started
    /// are stopped in reverse order with their shutdown settings (under a ``ManualClock`` this has happened
    /// when the error is thrown; on the real runtime it completes shortly after) and the supervisor ends with
    /// `shutdown`.
    ///
    /// - Throws: ``SupervisorError`` with ``SupervisorError/Code/failedToStartChild`` (naming the child and its
    ///   error), or ``SupervisorError/Code/invalidSpecification``.
    public func start(on runtime: Runtime) throws -> Supervisor {
        let (supervisor, failure) = try launch(on: runtime)
        if let failure { throw failure }
        return supervisor
    }

    /// Runs the supervision tree until the task is cancelled, then stops it in reverse start order and returns:
    /// the shape of swift-service-lifecycle's `Service.run()`.
    ///
    /// ```swift
    /// let task = Task { try await tree.run(on: runtime) }
    /// …
    /// task.cancel()          // every child is stopped, in reverse order, before run() returns
    /// ```
    ///
    /// - Throws: ``SupervisorError`` with `failedToStartChild` (after the started children were stopped), or
    ///   ``SupervisorError/Code/ended`` if the supervisor ended on its own (it reached its maximum restart
    ///   intensity, say).
    public func run(on runtime: Runtime = .shared) async throws {
        let (supervisor, failure) = try launch(on: runtime)
        if let failure {
            _ = await supervisor.server.exitReasonIgnoringCancellation()
            throw failure
        }
        try await supervisor.server.runUntilCancelled()
    }

    func launch(on runtime: Runtime) throws -> (Supervisor, SupervisorError?) {
        try validate()
        let configuration = SupervisorMachine.Configuration(
            strategy: strategy, intensity: intensity, period: period, backoff: backoff, children: children,
            isDynamic: false, maximumChildren: nil)
        let (server, failure) = try SupervisorMachine.launch(configuration, on: runtime)
        return (Supervisor(server: server), failure)
    }

    private func validate() throws {
        try SupervisorMachine.validate(intensity: intensity, period: period)
        try SupervisorMachine.validate(backoff: backoff)
        var seen = Set<ChildID>()
        for child in children {
            guard seen.insert(child.id).inserted else {
                throw SupervisorError(
                    .invalidSpecification, "two children have the id \(child.id)", childID: child.id)
            }
            try SupervisorMachine.validate(shutdown: child.shutdown, of: child.id)
        }
    }
}
