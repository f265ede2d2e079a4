import Synchronization
import Testing
import StateServer

// The code of Docs/Supervision.md, compiled and run. Keep the two in sync.

// MARK: Machines used by the guide

/// A cache of prices that crashes on a poisoned symbol.
struct PriceCache: StateMachine {
    enum State: Hashable, Sendable { case serving }
    enum Call: Sendable { case price(String, Reply<Int>) }
    struct Poisoned: Error {}

    func start() -> Start<Self> { .ok(.serving, data: [:]) }

    func handle(_ event: Event<Self>, in state: State, data: inout [String: Int]) throws -> Transition<Self> {
        switch event {
        case .call(.price("POISON", _)):
            throw Poisoned()
        case .call(.price(let symbol, let reply)):
            let price = data[symbol, default: symbol.count * 100]
            data[symbol] = price
            return .keep(.reply(reply, price))
        default:
            return .keep
        }
    }
}

/// Sends mail; transient: done when its queue is empty.
struct Mailer: StateMachine {
    enum State: Hashable, Sendable { case idle }
    enum Cast: Sendable { case send(String), finish }

    func start() -> Start<Self> { .ok(.idle, data: ()) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch event {
        case .cast(.finish): return .stop(.normal)
        default: return .keep
        }
    }
}

/// One chat session per user.
struct ChatSession: StateMachine {
    enum State: Hashable, Sendable { case active }
    enum Call: Sendable { case user(Reply<String>) }
    enum Cast: Sendable { case close }
    let user: String

    func start() -> Start<Self> { .ok(.active, data: ()) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch event {
        case .call(.user(let reply)): return .keep(.reply(reply, user))
        case .cast(.close): return .stop(.normal)
        default: return .keep
        }
    }
}

/// The shape of swift-service-lifecycle's `Service`, to compile the bridge without the dependency.
protocol ServiceShape: Sendable { func run() async throws }

// MARK: The guide's code

@Suite struct SupervisorDocTests {
    @Test func aFirstTree() async throws {
        // doc:first-tree
        let runtime = Runtime(clock: ManualClock())
        let tree = SupervisorSpec(strategy: .oneForOne, children: [
            .worker(id: "prices") { PriceCache() },
            .worker(id: "mailer", restart: .transient) { Mailer() },
        ])
        let supervisor = try tree.start(on: runtime)

        let prices = try #require(try await supervisor.child("prices", as: PriceCache.self))
        let price = try await prices.call { .price("AAPL", $0) }
        // doc:end
        #expect(price == 400)
        #expect(try await supervisor.countChildren().active == 2)
    }

    @Test func childSpecs() async throws {
        let registry = Registry<String>()
        // doc:child-specs
        let children: [ChildSpec] = [
            // A machine, restarted whatever happens, given 5 seconds to stop.
            .worker(id: "prices") { PriceCache() },
            // Restarted only after a failure; killed at once on shutdown.
            .worker(id: "mailer", restart: .transient, shutdown: .brutalKill) { Mailer() },
            // Any start closure: here the child registers a name, so the name follows restarts.
            ChildSpec(id: "named-prices", shutdown: .timeout(.seconds(1))) { runtime in
                try runtime.start(PriceCache(), name: "prices", in: registry)
            },
            // A nested supervisor: stopped with .infinity by default, so its own children stop first.
            .supervisor(id: "sessions", SupervisorSpec(strategy: .oneForAll, children: [])),
        ]
        // doc:end
        let supervisor = try SupervisorSpec(children: children).start(on: Runtime(clock: ManualClock()))
        #expect(try await supervisor.countChildren() == ChildCounts(specs: 4, active: 4, supervisors: 1, workers: 3))
        #expect(registry.lookup("prices") != nil)
    }

    @Test func managingChildren() async throws {
        let runtime = Runtime(clock: ManualClock())
        let supervisor = try SupervisorSpec(children: [.worker(id: "prices") { PriceCache() }]).start(on: runtime)
        // doc:managing
        try await supervisor.startChild(.worker(id: "mailer") { Mailer() })   // appended, started
        try await supervisor.terminateChild("mailer")                          // stopped, spec kept
        try await supervisor.restartChild("mailer")                            // started again
        try await supervisor.terminateChild("mailer")
        try await supervisor.deleteChild("mailer")                             // spec removed

        for child in try await supervisor.whichChildren() {
            print(child.id, child.status, child.type, child.restart)           // "prices" running(<7>) worker permanent
        }
        let counts = try await supervisor.countChildren()                      // specs, active, supervisors, workers

        do {
            try await supervisor.deleteChild("prices")
        } catch let error as SupervisorError where error.code == .running {
            // OTP's {error, running}: terminate it first.
        }
        // doc:end
        #expect(counts == ChildCounts(specs: 1, active: 1, supervisors: 0, workers: 1))
    }

    @Test func dynamicChildren() async throws {
        let runtime = Runtime(clock: ManualClock())
        // doc:dynamic
        let sessions = try DynamicSupervisorSpec(restart: .transient, maximumChildren: 10_000) { (user: String) in
            ChatSession(user: user)
        }.start(on: runtime)

        let alice = try #require(try await sessions.startChild("alice"))   // Server<ChatSession>
        try await sessions.startChild("bob")
        try alice.cast(.close)                       // a normal end: a transient child is not restarted
        let running = try await sessions.children()  // [Server<ChatSession>]: bob's
        // doc:end
        #expect(running.count == 1)
        #expect(try await running[0].call { .user($0) } == "bob")
        try await sessions.stop()
    }

    @Test func backoff() async throws {
        // doc:backoff
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(
            intensity: 10, period: .seconds(60),
            backoff: RestartBackoff(initialDelay: .seconds(1), maximumDelay: .seconds(30), resetAfter: .seconds(60)),
            children: [.worker(id: "prices") { PriceCache() }]
        ).start(on: runtime)

        let prices = try #require(try await supervisor.child("prices", as: PriceCache.self))
        _ = try? await prices.call { .price("POISON", $0) }     // crashes it
        #expect(try await supervisor.child("prices", as: PriceCache.self) == nil)   // waiting: 1 s
        clock.advance(by: .seconds(1))
        #expect(try await supervisor.child("prices", as: PriceCache.self) != nil)   // restarted
        // doc:end
    }

    @Test func registry() async throws {
        // doc:registry
        let runtime = Runtime(clock: ManualClock())
        let registry = Registry<String>()
        let supervisor = try SupervisorSpec(children: [
            ChildSpec(id: "prices") { runtime in try runtime.start(PriceCache(), name: "prices", in: registry) },
        ]).start(on: runtime)

        let before = try #require(registry.lookup("prices", as: PriceCache.self))
        _ = try? await before.call { .price("POISON", $0) }     // the caller gets serverExited
        let after = try #require(registry.lookup("prices", as: PriceCache.self))
        #expect(after != before)                                // the name follows the restart

        do {
            try registry.register("prices", try runtime.start(PriceCache()))
        } catch let error as RegistryError where error.code == .alreadyRegistered {
            #expect(error.existingServer?.id == after.id)
        }
        // doc:end
        try await supervisor.stop()
    }

    @Test func runAsAService() async throws {
        let runtime = Runtime(clock: ManualClock())
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let tree = SupervisorSpec(children: [
            .worker(id: "prices") { PriceCache() },
            ChildSpec(id: "ready") { runtime in
                defer { signal.yield() }
                return try runtime.start(Mailer())
            },
        ])
        // doc:run
        let service = Task { try await tree.run(on: runtime) }
        // … later, at shutdown:
        // doc:end
        var ready = started.makeAsyncIterator()
        _ = await ready.next()
        // doc:run-cancel
        service.cancel()                 // every child stops, in reverse start order
        try await service.value          // returns once the tree has stopped
        // doc:end
    }

    @Test func testingASupervisedServer() async throws {
        // doc:testing
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(intensity: 1, period: .seconds(5), children: [
            .worker(id: "prices") { PriceCache() },
        ]).start(on: runtime)

        // A crash is handled, and the child restarted, before the call returns.
        let first = try #require(try await supervisor.child("prices", as: PriceCache.self))
        await #expect(throws: StateServerError.self) { try await first.call { .price("POISON", $0) } }
        let second = try #require(try await supervisor.child("prices", as: PriceCache.self))
        #expect(second != first)

        // Two crashes within 5 seconds exceed the intensity: the supervisor shuts down.
        clock.advance(by: .seconds(4))
        _ = try? await second.call { .price("POISON", $0) }
        #expect(!supervisor.isAlive)
        // doc:end
    }
}

// doc:service-bridge
struct SupervisionService: ServiceShape {      // `Service` with swift-service-lifecycle
    let tree: SupervisorSpec
    let runtime: Runtime

    func run() async throws {
        // With swift-service-lifecycle, wrap in `cancelWhenGracefulShutdown { … }` so that SIGTERM stops the
        // tree in order.
        try await tree.run(on: runtime)
    }
}
// doc:end
