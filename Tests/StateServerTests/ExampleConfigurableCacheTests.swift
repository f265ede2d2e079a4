import ClassicServers
import StateServer
import Testing

@Suite struct ExampleConfigurableCacheTests {
    let clock = ManualClock()
    let runtime: Runtime
    let cache: Server<ConfigurableCache>

    init() throws {
        runtime = Runtime(clock: clock)
        cache = try runtime.start(ConfigurableCache(.init(maxSize: 3, timeToLive: .seconds(10))))
    }

    private func get(_ key: String) async throws -> String? { try await cache.call { .get(key, $0) } }
    private func keys() async throws -> [String] { try await cache.call { .keys($0) } }
    private func stats() async throws -> ConfigurableCache.Statistics { try await cache.call { .stats($0) } }

    @Test func demoPrintsItsOutput() async throws {
        let demoClock = ManualClock()
        var lines: [String] = []
        try await runConfigurableCacheDemo(runtime: Runtime(clock: demoClock), clock: demoClock) { lines.append($0) }
        #expect(lines == [
            "0 s: put a, b",
            "0 s: get a -> 1",
            "0 s: put c (evicts b, the least recently used)",
            "0 s: get b -> nil (evicted)",
            #"0 s: keys, least recently used first -> ["a", "c"]"#,
            "30 s: put d (evicts a)",
            "60 s: get c -> nil (expired: put 60 s ago)",
            "90 s: keys -> [] (d expired too)",
            "90 s: stats -> hits 1, misses 2, evictions 2, expirations 2, size 0",
        ])
    }

    @Test func aFullCacheEvictsTheLeastRecentlyUsedEntry() async throws {
        for key in ["a", "b", "c"] { try cache.cast(.put(key, key.uppercased())) }
        _ = try await get("a")          // order now b, c, a
        try cache.cast(.put("b", "B2"))  // order now c, a, b
        try cache.cast(.put("d", "D"))   // evicts c
        #expect(try await keys() == ["a", "b", "d"])
        #expect(try await get("c") == nil)
        try cache.cast(.put("e", "E"))   // evicts a
        #expect(try await keys() == ["b", "d", "e"])
        #expect(try await stats().evictions == 2)
    }

    @Test func anEntryExpiresItsTimeToLiveAfterItWasWritten() async throws {
        try cache.cast(.put("a", "1"))
        clock.advance(by: .seconds(5))
        #expect(try await get("a") == "1")  // a read does not extend the time to live
        clock.advance(by: .seconds(5) - .nanoseconds(1))
        #expect(try await keys() == ["a"])
        clock.advance(by: .nanoseconds(1))
        #expect(try await keys() == [])
        #expect(try await stats().expirations == 1)
    }

    @Test func overwritingAnEntryRestartsItsTimeToLive() async throws {
        try cache.cast(.put("a", "1"))
        clock.advance(by: .seconds(8))
        try cache.cast(.put("a", "2"))
        clock.advance(by: .seconds(8))
        #expect(try await get("a") == "2")
        clock.advance(by: .seconds(2))
        #expect(try await get("a") == nil)
        #expect(try await stats().expirations == 1)
    }

    @Test func evictedAndDeletedEntriesDoNotCountAsExpirations() async throws {
        for key in ["a", "b", "c", "d"] { try cache.cast(.put(key, key)) }
        try cache.cast(.delete("d"))
        clock.advance(by: .seconds(60))
        #expect(try await stats() == ConfigurableCache.Statistics(evictions: 1, expirations: 2))
        #expect(clock.armedTimerCount == 0)
    }

    @Test func statisticsCountHitsAndMisses() async throws {
        try cache.cast(.put("a", "1"))
        _ = try await get("a")
        _ = try await get("a")
        _ = try await get("z")
        #expect(try await stats() == ConfigurableCache.Statistics(hits: 2, misses: 1, size: 1))
    }

    @Test func aMaximumSizeBelowOneIsRefusedAtStart() throws {
        let error = try #require(throws: StateServerError.self) {
            try runtime.start(ConfigurableCache(.init(maxSize: 0, timeToLive: .seconds(1))))
        }
        #expect(error.code == .startFailed)
    }
}
