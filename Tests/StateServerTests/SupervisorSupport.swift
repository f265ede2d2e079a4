import Synchronization
import Testing
import StateServer

/// A shared, ordered record of what the supervised machines did ("start A", "terminate A shutdown").
final class SupervisionLog: Sendable {
    private let lines = Locked<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var entries: [String] { lines.withLock { $0 } }

    /// Returns the entries so far and clears the log.
    func take() -> [String] { lines.withLock { lines in defer { lines = [] }; return lines } }
}

/// What a worker's next starts do, by name: fail or ignore (then start normally).
final class SupervisionStartScript: Sendable {
    enum Outcome: Sendable { case fail, ignore }
    private let plans = Locked<[String: [Outcome]]>([:])

    func plan(_ name: String, _ outcomes: Outcome...) { plans.withLock { $0[name, default: []] += outcomes } }

    func next(for name: String) -> Outcome? {
        plans.withLock { plans in
            guard var outcomes = plans[name], !outcomes.isEmpty else { return nil }
            let outcome = outcomes.removeFirst()
            plans[name] = outcomes
            return outcome
        }
    }
}

struct SupervisionCrash: Error, Equatable {}
struct SupervisionStartFailure: Error, Equatable { let name: String }

/// A worker that logs its starts and terminations, answers calls, holds calls until released, and crashes or
/// stops on request.
struct SupervisedWorker: StateMachine {
    enum State: Hashable, Sendable { case running }
    struct Data: Sendable { var held: [(value: Int, reply: Reply<Int>)] = [] }
    enum Call: Sendable {
        case name(Reply<String>)
        case echo(Int, Reply<Int>)
        /// Answered only at the next `release`.
        case hold(Int, Reply<Int>)
    }
    enum Cast: Sendable { case crash, exit(ExitReason), release }

    let name: String
    let log: SupervisionLog
    var script: SupervisionStartScript?
    var argument: String?

    init(_ name: String, log: SupervisionLog, script: SupervisionStartScript? = nil) {
        self.name = name
        self.log = log
        self.script = script
    }

    func start() throws -> Start<Self> {
        switch script?.next(for: name) {
        case .fail?:
            log.append("start \(name) failed")
            throw SupervisionStartFailure(name: name)
        case .ignore?:
            log.append("start \(name) ignored")
            return .ignore
        case nil:
            log.append("start \(name)")
            return .ok(.running, data: Data())
        }
    }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self> {
        switch event {
        case .call(.name(let reply)): return .keep(.reply(reply, name))
        case .call(.echo(let value, let reply)): return .keep(.reply(reply, value))
        case .call(.hold(let value, let reply)):
            data.held.append((value, reply))
            return .keep
        case .cast(.release):
            let replies = data.held.map { Action<Self>.reply($0.reply, $0.value) }
            data.held = []
            return .keep(actions: replies)
        case .cast(.crash): throw SupervisionCrash()
        case .cast(.exit(let reason)): return .stop(reason)
        default: return .keep
        }
    }

    func terminate(reason: ExitReason, state: State, data: Data) {
        log.append("terminate \(name) \(reason)")
    }
}

/// A handle whose server traps exits and ignores the supervisor's shutdown request: it only ends when killed.
struct StubbornHandle: ServerHandle {
    let server: Server<SupervisedWorker>
    var id: ServerID { server.id }
    var isAlive: Bool { server.isAlive }
    var exitReason: ExitReason? { server.exitReason }
    func stop(_ reason: ExitReason, timeout: Duration?) async throws { try await server.stop(reason, timeout: timeout) }
    func kill() { server.kill() }
    func waitForExit() async throws -> ExitReason { try await server.waitForExit() }
    @discardableResult
    func monitor(_ handler: @escaping @Sendable (ExitReason) -> Void) -> MonitorReference { server.monitor(handler) }
    @discardableResult
    func demonitor(_ reference: MonitorReference) -> Bool { server.demonitor(reference) }
    func deliverLinkedExit(from server: ServerID, reason: ExitReason) {
        self.server.deliverLinkedExit(from: server, reason: reason)
    }
}

/// A supervised worker spec that logs to `log`.
func supervisedWorker(
    _ name: String, log: SupervisionLog, script: SupervisionStartScript? = nil,
    restart: ChildSpec.Restart = .permanent, shutdown: ChildSpec.Shutdown = .timeout(.seconds(5))
) -> ChildSpec {
    .worker(id: name, restart: restart, shutdown: shutdown) { SupervisedWorker(name, log: log, script: script) }
}

/// The running worker `id` of `supervisor`.
func runningWorker(
    _ supervisor: Supervisor, _ id: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> Server<SupervisedWorker> {
    try #require(await supervisor.child(id, as: SupervisedWorker.self), "child \(id) is not running",
                 sourceLocation: sourceLocation)
}

/// The children's ids and statuses, as `["A: running", "B: restarting"]`.
func childStatuses(_ supervisor: Supervisor) async throws -> [String] {
    try await supervisor.whichChildren().map { info in
        let status = switch info.status {
        case .running: "running"
        case .restarting: "restarting"
        case .notRunning: "notRunning"
        }
        return "\(info.id.base): \(status)"
    }
}

/// Expects `reason` to be `shutdown` (with any detail).
func expectShutdown(_ reason: ExitReason?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .shutdown? = reason else {
        Issue.record("expected a shutdown exit, got \(String(describing: reason))", sourceLocation: sourceLocation)
        return
    }
}

/// Expects `body` to throw a ``SupervisorError`` with `code`, and returns it.
@discardableResult
func expectSupervisorError<T>(
    _ code: SupervisorError.Code, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async -> SupervisorError? {
    do {
        _ = try await body()
        Issue.record("expected SupervisorError \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as SupervisorError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected SupervisorError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The error of a resolved request, or `nil` if it is pending or succeeded.
func requestError<Value>(_ pending: PendingReply<Value>) -> StateServerError? {
    guard case .failure(let error)? = pending.result else { return nil }
    return error
}
