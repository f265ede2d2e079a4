/// Why a supervisor operation failed: a child that failed to start, an unknown or busy child, an invalid
/// specification, or a supervision tree that ended on its own.
///
/// ```swift
/// do { _ = try tree.start(on: runtime) }
/// catch let error as SupervisorError where error.code == .failedToStartChild {
///     print(error.childID!, error.underlyingError!)
/// }
/// ```
///
/// Errors of the runtime itself (the supervisor has ended, say) are ``StateServerError``s.
///
/// Concurrency: an immutable value; `Sendable`.
public struct SupervisorError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case failedToStartChild, alreadyPresent, alreadyStarted, notFound, running, restarting
            case maximumChildren, invalidSpecification, ended
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A child's start closure threw (or its machine's `start` failed). ``SupervisorError/childID`` names
        /// it and ``SupervisorError/underlyingError`` says why (usually a ``StateServerError`` with code
        /// `startFailed` and the exit reason). At supervisor start, the children already started were stopped.
        public static let failedToStartChild = Code(.failedToStartChild)
        /// `startChild`: a child with this id exists but is not running (`already_present`).
        public static let alreadyPresent = Code(.alreadyPresent)
        /// `startChild`: a child with this id is running; ``SupervisorError/server`` is it (`already_started`).
        public static let alreadyStarted = Code(.alreadyStarted)
        /// No child has this id (or server).
        public static let notFound = Code(.notFound)
        /// `restartChild` / `deleteChild`: the child is running.
        public static let running = Code(.running)
        /// `restartChild` / `deleteChild`: the child is waiting to be restarted.
        public static let restarting = Code(.restarting)
        /// A dynamic supervisor already has its maximum number of children.
        public static let maximumChildren = Code(.maximumChildren)
        /// The specification is invalid (duplicate child ids, a negative intensity, a non-positive period).
        public static let invalidSpecification = Code(.invalidSpecification)
        /// `run()`: the supervisor ended without being cancelled (for example it reached its maximum restart
        /// intensity); ``SupervisorError/exitReason`` says how.
        public static let ended = Code(.ended)

        /// The code's name, for example `failedToStartChild`.
        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The child concerned, when there is one.
    public var childID: ChildID?
    /// Why the child failed to start (``Code/failedToStartChild``).
    public var underlyingError: (any Error)?
    /// The running child (``Code/alreadyStarted``).
    public var server: (any ServerHandle)?
    /// The supervisor's exit reason (``Code/ended``), or the exit reason carried by the underlying error.
    public var exitReason: ExitReason?

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, childID: ChildID? = nil, underlyingError: (any Error)? = nil,
        server: (any ServerHandle)? = nil, exitReason: ExitReason? = nil
    ) {
        self.code = code
        self.message = message
        self.childID = childID
        self.underlyingError = underlyingError
        self.server = server
        self.exitReason = exitReason ?? (underlyingError as? StateServerError)?.exitReason
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    static func failedToStart(_ id: ChildID, _ error: any Error) -> SupervisorError {
        SupervisorError(.failedToStartChild, "child \(id) failed to start: \(error)", childID: id, underlyingError: error)
    }
}
