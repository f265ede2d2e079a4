import Synchronization
import Testing
@testable import StateServer

// Shared machines and helpers of the Runtime* tests. Names carry a `Runtime` prefix (or live in the
// `RuntimeExpect` namespace) so they cannot collide with the helpers of other test files.

/// The error the test machines throw, identified by its tag.
struct RuntimeTestError: Error, Equatable {
    var tag: String
}

/// A thread-safe append-only list, for observers, monitors and `terminate` calls.
final class RuntimeRecording<Element: Sendable>: Sendable {
    private let storage = Locked<[Element]>([])

    init() {}

    func append(_ element: Element) { storage.withLock { $0.append(element) } }

    var elements: [Element] { storage.withLock { $0 } }
}

/// A one-shot async latch: `wait()` suspends until `open()` is called (at once if it already was).
final class RuntimeGate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    init() {}

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// A general-purpose machine for runtime tests: typed calls of several reply types, deferred and postponed
/// calls, a crash on request, timeouts, and a log of what it handled.
struct RuntimeProbe: StateMachine {
    enum State: Hashable, Sendable { case idle, busy }

    struct Point: Hashable, Sendable {
        var x: Int
        var y: Int
    }

    struct Data: Sendable {
        var log: [String] = []
        /// Calls answered later (deferred replies).
        var held: [Reply<Int>] = []
    }

    enum Call: Sendable {
        case echo(Int, Reply<Int>)
        case describe(Reply<String>)
        case isBusy(Reply<Bool>)
        case point(Int, Int, Reply<Point>)
        case touch(Reply<Void>)
        case log(Reply<[String]>)
        /// Kept in `data.held`, answered by `.release` or from outside.
        case hold(Reply<Int>)
        /// Returns the reply handles of the held calls, so a test can answer them from outside.
        case heldReplies(Reply<[Reply<Int>]>)
        /// Postponed while busy; answered with `"idle"` once idle.
        case whenIdle(Reply<String>)
    }

    enum Cast: Sendable {
        case note(String)
        /// Answers every held call with the value and forgets them.
        case release(Int)
        case crash(String)
        case becomeBusy
        case becomeIdle
        case stop(ExitReason)
        case eventTimeout(Duration)
        case stateTimeout(Duration)
        case namedTimeout(String, Duration)
    }

    enum Info: Sendable { case note(String) }

    typealias Timer = String

    enum StartMode: Sendable {
        case ok
        case ignore
        case stop(ExitReason)
        case error(any Error)
        case throwing(any Error)
    }

    var startMode = StartMode.ok
    var startActions: [Action<RuntimeProbe>] = []
    /// Receives `"<reason> in <state>"` for every `terminate` call.
    var terminations: RuntimeRecording<String>?

    func start() throws -> Start<Self> {
        switch startMode {
        case .ok: return .ok(.idle, data: Data(), actions: startActions)
        case .ignore: return .ignore
        case .stop(let reason): return .stop(reason)
        case .error(let error): return .error(error)
        case .throwing(let error): throw error
        }
    }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self> {
        switch event {
        case .call(let call):
            return handle(call, in: state, data: &data)
        case .cast(let cast):
            return try handle(cast, in: state, data: &data)
        case .info(.note(let text)):
            data.log.append("info:\(text)")
            return .keep
        case .internal(.note(let text)):
            data.log.append("internal:\(text)")
            return .keep
        case .eventTimeout:
            data.log.append("eventTimeout in \(state)")
            return .keep
        case .stateTimeout:
            data.log.append("stateTimeout in \(state)")
            return .keep
        case .timeout(let name, _):
            data.log.append("timeout(\(name))")
            return .keep
        default:
            return .keep
        }
    }

    private func handle(_ call: Call, in state: State, data: inout Data) -> Transition<Self> {
        switch call {
        case .echo(let value, let reply):
            return .keep(.reply(reply, value))
        case .describe(let reply):
            return .keep(.reply(reply, "\(state) after \(data.log.count) notes"))
        case .isBusy(let reply):
            return .keep(.reply(reply, state == .busy))
        case .point(let x, let y, let reply):
            return .keep(.reply(reply, Point(x: x, y: y)))
        case .touch(let reply):
            data.log.append("touched")
            return .keep(.reply(reply, ()))
        case .log(let reply):
            return .keep(.reply(reply, data.log))
        case .hold(let reply):
            data.held.append(reply)
            return .keep
        case .heldReplies(let reply):
            return .keep(.reply(reply, data.held))
        case .whenIdle(let reply):
            guard state == .idle else { return .keep(.postpone) }
            data.log.append("whenIdle")
            return .keep(.reply(reply, "idle"))
        }
    }

    private func handle(_ cast: Cast, in state: State, data: inout Data) throws -> Transition<Self> {
        switch cast {
        case .note(let text):
            data.log.append("cast:\(text)")
            return .keep
        case .release(let value):
            let replies = data.held.map { Action<Self>.reply($0, value) }
            data.held = []
            return .keep(actions: replies)
        case .crash(let tag):
            throw RuntimeTestError(tag: tag)
        case .becomeBusy:
            return .goto(.busy)
        case .becomeIdle:
            return .goto(.idle)
        case .stop(let reason):
            return .stop(reason)
        case .eventTimeout(let duration):
            return .keep(.eventTimeout(duration))
        case .stateTimeout(let duration):
            return .keep(.stateTimeout(duration))
        case .namedTimeout(let name, let duration):
            return .keep(.timeout(name, duration))
        }
    }

    func terminate(reason: ExitReason, state: State, data: Data) throws {
        terminations?.append("\(RuntimeExpect.label(reason)) in \(state)")
    }
}

/// Assertions shared by the Runtime* tests.
enum RuntimeExpect {
    /// A comparable rendering of an exit reason: `normal`, `shutdown(detail)`, `killed`, `error(tag)` for a
    /// ``RuntimeTestError``, `error(code)` for a ``StateServerError``, or `running` for `nil`.
    static func label(_ reason: ExitReason?) -> String {
        switch reason {
        case nil: "running"
        case .error(let error as RuntimeTestError)?: "error(\(error.tag))"
        case .error(let error as StateServerError)?: "error(\(error.code))"
        case let reason?: reason.description
        }
    }

    /// A comparable rendering of an observed step.
    static func label<M: StateMachine>(_ event: TraceEvent<M>) -> String {
        switch event {
        case .started(let state): "started(\(state))"
        case .handling(let event, let state): "handling(\(label(event)) in \(state))"
        case .transition(let from, let to): "transition(\(from)->\(to))"
        case .postponed(let event): "postponed(\(label(event)))"
        case .replied(let value, let wasDelivered): "replied(\(value), delivered: \(wasDelivered))"
        case .timeoutArmed(let kind, let time): "timeoutArmed(\(kind), \(time))"
        case .stopping(let reason, let state): "stopping(\(label(reason)) in \(state))"
        case .exited(let reason): "exited(\(label(reason)))"
        case .messageDropped: "messageDropped"
        // Steps no test asserts on (and cases added later) keep their default rendering.
        default: "\(event)"
        }
    }

    /// The kind of an event, without its payload.
    static func label<M: StateMachine>(_ event: Event<M>) -> String {
        switch event {
        case .call: "call"
        case .cast: "cast"
        case .info: "info"
        case .internal: "internal"
        case .enter: "enter"
        case .eventTimeout: "eventTimeout"
        case .stateTimeout: "stateTimeout"
        case .timeout: "timeout"
        case .down: "down"
        case .exit: "exit"
        }
    }

    /// Expects a resolved request with `value`.
    static func reply<Value: Equatable>(
        _ pending: PendingReply<Value>, _ value: Value, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch pending.result {
        case nil: Issue.record("expected the reply \(value), the request is still pending", sourceLocation: sourceLocation)
        case .success(let actual)?: #expect(actual == value, sourceLocation: sourceLocation)
        case .failure(let error)?: Issue.record("expected the reply \(value), got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Expects a request that failed with `code`; returns the error.
    @discardableResult
    static func failure<Value>(
        _ pending: PendingReply<Value>, _ code: StateServerError.Code, sourceLocation: SourceLocation = #_sourceLocation
    ) -> StateServerError? {
        switch pending.result {
        case nil:
            Issue.record("expected \(code), the request is still pending", sourceLocation: sourceLocation)
            return nil
        case .success(let value)?:
            Issue.record("expected \(code), got the reply \(value)", sourceLocation: sourceLocation)
            return nil
        case .failure(let error)?:
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        }
    }

    /// Expects `body` to throw a ``StateServerError`` with `code`; returns the error.
    @discardableResult
    static func throwsCode<T>(
        _ code: StateServerError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> T
    ) async -> StateServerError? {
        do {
            let value = try await body()
            Issue.record("expected \(code), got \(value)", sourceLocation: sourceLocation)
            return nil
        } catch let error as StateServerError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected a StateServerError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Expects the synchronous `body` to throw a ``StateServerError`` with `code`; returns the error.
    @discardableResult
    static func throwsCodeNow<T>(
        _ code: StateServerError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
    ) -> StateServerError? {
        do {
            let value = try body()
            Issue.record("expected \(code), got \(value)", sourceLocation: sourceLocation)
            return nil
        } catch let error as StateServerError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("expected a StateServerError \(code), got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Expects `expected` to appear in `actual` in this order (other entries may come between).
    static func subsequence(
        _ expected: [String], in actual: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var remaining = expected[...]
        for entry in actual where entry == remaining.first { remaining.removeFirst() }
        #expect(remaining.isEmpty, "missing \(Array(remaining)) in order from \(actual)", sourceLocation: sourceLocation)
    }
}
