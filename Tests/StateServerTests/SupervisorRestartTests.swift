import Testing
import StateServer

/// How a supervised child ends in a test.
enum SupervisedExit: String, CaseIterable, Sendable {
    case normal, shutdown, shutdownWithDetail, error, killed

    func apply(to server: Server<SupervisedWorker>) throws {
        switch self {
        case .normal: try server.cast(.exit(.normal))
        case .shutdown: try server.cast(.exit(.shutdown))
        case .shutdownWithDetail: try server.cast(.exit(.shutdown("done")))
        case .error: try server.cast(.crash)
        case .killed: server.kill()
        }
    }

    var isAbnormal: Bool { self == .error || self == .killed }
}

@Suite struct SupervisorRestartTests {
    // MARK: Restart types × exit reasons (otp-semantics §3)

    @Test(arguments: [ChildSpec.Restart.permanent, .transient, .temporary], SupervisedExit.allCases)
    func restartTypeDecidesWhetherAnExitIsRestarted(restart: ChildSpec.Restart, exit: SupervisedExit) async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(intensity: 10, children: [
            supervisedWorker("A", log: log, restart: restart),
        ]).start(on: runtime)
        let first = try await runningWorker(supervisor, "A")
        _ = log.take()

        try exit.apply(to: first)

        let expectRestart = switch restart {
        case .permanent: true
        case .transient: exit.isAbnormal
        case .temporary: false
        }
        #expect(!first.isAlive)
        #expect(log.entries.contains("start A") == expectRestart)
        let statuses = try await childStatuses(supervisor)
        switch (expectRestart, restart) {
        case (true, _): #expect(statuses == ["A: running"])
        case (false, .temporary): #expect(statuses == [])        // a temporary spec is removed when it ends
        case (false, _): #expect(statuses == ["A: notRunning"])
        }
        if expectRestart {
            let second = try await runningWorker(supervisor, "A")
            #expect(second.id != first.id)
        }
        #expect(supervisor.isAlive)
    }

    @Test func callersOfACrashedChildGetTheExitReasonAndTheRestartedChildAnswers() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [supervisedWorker("A", log: log)]).start(on: runtime)
        let first = try await runningWorker(supervisor, "A")
        let pending = first.request { .hold(1, $0) }

        try first.cast(.crash)

        let error = try #require(requestError(pending))
        #expect(error.code == .serverExited)
        guard case .error(let cause)? = error.exitReason else { Issue.record("expected an error exit"); return }
        #expect(cause is SupervisionCrash)
        let second = try await runningWorker(supervisor, "A")
        #expect(try await second.call { .echo(7, $0) } == 7)
    }

    // MARK: Intensity

    @Test func crashesBeyondTheIntensityWithinThePeriodStopTheSupervisorAndItsChildren() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(intensity: 2, period: .seconds(5), children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log),
        ]).start(on: runtime)

        try await runningWorker(supervisor, "B").cast(.crash)
        try await runningWorker(supervisor, "B").cast(.crash)
        #expect(supervisor.isAlive)                       // 2 restarts: at the limit
        _ = log.take()
        try await runningWorker(supervisor, "B").cast(.crash)   // the third exceeds it

        #expect(!supervisor.isAlive)
        expectShutdown(supervisor.exitReason)
        #expect(log.entries == ["terminate B error(SupervisionCrash())", "terminate A shutdown"])
    }

    @Test func intensityZeroStopsTheSupervisorAtTheFirstRestart() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(intensity: 0, children: [supervisedWorker("A", log: log)]).start(on: runtime)
        try await runningWorker(supervisor, "A").cast(.crash)
        expectShutdown(supervisor.exitReason)
        #expect(log.entries.filter { $0 == "start A" }.count == 1)
    }

    @Test func theDefaultIntensityAllowsOneRestartInFiveSeconds() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(children: [supervisedWorker("A", log: log)]).start(on: runtime)
        try await runningWorker(supervisor, "A").cast(.crash)
        #expect(supervisor.isAlive)
        clock.advance(by: .seconds(4))
        try await runningWorker(supervisor, "A").cast(.crash)
        expectShutdown(supervisor.exitReason)
    }

    @Test func crashesSpacedOutBeyondThePeriodDoNotAccumulate() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(intensity: 1, period: .seconds(5), children: [
            supervisedWorker("A", log: log),
        ]).start(on: runtime)

        for _ in 0..<5 {
            try await runningWorker(supervisor, "A").cast(.crash)
            #expect(supervisor.isAlive)
            clock.advance(by: .seconds(6))
        }
        #expect(log.entries.filter { $0 == "start A" }.count == 6)
    }

    @Test func reachingTheIntensityIsReportedAsAWarning() async throws {
        let reports = SupervisionLog()
        let runtime = Runtime(clock: ManualClock()) { report in
            if case .warning(let message) = report.kind { reports.append(message) }
        }
        let supervisor = try SupervisorSpec(intensity: 0, children: [
            supervisedWorker("A", log: SupervisionLog()),
        ]).start(on: runtime)
        try await runningWorker(supervisor, "A").cast(.crash)
        #expect(reports.entries.contains { $0.contains("reached maximum restart intensity") })
    }

    // MARK: Failed restarts

    @Test func aFailedRestartIsRetriedAndEachAttemptCountsTowardTheIntensity() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(intensity: 3, children: [
            supervisedWorker("A", log: log, script: script),
        ]).start(on: runtime)
        _ = log.take()
        script.plan("A", .fail, .fail)

        try await runningWorker(supervisor, "A").cast(.crash)

        #expect(log.entries == ["terminate A error(SupervisionCrash())", "start A failed", "start A failed", "start A"])
        #expect(try await childStatuses(supervisor) == ["A: running"])

        script.plan("A", .fail, .fail, .fail, .fail)
        try await runningWorker(supervisor, "A").cast(.crash)  // restarts 4… exceed the intensity
        expectShutdown(supervisor.exitReason)
    }

    @Test func anIgnoredRestartLeavesTheChildNotRunning() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log, script: script),
        ]).start(on: runtime)
        script.plan("A", .ignore)
        try await runningWorker(supervisor, "A").cast(.crash)
        #expect(try await childStatuses(supervisor) == ["A: notRunning"])
        #expect(try await supervisor.restartChild("A") != nil)
    }

    // MARK: Backoff

    @Test func backoffDelaysEachRestartExponentiallyUpToTheMaximum() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let backoff = RestartBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(4), resetAfter: .seconds(60))
        let supervisor = try SupervisorSpec(intensity: 100, backoff: backoff, children: [
            supervisedWorker("A", log: log),
        ]).start(on: runtime)

        for expected in [1, 2, 4, 4] {
            try await runningWorker(supervisor, "A").cast(.crash)
            _ = log.take()
            #expect(try await childStatuses(supervisor) == ["A: restarting"])
            clock.advance(by: .seconds(expected) - .milliseconds(1))
            #expect(log.entries.isEmpty, "restarted before \(expected)s")
            clock.advance(by: .milliseconds(1))
            #expect(log.entries == ["start A"], "not restarted after \(expected)s")
        }
    }

    @Test func backoffStartsOverAfterAQuietPeriod() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let backoff = RestartBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(30), resetAfter: .seconds(10))
        let supervisor = try SupervisorSpec(intensity: 100, backoff: backoff, children: [
            supervisedWorker("A", log: log),
        ]).start(on: runtime)
        try await runningWorker(supervisor, "A").cast(.crash)
        clock.advance(by: .seconds(1))
        try await runningWorker(supervisor, "A").cast(.crash)
        clock.advance(by: .seconds(2))                          // second delay: 2 s
        clock.advance(by: .seconds(10))                         // quiet for the reset period
        try await runningWorker(supervisor, "A").cast(.crash)
        _ = log.take()
        clock.advance(by: .seconds(1))                          // back to the initial delay
        #expect(log.entries == ["start A"])
    }

    @Test func aChildWaitingForItsBackoffCannotBeRestartedOrDeletedButCanBeTerminated() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(backoff: RestartBackoff(initialDelay: .seconds(1)), children: [
            supervisedWorker("A", log: log),
        ]).start(on: runtime)
        try await runningWorker(supervisor, "A").cast(.crash)

        await expectSupervisorError(.restarting) { try await supervisor.restartChild("A") }
        await expectSupervisorError(.restarting) { try await supervisor.deleteChild("A") }
        try await supervisor.terminateChild("A")
        _ = log.take()
        clock.advance(by: .seconds(5))
        #expect(log.entries.isEmpty)                            // the pending restart was cancelled
        #expect(try await childStatuses(supervisor) == ["A: notRunning"])
    }

    @Test func backoffDelaysAreComputedFromTheInitialDelay() {
        let backoff = RestartBackoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
        #expect((0..<6).map { backoff.delay(afterConsecutiveRestarts: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
        ])
    }
}
