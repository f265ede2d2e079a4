import ClassicServers
import StateServer
import Testing

@Suite struct ExampleCacheWithTimeoutTests {
    let clock = ManualClock()
    let runtime: Runtime
    let cache: Server<CacheWithTimeout>

    init() throws {
        runtime = Runtime(clock: clock)
        cache = try runtime.start(CacheWithTimeout(idleTimeout: .seconds(10)))
    }

    /// The number of entries, read with a system request so the inactivity timeout is not touched.
    private func entryCount() async throws -> Int { try await cache.getState().data.count }

    @Test func demoPrintsItsOutput() async throws {
        let demoClock = ManualClock()
        var lines: [String] = []
        try await runCacheWithTimeoutDemo(runtime: Runtime(clock: demoClock), clock: demoClock) { lines.append($0) }
        #expect(lines == [
            "0 s: put a, b",
            "59 s: get a -> 1 (the timeout restarts)",
            "118 s: get b -> 2 (the timeout restarts)",
            "177 s: entries (seen with getState) -> 2",
            "178 s: entries after 60 s without a message -> 0",
            "178 s: size -> 0",
        ])
    }

    @Test func theCacheIsClearedAfterTheIdleTimeoutWithoutMessages() async throws {
        try cache.cast(.put("a", "1"))
        clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(try await entryCount() == 1)
        clock.advance(by: .nanoseconds(1))
        #expect(try await entryCount() == 0)
    }

    @Test func everyMessageRestartsTheIdleTimeout() async throws {
        try cache.cast(.put("a", "1"))
        for _ in 1...5 {
            clock.advance(by: .seconds(9))
            _ = try await cache.call { .size($0) }
        }
        #expect(try await entryCount() == 1)
        clock.advance(by: .seconds(10))
        #expect(try await entryCount() == 0)
    }

    @Test func afterClearingNoTimeoutIsLeftRunning() async throws {
        try cache.cast(.put("a", "1"))
        clock.advance(by: .seconds(10))
        #expect(try await cache.status().timeouts.isEmpty)
        #expect(clock.armedTimerCount == 0)
    }
}
