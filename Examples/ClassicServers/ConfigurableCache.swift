import StateServer

/// A cache with a maximum size, least-recently-used eviction, a time to live per entry, and statistics.
///
/// - `put` stores a value; when the cache is full, the least recently used entry (written or read longest
///   ago) is evicted first.
/// - Each entry expires `timeToLive` after it was last written: a message to self scheduled with
///   ``Action/send(_:after:reference:)`` and cancelled when the entry is overwritten, deleted or evicted.
/// - `stats` counts hits, misses, evictions and expirations.
public struct ConfigurableCache: GenServer {
    /// The cache's limits.
    public struct Configuration: Sendable {
        /// The most entries held at once; at least 1.
        public var maxSize: Int
        /// How long an entry lives after it was written.
        public var timeToLive: Duration

        /// Limits of `maxSize` entries living `timeToLive` each.
        public init(maxSize: Int, timeToLive: Duration) {
            self.maxSize = maxSize
            self.timeToLive = timeToLive
        }
    }

    /// What the cache has counted since it started.
    public struct Statistics: Equatable, Sendable, CustomStringConvertible {
        /// Reads that found their key.
        public var hits = 0
        /// Reads that did not.
        public var misses = 0
        /// Entries removed to make room.
        public var evictions = 0
        /// Entries removed because their time to live ended.
        public var expirations = 0
        /// Entries held now.
        public var size = 0

        /// Statistics with the given counts.
        public init(hits: Int = 0, misses: Int = 0, evictions: Int = 0, expirations: Int = 0, size: Int = 0) {
            self.hits = hits
            self.misses = misses
            self.evictions = evictions
            self.expirations = expirations
            self.size = size
        }

        /// `hits 1, misses 2, evictions 1, expirations 0, size 2`.
        public var description: String {
            "hits \(hits), misses \(misses), evictions \(evictions), expirations \(expirations), size \(size)"
        }
    }

    /// Requests with a reply.
    public enum Call: Sendable {
        /// Answers the value under a key, or `nil`; a hit makes the entry the most recently used.
        case get(String, Reply<String?>)
        /// Answers the keys from least to most recently used (the eviction order).
        case keys(Reply<[String]>)
        /// Answers the statistics.
        case stats(Reply<Statistics>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// Stores a value, evicting the least recently used entry if the cache is full.
        case put(String, String)
        /// Removes a key.
        case delete(String)
    }

    /// Messages the cache sends itself.
    public enum Info: Sendable {
        /// The time to live of an entry ended; `timer` tells a stale message from the current one.
        case expire(String, timer: SelfMessageReference)
    }

    /// The cache's state.
    public struct Entries: Sendable {
        struct Entry: Sendable {
            var value: String
            var timer: SelfMessageReference
        }

        var values: [String: Entry] = [:]
        /// Keys from least to most recently used.
        var recency: [String] = []
        var statistics = Statistics()

        mutating func touch(_ key: String) {
            recency.removeAll { $0 == key }
            recency.append(key)
        }

        mutating func remove(_ key: String) -> Entry? {
            guard let entry = values.removeValue(forKey: key) else { return nil }
            recency.removeAll { $0 == key }
            return entry
        }
    }

    /// The cache's limits.
    public let configuration: Configuration

    /// A cache with the given limits.
    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Starts empty; refuses to start with a `maxSize` below 1.
    public func initialize() -> GenServerStart<Self> {
        guard configuration.maxSize >= 1 else { return .error(CacheConfigurationError.maxSizeBelowOne) }
        return .ok(Entries())
    }

    /// Answers `get`, `keys` and `stats`.
    public func handleCall(_ request: Call, state entries: inout Entries) -> GenServerResult<Self> {
        switch request {
        case .get(let key, let reply):
            guard let entry = entries.values[key] else {
                entries.statistics.misses += 1
                return .reply(reply, nil)
            }
            entries.statistics.hits += 1
            entries.touch(key)
            return .reply(reply, entry.value)
        case .keys(let reply):
            return .reply(reply, entries.recency)
        case .stats(let reply):
            var statistics = entries.statistics
            statistics.size = entries.values.count
            return .reply(reply, statistics)
        }
    }

    /// Handles `put` and `delete`.
    public func handleCast(_ message: Cast, state entries: inout Entries) -> GenServerResult<Self> {
        var actions: [Action<Self>] = []
        switch message {
        case .put(let key, let value):
            if let old = entries.remove(key) {
                actions.append(.cancelSend(old.timer))
            } else if entries.values.count >= configuration.maxSize, let leastRecent = entries.recency.first {
                if let evicted = entries.remove(leastRecent) { actions.append(.cancelSend(evicted.timer)) }
                entries.statistics.evictions += 1
            }
            let timer = SelfMessageReference()
            entries.values[key] = Entries.Entry(value: value, timer: timer)
            entries.touch(key)
            actions.append(.send(.expire(key, timer: timer), after: configuration.timeToLive, reference: timer))
        case .delete(let key):
            if let old = entries.remove(key) { actions.append(.cancelSend(old.timer)) }
        }
        return .noreply(actions: actions)
    }

    /// Expires entries.
    public func handleInfo(_ message: Info, state entries: inout Entries) -> GenServerResult<Self> {
        switch message {
        case .expire(let key, let timer):
            guard entries.values[key]?.timer == timer else { return .noreply }
            _ = entries.remove(key)
            entries.statistics.expirations += 1
            return .noreply
        }
    }
}

/// Why a ``ConfigurableCache`` refused to start.
public enum CacheConfigurationError: Error, Equatable, Sendable {
    /// `maxSize` must be at least 1.
    case maxSizeBelowOne
}

/// The `ConfigurableCache` example: two entries at most, living one minute each.
public func runConfigurableCacheDemo(runtime: Runtime, clock: ManualClock, output: (String) -> Void) async throws {
    let cache = try runtime.start(ConfigurableCache(.init(maxSize: 2, timeToLive: .seconds(60))))
    func say(_ line: String) { output("\(runtime.now.nanoseconds / 1_000_000_000) s: \(line)") }
    func get(_ key: String, _ note: String = "") async throws {
        let value = try await cache.call { .get(key, $0) }
        say("get \(key) -> \(value ?? "nil")\(note)")
    }

    try cache.cast(.put("a", "1"))
    try cache.cast(.put("b", "2"))
    say("put a, b")
    try await get("a")
    try cache.cast(.put("c", "3"))
    say("put c (evicts b, the least recently used)")
    try await get("b", " (evicted)")
    say("keys, least recently used first -> \(try await cache.call { .keys($0) })")
    clock.advance(by: .seconds(30))
    try cache.cast(.put("d", "4"))
    say("put d (evicts a)")
    clock.advance(by: .seconds(30))
    try await get("c", " (expired: put 60 s ago)")
    clock.advance(by: .seconds(30))
    say("keys -> \(try await cache.call { .keys($0) }) (d expired too)")
    say("stats -> \(try await cache.call { .stats($0) })")
}
