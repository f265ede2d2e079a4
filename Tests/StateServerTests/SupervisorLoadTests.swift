import Synchronization
import Testing
import StateServer

/// "A supervisor restarting a crashing child under load loses no call: each caller gets the reply or the exit
/// reason."
@Suite struct SupervisorLoadTests {
    @Test func callersWaitingOnACrashingChildEachGetTheReplyOrTheExitReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let supervisor = try SupervisorSpec(intensity: 1_000, children: [
            ChildSpec(id: "echo") { runtime in
                try runtime.start(SupervisedWorker("echo", log: SupervisionLog()), name: "echo", in: registry)
            },
        ]).start(on: runtime)

        // 200 callers, in batches of 10 held by the child; every other batch is lost to a crash.
        var requests: [(value: Int, reply: PendingReply<Int>)] = []
        for value in 0..<200 {
            let server = try #require(registry.lookup("echo", as: SupervisedWorker.self))
            requests.append((value, server.request { .hold(value, $0) }))
            if value % 10 == 9 {
                #expect(requests.suffix(10).allSatisfy { !$0.reply.isResolved })   // all 10 are waiting
                try server.cast((value / 10).isMultiple(of: 2) ? .crash : .release)
            }
        }

        var replies = 0
        var exits = 0
        for (value, reply) in requests {
            switch reply.result {
            case .success(let answer)?:
                #expect(answer == value)
                replies += 1
            case .failure(let error)?:
                #expect(error.code == .serverExited)
                guard case .error(let cause)? = error.exitReason else {
                    Issue.record("caller \(value) got \(error) without the crash's exit reason")
                    continue
                }
                #expect(cause is SupervisionCrash)
                exits += 1
            case nil:
                Issue.record("caller \(value) has no outcome")
            }
        }
        #expect(replies == 100)
        #expect(exits == 100)
        #expect(supervisor.isAlive)
        try await supervisor.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func onTheRealRuntimeATreeRestartsAndStopsInOrder() async throws {
        let log = SupervisionLog()
        let current = CurrentServer()
        let runtime = Runtime(reporter: nil)
        let supervisor = try SupervisorSpec(strategy: .restForOne, intensity: 10, children: [
            ChildSpec(id: "A") { runtime in
                let server = try runtime.start(SupervisedWorker("A", log: log))
                current.publish(server)
                return server
            },
            .supervisor(id: "inner", SupervisorSpec(children: [
                supervisedWorker("X", log: log), supervisedWorker("Y", log: log),
            ])),
            supervisedWorker("B", log: log),
        ]).start(on: runtime)
        #expect(log.take() == ["start A", "start X", "start Y", "start B"])

        let first = await current.server(after: nil)
        let waiting = first.request(timeout: .seconds(30)) { .hold(0, $0) }
        try first.cast(.crash)
        await #expect(throws: StateServerError.self) { try await waiting.value() }
        _ = await current.server(after: first.id)     // restarted; the rest follow in the same step
        try await supervisor.stop(timeout: .seconds(30))

        #expect(log.entries == [
            "terminate A error(SupervisionCrash())",
            "terminate B shutdown", "terminate Y shutdown", "terminate X shutdown",
            "start A", "start X", "start Y", "start B",
            "terminate B shutdown", "terminate Y shutdown", "terminate X shutdown", "terminate A shutdown",
        ])
    }

    @Test(.timeLimit(.minutes(1)))
    func onTheRealRuntimeConcurrentCallersAllGetAnOutcomeWhileTheChildCrashes() async throws {
        struct Outcomes: Sendable {
            var replies = 0
            var exits = 0
            var unexpected: [String] = []
        }
        let runtime = Runtime(reporter: nil)
        let registry = Registry<String>()
        let current = CurrentServer()
        let supervisor = try SupervisorSpec(intensity: 100_000, children: [
            ChildSpec(id: "echo") { runtime in
                let server = try runtime.start(SupervisedWorker("echo", log: SupervisionLog()), name: "echo", in: registry)
                current.publish(server)
                return server
            },
        ]).start(on: runtime)
        let callers = 8
        let callsPerCaller = 200

        let total = await withTaskGroup(of: Outcomes.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var outcomes = Outcomes()
                    var server = await current.server(after: nil)
                    for value in 0..<callsPerCaller {
                        if (value + caller) % 25 == 0 { try? server.cast(.crash) }
                        do {
                            let answer = try await server.call(timeout: .seconds(30)) { .echo(value, $0) }
                            if answer != value { outcomes.unexpected.append("wrong reply \(answer) for \(value)") }
                            outcomes.replies += 1
                        } catch let error as StateServerError
                            where [.serverExited, .noSuchServer].contains(error.code) && error.exitReason != nil {
                            outcomes.exits += 1
                            server = await current.server(after: server.id)   // the restarted child
                        } catch {
                            outcomes.unexpected.append("\(error)")
                        }
                    }
                    return outcomes
                }
            }
            var total = Outcomes()
            for await outcomes in group {
                total.replies += outcomes.replies
                total.exits += outcomes.exits
                total.unexpected += outcomes.unexpected
            }
            return total
        }

        #expect(total.unexpected == [])
        #expect(total.replies + total.exits == callers * callsPerCaller)    // every call has an outcome
        #expect(total.exits >= 1)
        #expect(total.replies >= callers * callsPerCaller / 2)
        let named = try #require(registry.lookup("echo", as: SupervisedWorker.self))
        #expect(try await named.call(timeout: .seconds(30)) { .echo(-1, $0) } == -1)
        try await supervisor.stop()
        #expect(registry.keys.isEmpty)
    }
}

/// The latest server a child's start closure published; awaiting a newer one suspends until the restart (or
/// until the task is cancelled, then the latest one is returned so that the caller can finish).
final class CurrentServer: Sendable {
    private struct Waiter {
        var token: Int
        var after: ServerID?
        var continuation: CheckedContinuation<Server<SupervisedWorker>, Never>
    }
    private struct State {
        var server: Server<SupervisedWorker>?
        var waiters: [Waiter] = []
        var nextToken = 0
    }
    private let state = Locked(State())

    func publish(_ server: Server<SupervisedWorker>) {
        let ready = state.withLock { state in
            state.server = server
            let ready = state.waiters.filter { $0.after.map { server.id > $0 } ?? true }
            state.waiters.removeAll { $0.after.map { server.id > $0 } ?? true }
            return ready.map(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: server) }
    }

    /// The current server if it is newer than `id`, or the next one published.
    func server(after id: ServerID?) async -> Server<SupervisedWorker> {
        let token = state.withLock { state in
            state.nextToken += 1
            return state.nextToken
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Server<SupervisedWorker>? in
                    if let server = state.server, id.map({ server.id > $0 }) ?? true { return server }
                    if Task.isCancelled, let server = state.server { return server }
                    state.waiters.append(Waiter(token: token, after: id, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> (CheckedContinuation<Server<SupervisedWorker>, Never>, Server<SupervisedWorker>)? in
                guard let server = state.server, let index = state.waiters.firstIndex(where: { $0.token == token }) else {
                    return nil
                }
                return (state.waiters.remove(at: index).continuation, server)
            }
            if let (continuation, server) = cancelled { continuation.resume(returning: server) }
        }
    }
}
