/// The one error type of the `StateServer` module: a code, a message, and, where a server ended, its exit reason.
///
/// Codes are values of an open struct, so new codes can be added without breaking a `switch` in user code;
/// compare with `==` or match with `~=`:
///
/// ```swift
/// do { _ = try await server.call { .balance($0) } }
/// catch let error as StateServerError where error.code == .callTimeout { … }
/// ```
public struct StateServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case noSuchServer, serverExited, callTimeout, mailboxFull, ignored, startFailed
            case invalidAction, invalidTransition, invalidArgument, stopTimeout, cancelled, alreadyRegistered
            case invalidTable
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The server does not exist: it had already ended when the request was made (`noproc`).
        public static let noSuchServer = Code(.noSuchServer)
        /// The server ended while the request was pending; ``StateServerError/exitReason`` says why.
        public static let serverExited = Code(.serverExited)
        /// No reply came within the caller's timeout. A reply that arrives later is dropped.
        public static let callTimeout = Code(.callTimeout)
        /// A bounded mailbox was full and its overflow policy rejects new messages.
        public static let mailboxFull = Code(.mailboxFull)
        /// The machine's `start` returned `.ignore`: no server was started.
        public static let ignored = Code(.ignored)
        /// The machine's `start` returned `.stop`, `.error` or threw; ``StateServerError/exitReason`` says why.
        public static let startFailed = Code(.startFailed)
        /// A handler returned an action that is not allowed where it was returned (the server stops with it).
        public static let invalidAction = Code(.invalidAction)
        /// A handler returned a transition that is not allowed where it was returned (the server stops with it).
        public static let invalidTransition = Code(.invalidTransition)
        /// An argument to the API was out of range (for example a negative timeout).
        public static let invalidArgument = Code(.invalidArgument)
        /// `stop(reason:timeout:)` gave up waiting for the server to end.
        public static let stopTimeout = Code(.stopTimeout)
        /// The awaiting task was cancelled; the request was abandoned and its late reply will be dropped.
        public static let cancelled = Code(.cancelled)
        /// A name was already registered to another server.
        public static let alreadyRegistered = Code(.alreadyRegistered)
        /// A transition table failed validation.
        public static let invalidTable = Code(.invalidTable)

        /// The code's name, for example `callTimeout`.
        public var description: String { value.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation naming the server, state or action involved where known.
    public var message: String
    /// The exit reason of the server involved, for ``Code/serverExited`` and ``Code/startFailed``.
    public var exitReason: ExitReason?

    /// Creates an error.
    public init(_ code: Code, _ message: String, exitReason: ExitReason? = nil) {
        self.code = code
        self.message = message
        self.exitReason = exitReason
    }

    /// `code: message`, with the exit reason when there is one.
    public var description: String {
        if let exitReason { return "\(code): \(message) (exit reason: \(exitReason))" }
        return "\(code): \(message)"
    }
}
