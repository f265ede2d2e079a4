/// How a ``Supervisor`` starts, restarts and stops one child (OTP's child specification).
///
/// ```swift
/// let children: [ChildSpec] = [
///     .worker(id: "cache") { Cache() },                                   // a machine, permanent
///     .worker(id: "mailer", restart: .transient, shutdown: .timeout(.seconds(1))) { Mailer() },
///     .supervisor(id: "sessions", sessionsTree),                         // a nested supervisor
///     ChildSpec(id: "billing") { runtime in                              // any start closure
///         try runtime.start(Billing(), name: "billing", in: registry)
///     },
/// ]
/// ```
///
/// The start closure runs on the supervisor's thread, from its handler: it must start the child synchronously
/// (`runtime.start`, ``SupervisorSpec/start(on:)``) and return its handle. Throwing a ``StateServerError``
/// with code ``StateServerError/Code/ignored`` (what `runtime.start` throws when a machine's `start` returns
/// `.ignore`) means "ignore": the spec is kept without a server (a temporary spec is dropped). Any other error
/// is a start failure.
///
/// Concurrency: an immutable value; `Sendable`. The start closure may run on any thread, once per (re)start.
public struct ChildSpec: Sendable {
    /// When a child that ended is restarted.
    public enum Restart: Hashable, Sendable, CustomStringConvertible {
        /// Always restarted (the default).
        case permanent
        /// Restarted only after an abnormal exit: not after `normal`, `shutdown` or `shutdown(detail)`.
        case transient
        /// Never restarted, not even as a bystander of a one-for-all or rest-for-one restart; its spec is removed
        /// when it ends.
        case temporary

        /// `permanent`, `transient` or `temporary`.
        public var description: String {
            switch self {
            case .permanent: "permanent"
            case .transient: "transient"
            case .temporary: "temporary"
            }
        }
    }

    /// How a child is stopped when the supervisor terminates it.
    public enum Shutdown: Hashable, Sendable, CustomStringConvertible {
        /// Killed at once (``ServerHandle/kill()``): its `terminate` does not run (OTP's `brutal_kill`).
        case brutalKill
        /// Asked to stop with reason `shutdown` (its `terminate` runs), and killed if it has not ended within
        /// the duration (the worker default: 5 seconds).
        case timeout(Duration)
        /// Asked to stop with reason `shutdown`, waiting as long as it takes (the default for supervisors, so
        /// that a nested tree shuts down completely).
        case infinity

        /// `brutalKill`, `timeout(5s)` or `infinity`.
        public var description: String {
            switch self {
            case .brutalKill: "brutalKill"
            case .timeout(let duration): "timeout(\(duration.shortDescription))"
            case .infinity: "infinity"
            }
        }
    }

    /// Whether a child is a worker or a supervisor (reported by ``Supervisor/countChildren()``).
    public enum ChildType: Hashable, Sendable {
        /// A server doing work.
        case worker
        /// A supervisor of its own children.
        case supervisor
    }

    /// The child's identifier, unique among the supervisor's children.
    public var id: ChildID
    /// When the child is restarted.
    public var restart: Restart
    /// How the child is stopped.
    public var shutdown: Shutdown
    /// Worker or supervisor.
    public var type: ChildType
    /// Starts the child on the given runtime and returns its handle.
    public var start: @Sendable (Runtime) throws -> any ServerHandle

    /// A child started by `start`.
    ///
    /// - Parameters:
    ///   - id: The child's identifier (any `Hashable & Sendable` value).
    ///   - restart: When to restart it; `.permanent` by default.
    ///   - shutdown: How to stop it; by default 5 seconds for a worker and `.infinity` for a supervisor.
    ///   - type: Worker (the default) or supervisor.
    ///   - start: Starts the child synchronously and returns its handle.
    public init(
        id: some Hashable & Sendable,
        restart: Restart = .permanent,
        shutdown: Shutdown? = nil,
        type: ChildType = .worker,
        start: @escaping @Sendable (Runtime) throws -> any ServerHandle
    ) {
        self.id = ChildID(id)
        self.restart = restart
        self.shutdown = shutdown ?? (type == .supervisor ? .infinity : .timeout(.seconds(5)))
        self.type = type
        self.start = start
    }

    /// A worker running a machine made by `makeMachine` (called again for every restart).
    ///
    /// ```swift
    /// .worker(id: "counter", restart: .transient) { Counter() }
    /// ```
    public static func worker<M: StateMachine>(
        id: some Hashable & Sendable,
        restart: Restart = .permanent,
        shutdown: Shutdown = .timeout(.seconds(5)),
        options: ServerOptions<M> = ServerOptions(),
        _ makeMachine: @escaping @Sendable () -> M
    ) -> ChildSpec {
        ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .worker) { runtime in
            try runtime.start(makeMachine(), options: options)
        }
    }

    /// A nested supervisor described by `specification`; shut down with `.infinity` by default so that its
    /// own children stop completely first.
    public static func supervisor(
        id: some Hashable & Sendable,
        restart: Restart = .permanent,
        shutdown: Shutdown = .infinity,
        _ specification: SupervisorSpec
    ) -> ChildSpec {
        ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .supervisor) { runtime in
            try specification.start(on: runtime)
        }
    }

    /// A nested dynamic supervisor described by `specification`.
    public static func supervisor<Argument, Child>(
        id: some Hashable & Sendable,
        restart: Restart = .permanent,
        shutdown: Shutdown = .infinity,
        _ specification: DynamicSupervisorSpec<Argument, Child>
    ) -> ChildSpec {
        ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .supervisor) { runtime in
            try specification.start(on: runtime)
        }
    }
}
