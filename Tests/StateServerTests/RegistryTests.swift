import Testing
import StateServer

@Suite struct RegistryTests {
    @Test func registeredNamesAreFoundTypedAndUntyped() throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let server = try runtime.start(SupervisedWorker("a", log: SupervisionLog()))
        try registry.register("a", server)
        #expect(registry.lookup("a")?.id == server.id)
        #expect(registry.lookup("a", as: SupervisedWorker.self) == server)
        #expect(registry.lookup("a", as: OtherMachine.self) == nil)
        #expect(registry.lookup("b") == nil)
        #expect(registry.keys == ["a"])
        #expect(registry.count == 1)
    }

    @Test func aTakenNameIsRejectedWithTheServerHoldingIt() throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let first = try runtime.start(SupervisedWorker("a", log: SupervisionLog()))
        let second = try runtime.start(SupervisedWorker("b", log: SupervisionLog()))
        try registry.register("name", first)
        do {
            try registry.register("name", second)
            Issue.record("registered twice")
        } catch let error as RegistryError {
            #expect(error.code == .alreadyRegistered)
            #expect(error.existingServer?.id == first.id)
            #expect(error.message.contains("\(first.id)"))
            #expect(error.stateServerError.code == .alreadyRegistered)
        }
    }

    @Test(arguments: SupervisedExit.allCases)
    func aNameDisappearsWhenItsServerEnds(exit: SupervisedExit) throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let server = try runtime.start(SupervisedWorker("a", log: SupervisionLog()))
        try registry.register("a", server)
        try exit.apply(to: server)
        #expect(registry.lookup("a") == nil)
        #expect(registry.keys.isEmpty)
        let next = try runtime.start(SupervisedWorker("b", log: SupervisionLog()))
        try registry.register("a", next)                       // the name is free again
    }

    @Test func anEndedServerCannotBeRegistered() async throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let server = try runtime.start(SupervisedWorker("a", log: SupervisionLog()))
        try await server.stop()
        #expect(throws: RegistryError.self) { try registry.register("a", server) }
    }

    @Test func unregisterRemovesTheNameButNotTheServer() throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<Int>()
        let server = try runtime.start(SupervisedWorker("a", log: SupervisionLog()))
        try registry.register(1, server)
        try registry.register(2, server)
        #expect(Set(registry.keys(of: server)) == [1, 2])
        #expect(registry.unregister(1))
        #expect(!registry.unregister(1))
        #expect(registry.keys == [2])
        #expect(server.isAlive)
    }

    @Test func startAndRegisterReservesTheNameBeforeTheMachineStarts() throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let log = SupervisionLog()
        let observed = SupervisionLog()
        let first = try runtime.start(SupervisedWorker("first", log: log), name: "svc", in: registry)
        #expect(registry.lookup("svc", as: SupervisedWorker.self) == first)

        // A taken name fails before the machine's start runs.
        _ = log.take()
        #expect(throws: RegistryError.self) {
            try runtime.start(SupervisedWorker("second", log: log), name: "svc", in: registry)
        }
        #expect(log.entries.isEmpty)

        // While a machine starts, its name is reserved: invisible to lookups, refused to others.
        let probe = RegistryProbe(registry: registry, observed: observed)
        _ = try runtime.start(probe, name: "probe", in: registry)
        #expect(observed.entries == ["lookup: nil", "register: alreadyRegistered, holder: nil"])
    }

    @Test func aFailedStartFreesTheReservedName() throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let script = SupervisionStartScript()
        script.plan("a", .fail)
        #expect(throws: StateServerError.self) {
            try runtime.start(SupervisedWorker("a", log: SupervisionLog(), script: script), name: "a", in: registry)
        }
        #expect(registry.keys.isEmpty)
        _ = try runtime.start(SupervisedWorker("a", log: SupervisionLog(), script: script), name: "a", in: registry)
        #expect(registry.keys == ["a"])
    }

    @Test func underASupervisorTheNamePointsAtTheRestartedServer() async throws {
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let log = SupervisionLog()
        let supervisor = try SupervisorSpec(children: [
            ChildSpec(id: "cache") { runtime in
                try runtime.start(SupervisedWorker("cache", log: log), name: "cache", in: registry)
            },
        ]).start(on: runtime)
        let first = try #require(registry.lookup("cache", as: SupervisedWorker.self))
        let waiting = first.request { .hold(1, $0) }

        try first.cast(.crash)

        #expect(requestError(waiting)?.code == .serverExited)
        let second = try #require(registry.lookup("cache", as: SupervisedWorker.self))
        #expect(second != first)
        #expect(try await second.call { .name($0) } == "cache")
        try await supervisor.stop()
        #expect(registry.keys.isEmpty)
    }
}

private struct OtherMachine: StateMachine {
    enum State: Hashable, Sendable { case only }
    func start() -> Start<Self> { .ok(.only, data: ()) }
    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
}

/// Looks up and tries to register its own name while it starts.
private struct RegistryProbe: StateMachine {
    enum State: Hashable, Sendable { case only }
    let registry: Registry<String>
    let observed: SupervisionLog

    func start() throws -> Start<Self> {
        observed.append("lookup: \(registry.lookup("probe").map { "\($0.id)" } ?? "nil")")
        let runtime = Runtime(clock: ManualClock())
        let other = try runtime.start(OtherMachine())
        do {
            try registry.register("probe", other)
            observed.append("register: succeeded")
        } catch let error as RegistryError {
            observed.append("register: \(error.code), holder: \(error.existingServer.map { "\($0.id)" } ?? "nil")")
        }
        return .ok(.only, data: ())
    }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
}
