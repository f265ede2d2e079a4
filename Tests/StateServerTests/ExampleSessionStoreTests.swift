import ClassicServers
import StateServer
import Testing

@Suite struct ExampleSessionStoreTests {
    let clock = ManualClock()
    let runtime: Runtime
    let store: Server<SessionStore>

    init() throws {
        runtime = Runtime(clock: clock)
        store = try runtime.start(SessionStore(idleTimeout: .seconds(60), cleanupInterval: .seconds(100)))
    }

    private func user(_ id: SessionID) async throws -> Result<String, SessionError> {
        try await store.call { .get(id, $0) }
    }

    @Test func demoPrintsItsOutput() async throws {
        let demoClock = ManualClock()
        var lines: [String] = []
        try await runSessionStoreDemo(runtime: Runtime(clock: demoClock), clock: demoClock) { lines.append($0) }
        #expect(lines == [
            "0 min: create alice -> session-1",
            "0 min: create bob -> session-2",
            "15 min: refresh session-1 -> ok",
            "29 min: get session-2 -> bob",
            "30 min: get session-2 -> expired",
            "40 min: get session-2 -> notFound (cleaned up at 40 min)",
            "44 min: get session-1 -> alice",
            "45 min: get session-1 -> expired",
            "45 min: refresh session-1 -> expired",
            "45 min: active sessions -> 0",
        ])
    }

    @Test func aSessionExpiresExactlyAtTheEndOfItsIdlePeriod() async throws {
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(60) - .nanoseconds(1))
        #expect(try await user(id) == .success("ann"))
        clock.advance(by: .nanoseconds(1))
        #expect(try await user(id) == .failure(.expired))
    }

    @Test func refreshRestartsTheIdlePeriod() async throws {
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(50))
        try await store.call { .refresh(id, $0) }.get()
        clock.advance(by: .seconds(59))
        #expect(try await user(id) == .success("ann"))
        clock.advance(by: .seconds(1))
        #expect(try await user(id) == .failure(.expired))
    }

    @Test func readingASessionDoesNotRefreshIt() async throws {
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(30))
        _ = try await user(id)
        clock.advance(by: .seconds(30))
        #expect(try await user(id) == .failure(.expired))
    }

    @Test func expiredSessionsAreForgottenAtTheNextCleanup() async throws {
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(99))
        #expect(try await user(id) == .failure(.expired))
        #expect(try await store.getState().data.expiredCount == 1)
        clock.advance(by: .seconds(1))
        #expect(try await user(id) == .failure(.notFound))
        #expect(try await store.getState().data.expiredCount == 0)
    }

    @Test func theCleanupRunsEveryInterval() async throws {
        for round in 1...3 {
            let id = try await store.call { .create(user: "user \(round)", $0) }
            clock.advance(by: .seconds(100))
            #expect(try await user(id) == .failure(.notFound), "round \(round)")
        }
        #expect(clock.now == RuntimeInstant.zero + .seconds(300))
    }

    @Test func anUnknownSessionIsNotFound() async throws {
        let unknown = try await store.call { .create(user: "ann", $0) }
        let other = try runtime.start(SessionStore())
        #expect(try await other.call { .get(unknown, $0) } == .failure(.notFound))
        #expect(try await other.call { .refresh(unknown, $0) }.map { "ok" } == .failure(.notFound))
    }

    @Test func refreshingAnExpiredSessionSaysExpired() async throws {
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(60))
        #expect(try await store.call { .refresh(id, $0) }.map { "ok" } == .failure(.expired))
        #expect(try await store.call { .activeCount($0) } == 0)
    }
}
