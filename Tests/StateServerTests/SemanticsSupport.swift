import Synchronization
import Testing
import StateServer

// Shared fixtures for the gen_statem semantics suites (otp-semantics §1.4–§1.10, §6).
//
// Most tests drive a `Probe`: a machine whose start, handler and terminate are closures written in the test,
// and which records every handler call ("<state> <event>") and its termination in an `EventLog`. Tests then
// assert the exact order of what the engine did.

/// An append-only, thread-safe record of what a machine did, shared between a test and the machine.
final class EventLog: Sendable {
    private struct Entry {
        var text: String
        var time: RuntimeInstant?
    }

    private let storage = Locked<[Entry]>([])

    init() {}

    /// Records `text`, stamped with `time` when given.
    func append(_ text: String, at time: RuntimeInstant? = nil) {
        storage.withLock { $0.append(Entry(text: text, time: time)) }
    }

    /// Every entry, oldest first.
    var entries: [String] { storage.withLock { $0.map(\.text) } }

    /// Every time-stamped entry as "<time> <text>", for example "30s red stateTimeout:".
    var timeline: [String] {
        storage.withLock { entries in
            entries.compactMap { entry in entry.time.map { "\($0.testLabel) \(entry.text)" } }
        }
    }

    /// The entries that start with `prefix`.
    func entries(startingWith prefix: String) -> [String] { entries.filter { $0.hasPrefix(prefix) } }

    /// Forgets everything recorded so far.
    func clear() { storage.withLock { $0.removeAll() } }
}

/// A value shared by a test and the closures it hands to a machine (a reply handle to keep, a flag to read).
final class SharedBox<Value: Sendable>: Sendable {
    private let storage: Locked<Value>
    init(_ value: Value) { storage = Locked(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// An error a test machine throws on purpose.
struct Boom: Error, Equatable, CustomStringConvertible {
    var tag: String
    init(_ tag: String) { self.tag = tag }
    var description: String { "Boom(\(tag))" }
}

/// The data of a ``Probe``: a counter, reply handles kept for deferred replies, and free-form notes.
struct ProbeData: Sendable {
    var count = 0
    var held: [Reply<String>] = []
    var notes: [String] = []
}

/// A scriptable machine: the test supplies `start`, `handle` and `terminate` as closures; every handler call and
/// the termination are recorded in `log`.
///
/// States are strings ("a", "b", ...), casts, infos, timer names and timeout contents are strings; the one call,
/// `ask(tag, reply)`, carries a `Reply<String>`.
struct Probe: StateMachine {
    typealias State = String
    typealias Data = ProbeData
    enum Call: Sendable { case ask(String, Reply<String>) }
    typealias Cast = String
    typealias Info = String
    typealias Timer = String
    typealias Timeout = String
    typealias Handler = @Sendable (Event<Probe>, String, inout ProbeData) throws -> Transition<Probe>
    typealias Terminator = @Sendable (ExitReason, String, ProbeData) throws -> Void

    let log: EventLog
    let callsStateEnter: Bool
    let clock: ManualClock?
    let initial: @Sendable () throws -> Start<Probe>
    let terminator: Terminator
    let handler: Handler

    /// - Parameters:
    ///   - log: Where handler calls are recorded.
    ///   - enter: Whether the machine opts into state-enter calls.
    ///   - clock: When given, every record is stamped with the clock's time (see ``EventLog/timeline``).
    ///   - start: The machine's `start`; by default `.ok("a", data: ProbeData())`.
    ///   - terminate: Called from `terminate` after it is recorded.
    ///   - handle: The handler (the trailing closure).
    init(
        log: EventLog,
        enter: Bool = false,
        clock: ManualClock? = nil,
        start: @escaping @Sendable () throws -> Start<Probe> = { .ok("a", data: ProbeData()) },
        terminate: @escaping Terminator = { _, _, _ in },
        handle: @escaping Handler
    ) {
        self.log = log
        self.callsStateEnter = enter
        self.clock = clock
        self.initial = start
        self.terminator = terminate
        self.handler = handle
    }

    func start() throws -> Start<Probe> {
        try initial()
    }

    func handle(_ event: Event<Probe>, in state: String, data: inout ProbeData) throws -> Transition<Probe> {
        log.append("\(state) \(event.label)", at: clock?.now)
        return try handler(event, state, &data)
    }

    func terminate(reason: ExitReason, state: String, data: ProbeData) throws {
        log.append("terminate \(reason.label) in \(state)", at: clock?.now)
        try terminator(reason, state, data)
    }
}

extension Event where M == Probe {
    /// A short, stable description for logs: "cast:x", "enter:a", "stateTimeout:z", "timeout(n):c", ...
    var label: String {
        switch self {
        case .call(.ask(let tag, _)): "call:\(tag)"
        case .cast(let message): "cast:\(message)"
        case .info(let message): "info:\(message)"
        case .internal(let message): "internal:\(message)"
        case .enter(let from): "enter:\(from)"
        case .eventTimeout(let content): "eventTimeout:\(content)"
        case .stateTimeout(let content): "stateTimeout:\(content)"
        case .timeout(let name, let content): "timeout(\(name)):\(content)"
        case .down(_, let reason): "down:\(reason.label)"
        case .exit(_, let reason): "exit:\(reason.label)"
        }
    }
}

extension ExitReason {
    /// "normal", "shutdown(x)", "error(invalidAction)" for a ``StateServerError``, "error(Boom(x))", "killed".
    var label: String {
        switch self {
        case .error(let error as StateServerError): "error(\(error.code))"
        default: description
        }
    }

    /// The code of the ``StateServerError`` this reason carries, if it is one.
    var stateServerErrorCode: StateServerError.Code? {
        if case .error(let error as StateServerError) = self { return error.code }
        return nil
    }

    /// The error this reason carries, if it is an error exit.
    var thrownError: (any Error)? {
        if case .error(let error) = self { return error }
        return nil
    }
}

extension RuntimeInstant {
    /// "30s" on whole seconds, "1500ms" otherwise.
    var testLabel: String {
        nanoseconds % 1_000_000_000 == 0 ? "\(nanoseconds / 1_000_000_000)s" : "\(nanoseconds / 1_000_000)ms"
    }
}

/// Expects `server` to have ended with an error exit carrying a ``StateServerError`` with `code`.
func expectErrorExit<M: StateMachine>(
    _ server: Server<M>, code: StateServerError.Code, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(!server.isAlive, "the server should have ended", sourceLocation: sourceLocation)
    #expect(
        server.exitReason?.stateServerErrorCode == code,
        "exit reason \(server.exitReason.map(\.label) ?? "nil") should carry \(code)",
        sourceLocation: sourceLocation)
}

/// Expects a pending request to have failed with `code` (and, when given, the server's exit reason `reason`).
func expectFailure<Value: Sendable>(
    _ pending: PendingReply<Value>, code: StateServerError.Code, reason: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard case .failure(let error)? = pending.result else {
        Issue.record("expected a \(code) failure, got \(String(describing: pending.result))", sourceLocation: sourceLocation)
        return
    }
    #expect(error.code == code, sourceLocation: sourceLocation)
    if let reason {
        #expect(error.exitReason?.label == reason, sourceLocation: sourceLocation)
    }
}

extension PendingReply {
    /// The reply value, or `nil` while pending or failed.
    var answer: Value? { if case .success(let value)? = result { value } else { nil } }
}
