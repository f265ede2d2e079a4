import Testing
import StateServer

@Suite struct SupervisorStrategyTests {
    private func startTree(
        _ strategy: SupervisorSpec.Strategy, _ names: [String], log: SupervisionLog,
        restarts: [String: ChildSpec.Restart] = [:]
    ) throws -> Supervisor {
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(strategy: strategy, intensity: 10, children: names.map {
            supervisedWorker($0, log: log, restart: restarts[$0] ?? .permanent)
        }).start(on: runtime)
        #expect(log.take() == names.map { "start \($0)" })
        return supervisor
    }

    // MARK: The restart set and order of each strategy

    @Test func oneForOneRestartsOnlyTheChildThatEnded() async throws {
        let log = SupervisionLog()
        let supervisor = try startTree(.oneForOne, ["A", "B", "C"], log: log)
        let others = [try await runningWorker(supervisor, "A"), try await runningWorker(supervisor, "C")]

        try await runningWorker(supervisor, "B").cast(.crash)

        #expect(log.entries == ["terminate B error(SupervisionCrash())", "start B"])
        #expect(others.allSatisfy { $0.isAlive })
    }

    @Test func oneForAllStopsTheOthersInReverseOrderThenRestartsAllInOrder() async throws {
        let log = SupervisionLog()
        let supervisor = try startTree(.oneForAll, ["A", "B", "C", "D"], log: log)

        try await runningWorker(supervisor, "B").cast(.crash)

        #expect(log.entries == [
            "terminate B error(SupervisionCrash())",
            "terminate D shutdown", "terminate C shutdown", "terminate A shutdown",
            "start A", "start B", "start C", "start D",
        ])
        #expect(try await childStatuses(supervisor) == ["A: running", "B: running", "C: running", "D: running"])
    }

    @Test func restForOneRestartsTheChildAndThoseStartedAfterIt() async throws {
        let log = SupervisionLog()
        let supervisor = try startTree(.restForOne, ["A", "B", "C", "D"], log: log)
        let first = try await runningWorker(supervisor, "A")

        try await runningWorker(supervisor, "B").cast(.crash)

        #expect(log.entries == [
            "terminate B error(SupervisionCrash())",
            "terminate D shutdown", "terminate C shutdown",
            "start B", "start C", "start D",
        ])
        #expect(first.isAlive)
    }

    @Test(arguments: [SupervisorSpec.Strategy.oneForAll, .restForOne])
    func temporaryBystandersAreStoppedButNotRestarted(strategy: SupervisorSpec.Strategy) async throws {
        let log = SupervisionLog()
        let supervisor = try startTree(strategy, ["A", "T", "C"], log: log, restarts: ["T": .temporary])

        try await runningWorker(supervisor, "A").cast(.crash)

        #expect(log.entries == [
            "terminate A error(SupervisionCrash())", "terminate C shutdown", "terminate T shutdown",
            "start A", "start C",
        ])
        #expect(try await childStatuses(supervisor) == ["A: running", "C: running"])
    }

    @Test func oneForAllAlsoStartsChildrenThatWereNotRunning() async throws {
        // As OTP: the whole spec list is restarted, including a child terminated earlier.
        let log = SupervisionLog()
        let supervisor = try startTree(.oneForAll, ["A", "B"], log: log)
        try await supervisor.terminateChild("B")
        _ = log.take()

        try await runningWorker(supervisor, "A").cast(.crash)

        #expect(log.entries == ["terminate A error(SupervisionCrash())", "start A", "start B"])
    }

    @Test func aRestartThatFailsRetriesWithTheStrategy() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(strategy: .oneForAll, intensity: 10, children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log, script: script),
            supervisedWorker("C", log: log),
        ]).start(on: runtime)
        _ = log.take()
        script.plan("B", .fail)

        try await runningWorker(supervisor, "C").cast(.crash)

        #expect(log.entries == [
            "terminate C error(SupervisionCrash())", "terminate B shutdown", "terminate A shutdown",
            "start A", "start B failed",
            // the retry is a new one-for-all restart: A is stopped again, then all start
            "terminate A shutdown", "start A", "start B", "start C",
        ])
    }

    // MARK: Escalation

    private func nestedTree(log: SupervisionLog, outerIntensity: Int, innerRestart: ChildSpec.Restart = .permanent) -> SupervisorSpec {
        let inner = SupervisorSpec(intensity: 1, children: [supervisedWorker("W", log: log)])
        return SupervisorSpec(intensity: outerIntensity, children: [
            supervisedWorker("A", log: log),
            .supervisor(id: "inner", restart: innerRestart, inner),
        ])
    }

    private func crashW(_ outer: Supervisor) async throws {
        let inner = try #require(await outer.whichChildren().first { $0.id == "inner" }?.server as? Supervisor)
        try await runningWorker(inner, "W").cast(.crash)
    }

    @Test func anInnerSupervisorThatExceedsItsIntensityStopsWithShutdownAndIsRestartedByItsParent() async throws {
        let log = SupervisionLog()
        let outer = try nestedTree(log: log, outerIntensity: 1).start(on: Runtime(clock: ManualClock()))
        let firstInner = try #require(await outer.whichChildren().first { $0.id == "inner" }?.server)
        _ = log.take()

        try await crashW(outer)                      // inner restarts W (1 restart: its limit)
        try await crashW(outer)                      // inner exceeds: stops W, ends with shutdown

        #expect(!firstInner.isAlive)
        expectShutdown(firstInner.exitReason)
        #expect(log.entries == [
            "terminate W error(SupervisionCrash())", "start W",
            "terminate W error(SupervisionCrash())",
            "start W",                               // the outer supervisor restarted the inner one
        ])
        let secondInner = try #require(await outer.whichChildren().first { $0.id == "inner" }?.server)
        #expect(secondInner.id != firstInner.id)
        #expect(outer.isAlive)
    }

    @Test func escalationStopsTheParentWhenItTooExceedsItsIntensity() async throws {
        let log = SupervisionLog()
        let outer = try nestedTree(log: log, outerIntensity: 0).start(on: Runtime(clock: ManualClock()))
        _ = log.take()

        try await crashW(outer)
        try await crashW(outer)

        expectShutdown(outer.exitReason)
        #expect(log.entries == [
            "terminate W error(SupervisionCrash())", "start W",
            "terminate W error(SupervisionCrash())",
            "terminate A shutdown",                  // the outer one shut down what was left
        ])
    }

    @Test func aTransientInnerSupervisorEndingWithShutdownIsNotRestarted() async throws {
        // OTP: reaching the intensity ends a supervisor with `shutdown`, a normal reason for a transient child.
        let log = SupervisionLog()
        let outer = try nestedTree(log: log, outerIntensity: 5, innerRestart: .transient)
            .start(on: Runtime(clock: ManualClock()))
        try await crashW(outer)
        try await crashW(outer)
        #expect(try await childStatuses(outer) == ["A: running", "inner: notRunning"])
    }

    // MARK: Shutdown

    @Test func stoppingTheSupervisorStopsChildrenInReverseStartOrderIncludingNestedTrees() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log),
            .supervisor(id: "inner", SupervisorSpec(children: [
                supervisedWorker("X", log: log), supervisedWorker("Y", log: log),
            ])),
            supervisedWorker("B", log: log),
        ]).start(on: runtime)
        #expect(log.take() == ["start A", "start X", "start Y", "start B"])

        try await supervisor.stop()

        #expect(log.entries == ["terminate B shutdown", "terminate Y shutdown", "terminate X shutdown", "terminate A shutdown"])
        guard case .normal? = supervisor.exitReason else { Issue.record("expected normal"); return }
    }

    @Test func brutalKillEndsAChildWithoutItsTerminate() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log, shutdown: .brutalKill),
        ]).start(on: runtime)
        let child = try await runningWorker(supervisor, "A")
        _ = log.take()

        try await supervisor.terminateChild("A")

        #expect(log.entries.isEmpty)
        guard case .killed? = child.exitReason else { Issue.record("expected killed"); return }
    }

    @Test func aShutdownTimeoutLetsTheChildRunItsTerminateWithShutdown() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log, shutdown: .timeout(.seconds(1))),
        ]).start(on: runtime)
        let child = try await runningWorker(supervisor, "A")
        _ = log.take()

        try await supervisor.terminateChild("A")

        #expect(log.entries == ["terminate A shutdown"])
        expectShutdown(child.exitReason)
        #expect(try await childStatuses(supervisor) == ["A: notRunning"])
    }

    @Test func aChildThatDoesNotEndWithinItsShutdownTimeoutIsKilled() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let stubborn = try runtime.start(SupervisedWorker("S", log: log), options: ServerOptions(trapsExits: true))
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log),
            ChildSpec(id: "S", shutdown: .timeout(.seconds(2))) { _ in StubbornHandle(server: stubborn) },
        ]).start(on: runtime)
        _ = log.take()

        supervisor.deliverLinkedExit(from: ServerID(rawValue: 0), reason: .shutdown)   // shut down, without waiting

        #expect(stubborn.isAlive)                                 // it ignored the request
        #expect(try await childStatuses(supervisor) == ["A: running", "S: running"])   // queries are answered meanwhile
        clock.advance(by: .seconds(2) - .milliseconds(1))
        #expect(stubborn.isAlive)
        clock.advance(by: .milliseconds(1))
        guard case .killed? = stubborn.exitReason else { Issue.record("expected killed"); return }
        #expect(log.entries == ["terminate A shutdown"])          // then the next child, in reverse order
        expectShutdown(supervisor.exitReason)
    }
}
