import Testing
@testable import StateServer

@Suite struct SupervisorLifecycleTests {
    // MARK: Start

    @Test func childrenStartInOrderAndAreListedInStartOrder() async throws {
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log), supervisedWorker("C", log: log),
        ]).start(on: Runtime(clock: ManualClock()))
        #expect(log.entries == ["start A", "start B", "start C"])
        #expect(try await childStatuses(supervisor) == ["A: running", "B: running", "C: running"])
        #expect(try await supervisor.countChildren() == ChildCounts(specs: 3, active: 3, supervisors: 0, workers: 3))
    }

    @Test func aStartFailureStopsTheStartedChildrenInReverseOrderAndNamesTheFailingChild() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("C", .fail)
        let spec = SupervisorSpec(children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log),
            supervisedWorker("C", log: log, script: script), supervisedWorker("D", log: log),
        ])

        let error = await expectSupervisorError(.failedToStartChild) { try spec.start(on: Runtime(clock: ManualClock())) }

        #expect(error?.childID == "C")
        let cause = try #require(error?.underlyingError as? StateServerError)
        #expect(cause.code == .startFailed)
        guard case .error(let thrown)? = error?.exitReason else { Issue.record("expected the child's exit reason"); return }
        #expect(thrown as? SupervisionStartFailure == SupervisionStartFailure(name: "C"))
        #expect(log.entries == ["start A", "start B", "start C failed", "terminate B shutdown", "terminate A shutdown"])
    }

    @Test func aStartFailureOfANestedSupervisorReportsTheInnerChild() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("X", .fail)
        let spec = SupervisorSpec(children: [
            supervisedWorker("A", log: log),
            .supervisor(id: "inner", SupervisorSpec(children: [supervisedWorker("X", log: log, script: script)])),
        ])
        let error = await expectSupervisorError(.failedToStartChild) { try spec.start(on: Runtime(clock: ManualClock())) }
        #expect(error?.childID == "inner")
        let inner = try #require(error?.underlyingError as? SupervisorError)
        #expect(inner.childID == "X")
        #expect(log.entries == ["start A", "start X failed", "terminate A shutdown"])
    }

    @Test func anIgnoredChildKeepsItsSpecWithoutAServerAndATemporaryOneIsDropped() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("A", .ignore)
        script.plan("T", .ignore)
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log, script: script),
            supervisedWorker("T", log: log, script: script, restart: .temporary),
            supervisedWorker("B", log: log),
        ]).start(on: Runtime(clock: ManualClock()))
        #expect(try await childStatuses(supervisor) == ["A: notRunning", "B: running"])
        #expect(try await supervisor.countChildren() == ChildCounts(specs: 2, active: 1, supervisors: 0, workers: 2))
    }

    @Test func invalidSpecificationsAreRejectedBeforeAnythingStarts() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        await expectSupervisorError(.invalidSpecification) {
            try SupervisorSpec(children: [supervisedWorker("A", log: log), supervisedWorker("A", log: log)]).start(on: runtime)
        }
        await expectSupervisorError(.invalidSpecification) { try SupervisorSpec(intensity: -1, children: []).start(on: runtime) }
        await expectSupervisorError(.invalidSpecification) { try SupervisorSpec(period: .zero, children: []).start(on: runtime) }
        #expect(log.entries.isEmpty)
    }

    // MARK: Managing children (OTP's error cases)

    @Test func startChildAddsAChildAtTheEndAndRejectsDuplicateIDs() async throws {
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [supervisedWorker("A", log: log)])
            .start(on: Runtime(clock: ManualClock()))
        let b = try await supervisor.startChild(supervisedWorker("B", log: log))
        #expect(try await childStatuses(supervisor) == ["A: running", "B: running"])

        let started = await expectSupervisorError(.alreadyStarted) { try await supervisor.startChild(supervisedWorker("B", log: log)) }
        #expect(started?.server?.id == b?.id)
        try await supervisor.terminateChild("B")
        await expectSupervisorError(.alreadyPresent) { try await supervisor.startChild(supervisedWorker("B", log: log)) }
    }

    @Test func startChildReportsAFailedStartAndDoesNotKeepTheSpec() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("B", .fail)
        let supervisor = try SupervisorSpec(children: []).start(on: Runtime(clock: ManualClock()))
        let error = await expectSupervisorError(.failedToStartChild) {
            try await supervisor.startChild(supervisedWorker("B", log: log, script: script))
        }
        #expect(error?.childID == "B")
        #expect(try await supervisor.whichChildren().isEmpty)
    }

    @Test func startChildReturnsNilForAnIgnoredChild() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("B", .ignore)
        let supervisor = try SupervisorSpec(children: []).start(on: Runtime(clock: ManualClock()))
        #expect(try await supervisor.startChild(supervisedWorker("B", log: log, script: script)) == nil)
        #expect(try await childStatuses(supervisor) == ["B: notRunning"])
    }

    @Test func terminateRestartAndDeleteFollowOTPsRules() async throws {
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [supervisedWorker("A", log: log)])
            .start(on: Runtime(clock: ManualClock()))

        await expectSupervisorError(.notFound) { try await supervisor.terminateChild("X") }
        await expectSupervisorError(.notFound) { try await supervisor.restartChild("X") }
        await expectSupervisorError(.notFound) { try await supervisor.deleteChild("X") }
        await expectSupervisorError(.running) { try await supervisor.restartChild("A") }
        await expectSupervisorError(.running) { try await supervisor.deleteChild("A") }

        try await supervisor.terminateChild("A")
        try await supervisor.terminateChild("A")                   // terminating a stopped child is fine
        #expect(try await childStatuses(supervisor) == ["A: notRunning"])
        _ = log.take()
        #expect(try await supervisor.restartChild("A") != nil)
        #expect(log.entries == ["start A"])
        try await supervisor.terminateChild("A")
        try await supervisor.deleteChild("A")
        #expect(try await supervisor.whichChildren().isEmpty)
    }

    @Test func terminatingATemporaryChildRemovesItsSpec() async throws {
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [supervisedWorker("T", log: log, restart: .temporary)])
            .start(on: Runtime(clock: ManualClock()))
        try await supervisor.terminateChild("T")
        #expect(try await supervisor.whichChildren().isEmpty)
    }

    @Test func childIDsMayBeAnyHashableValue() async throws {
        enum Shard: Hashable, Sendable { case east, west }
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [
            .worker(id: Shard.east) { SupervisedWorker("east", log: log) },
            .worker(id: 7) { SupervisedWorker("seven", log: log) },
        ]).start(on: Runtime(clock: ManualClock()))
        #expect(try await supervisor.child(Shard.east, as: SupervisedWorker.self)?.call { .name($0) } == "east")
        #expect(try await supervisor.child(7, as: SupervisedWorker.self)?.call { .name($0) } == "seven")
        #expect(ChildID(Shard.east) != ChildID("east"))
        #expect(ChildID(ChildID(7)) == ChildID(7))
    }

    @Test func requestsThatChangeChildrenWaitWhileAChildIsBeingStoppedButQueriesAreAnswered() async throws {
        let log = SupervisionLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let stubborn = try runtime.start(SupervisedWorker("S", log: log), options: ServerOptions(trapsExits: true))
        let supervisor = try SupervisorSpec(children: [
            ChildSpec(id: "S", shutdown: .timeout(.seconds(2))) { _ in StubbornHandle(server: stubborn) },
        ]).start(on: runtime)
        _ = log.take()

        let termination = supervisor.server.request(timeout: nil) { .terminateChild("S", $0) }
        let start = supervisor.server.request(timeout: nil) { .startChild(supervisedWorker("B", log: log), $0) }
        let count = supervisor.server.request(timeout: nil) { .countChildren($0) }

        #expect(!termination.isResolved)
        #expect(!start.isResolved)                               // postponed until S has ended
        #expect(count.result.flatMap { try? $0.get() }?.active == 1)
        clock.advance(by: .seconds(2))
        #expect(termination.isResolved)
        #expect(start.isResolved)
        #expect(log.entries == ["start B"])
    }

    // MARK: Stopping and ending

    @Test func killingTheSupervisorEndsItsChildrenThroughTheirLinks() async throws {
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [supervisedWorker("A", log: log)])
            .start(on: Runtime(clock: ManualClock()))
        let child = try await runningWorker(supervisor, "A")
        supervisor.kill()
        guard case .killed? = supervisor.exitReason else { Issue.record("expected killed"); return }
        #expect(!child.isAlive)
    }

    @Test func aLinkedServerEndingAbnormallyShutsTheSupervisorDownInOrder() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log),
        ]).start(on: runtime)
        let owner = try runtime.start(SupervisedWorker("owner", log: SupervisionLog()))
        owner.link(supervisor)
        _ = log.take()

        try owner.cast(.exit(.normal))
        #expect(supervisor.isAlive)                               // a normal end is ignored

        let second = try runtime.start(SupervisedWorker("owner2", log: SupervisionLog()))
        second.link(supervisor)
        try second.cast(.crash)
        #expect(log.entries == ["terminate B shutdown", "terminate A shutdown"])
        guard case .error? = supervisor.exitReason else { Issue.record("expected the linked error"); return }
    }

    @Test func stoppingAnEndedSupervisorFailsWithNoSuchServer() async throws {
        let supervisor = try SupervisorSpec(children: []).start(on: Runtime(clock: ManualClock()))
        try await supervisor.stop()
        await #expect(throws: StateServerError.self) { try await supervisor.stop() }
    }

    // MARK: run()

    @Test func runStartsTheTreeAndStopsItInReverseOrderWhenCancelled() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let tree = SupervisorSpec(children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log),
            ChildSpec(id: "signal") { runtime in
                defer { signal.yield() }
                return try runtime.start(SupervisedWorker("C", log: log))
            },
        ])
        let running = Task { try await tree.run(on: runtime) }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        #expect(log.take() == ["start A", "start B", "start C"])

        running.cancel()
        try await running.value

        #expect(log.entries == ["terminate C shutdown", "terminate B shutdown", "terminate A shutdown"])
    }

    @Test func runThrowsWhenTheTreeEndsOnItsOwn() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let (started, signal) = AsyncStream.makeStream(of: Server<SupervisedWorker>.self)
        let tree = SupervisorSpec(intensity: 0, children: [
            ChildSpec(id: "A") { runtime in
                let server = try runtime.start(SupervisedWorker("A", log: log))
                signal.yield(server)
                return server
            },
        ])
        let running = Task { try await tree.run(on: runtime) }
        var iterator = started.makeAsyncIterator()
        let child = try #require(await iterator.next())
        try child.cast(.crash)
        do {
            try await running.value
            Issue.record("run() returned")
        } catch let error as SupervisorError {
            #expect(error.code == .ended)
            expectShutdown(error.exitReason)
        }
    }

    @Test func runThrowsTheStartFailureAfterStoppingTheStartedChildren() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("B", .fail)
        let tree = SupervisorSpec(children: [
            supervisedWorker("A", log: log), supervisedWorker("B", log: log, script: script),
        ])
        await expectSupervisorError(.failedToStartChild) { try await tree.run(on: Runtime(clock: ManualClock())) }
        #expect(log.entries == ["start A", "start B failed", "terminate A shutdown"])
    }
}
