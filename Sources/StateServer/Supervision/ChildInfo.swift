/// What a child of a supervisor is doing, as listed by ``Supervisor/whichChildren()``.
public enum ChildStatus: Sendable, CustomStringConvertible {
    /// The child runs as this server.
    case running(any ServerHandle)
    /// The child ended and waits for its restart (a backoff delay, or a retry after a failed restart).
    case restarting
    /// The spec is kept but no server runs: it was terminated, its start returned `ignore`, or it was a
    /// transient child that ended normally.
    case notRunning

    /// `running(<7>)`, `restarting` or `notRunning`.
    public var description: String {
        switch self {
        case .running(let server): "running(\(server.id))"
        case .restarting: "restarting"
        case .notRunning: "notRunning"
        }
    }
}

/// One child of a supervisor: its id, what it is doing, its type and restart type (`which_children`).
public struct ChildInfo: Sendable, CustomStringConvertible {
    /// The child's id.
    public var id: ChildID
    /// Running (with its server), restarting, or not running.
    public var status: ChildStatus
    /// Worker or supervisor.
    public var type: ChildSpec.ChildType
    /// The child's restart type.
    public var restart: ChildSpec.Restart

    /// The running server, or `nil`.
    public var server: (any ServerHandle)? {
        if case .running(let server) = status { return server }
        return nil
    }

    /// `"cache": running(<7>)`.
    public var description: String { "\(id): \(status)" }
}

/// How many children a supervisor has (`count_children`).
public struct ChildCounts: Hashable, Sendable {
    /// Child specs, running or not.
    public var specs: Int
    /// Children with a running server.
    public var active: Int
    /// Specs of type supervisor.
    public var supervisors: Int
    /// Specs of type worker.
    public var workers: Int

    /// Creates counts.
    public init(specs: Int, active: Int, supervisors: Int, workers: Int) {
        self.specs = specs
        self.active = active
        self.supervisors = supervisors
        self.workers = workers
    }
}
