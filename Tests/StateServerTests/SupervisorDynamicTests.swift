import Testing
import StateServer

@Suite struct SupervisorDynamicTests {
    private func sessions(
        log: SupervisionLog, restart: ChildSpec.Restart = .permanent, maximumChildren: Int? = nil,
        script: SupervisionStartScript? = nil
    ) throws -> DynamicSupervisor<String, Server<SupervisedWorker>> {
        try DynamicSupervisorSpec(restart: restart, intensity: 10, maximumChildren: maximumChildren) { (user: String) in
            SupervisedWorker(user, log: log, script: script)
        }.start(on: Runtime(clock: ManualClock()))
    }

    @Test func startChildStartsOneTypedServerPerArgument() async throws {
        let log = SupervisionLog()
        let supervisor = try sessions(log: log)
        let alice = try #require(try await supervisor.startChild("alice"))
        let bob = try #require(try await supervisor.startChild("bob"))
        #expect(try await alice.call { .name($0) } == "alice")
        #expect(try await bob.call { .name($0) } == "bob")
        #expect(try await supervisor.whichChildren().map(\.id) == [ChildID(1), ChildID(2)])
        #expect(try await supervisor.children() == [alice, bob])
        #expect(try await supervisor.countChildren() == ChildCounts(specs: 2, active: 2, supervisors: 0, workers: 2))
    }

    @Test func aCrashedChildIsRestartedWithTheSameArgument() async throws {
        let log = SupervisionLog()
        let supervisor = try sessions(log: log)
        let alice = try #require(try await supervisor.startChild("alice"))
        _ = log.take()
        try alice.cast(.crash)
        #expect(log.entries == ["terminate alice error(SupervisionCrash())", "start alice"])
        let restarted = try #require(try await supervisor.children().first)
        #expect(restarted != alice)
        #expect(try await restarted.call { .name($0) } == "alice")
    }

    @Test func aTransientChildThatEndsNormallyIsRemovedFromTheListOnlyIfTemporary() async throws {
        let log = SupervisionLog()
        let transient = try sessions(log: log, restart: .transient)
        try #require(try await transient.startChild("a")).cast(.exit(.normal))
        #expect(try await transient.countChildren().active == 0)
        #expect(try await transient.countChildren().specs == 1)

        let temporary = try sessions(log: log, restart: .temporary)
        try #require(try await temporary.startChild("b")).cast(.crash)
        #expect(try await temporary.countChildren().specs == 0)
    }

    @Test func terminateChildStopsAndRemovesTheChild() async throws {
        let log = SupervisionLog()
        let supervisor = try sessions(log: log)
        let alice = try #require(try await supervisor.startChild("alice"))
        let bob = try #require(try await supervisor.startChild("bob"))
        _ = log.take()
        try await supervisor.terminateChild(alice)
        #expect(log.entries == ["terminate alice shutdown"])
        #expect(try await supervisor.children() == [bob])
        await expectSupervisorError(.notFound) { try await supervisor.terminateChild(alice) }
    }

    @Test func startFailuresIgnoresAndTheMaximumAreReported() async throws {
        let log = SupervisionLog()
        let script = SupervisionStartScript()
        script.plan("x", .fail)
        script.plan("y", .ignore)
        let supervisor = try sessions(log: log, maximumChildren: 2, script: script)
        let failure = await expectSupervisorError(.failedToStartChild) { try await supervisor.startChild("x") }
        #expect(failure?.underlyingError is StateServerError)
        #expect(try await supervisor.startChild("y") == nil)
        #expect(try await supervisor.whichChildren().isEmpty)
        try await supervisor.startChild("a")
        try await supervisor.startChild("b")
        await expectSupervisorError(.maximumChildren) { try await supervisor.startChild("c") }
    }

    @Test func stoppingTheSupervisorStopsEveryChild() async throws {
        let log = SupervisionLog()
        let supervisor = try sessions(log: log)
        var children: [Server<SupervisedWorker>] = []
        for user in ["a", "b", "c"] { children.append(try #require(try await supervisor.startChild(user))) }
        _ = log.take()
        try await supervisor.stop()
        #expect(Set(log.entries) == ["terminate a shutdown", "terminate b shutdown", "terminate c shutdown"])
        #expect(children.allSatisfy { !$0.isAlive })
    }

    @Test func aDynamicSupervisorCanBeAChildOfAStaticOne() async throws {
        let log = SupervisionLog()
        let runtime = Runtime(clock: ManualClock())
        let sessions = DynamicSupervisorSpec { (user: String) in SupervisedWorker(user, log: log) }
        let root = try SupervisorSpec(children: [
            supervisedWorker("db", log: log),
            .supervisor(id: "sessions", sessions),
        ]).start(on: runtime)
        let dynamic = try #require(
            await root.whichChildren().first { $0.id == "sessions" }?.server as? DynamicSupervisor<String, Server<SupervisedWorker>>)
        try await dynamic.startChild("alice")
        _ = log.take()
        try await root.stop()
        #expect(log.entries == ["terminate alice shutdown", "terminate db shutdown"])
    }
}
