import StateServer

/// A cache that empties itself after a period with no messages at all: `gen_server`'s inactivity timeout.
///
/// Every callback returns `timeout: idleTimeout`, so any message restarts the wait; when it runs out,
/// ``GenServer/handleTimeout(state:)`` clears the cache.
public struct CacheWithTimeout: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Answers the value under a key, or `nil`.
        case get(String, Reply<String?>)
        /// Answers how many entries are held.
        case size(Reply<Int>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// Stores a value.
        case put(String, String)
    }

    /// How long the cache keeps its entries without any message.
    public let idleTimeout: Duration

    /// A cache cleared after `idleTimeout` without messages.
    public init(idleTimeout: Duration) { self.idleTimeout = idleTimeout }

    /// Starts empty, with the inactivity timeout running.
    public func initialize() -> GenServerStart<Self> {
        .ok([:], timeout: idleTimeout)
    }

    /// Answers `get` and `size`, restarting the inactivity timeout.
    public func handleCall(_ request: Call, state entries: inout [String: String]) -> GenServerResult<Self> {
        switch request {
        case .get(let key, let reply):
            return .reply(reply, entries[key], timeout: idleTimeout)
        case .size(let reply):
            return .reply(reply, entries.count, timeout: idleTimeout)
        }
    }

    /// Handles `put`, restarting the inactivity timeout.
    public func handleCast(_ message: Cast, state entries: inout [String: String]) -> GenServerResult<Self> {
        switch message {
        case .put(let key, let value):
            entries[key] = value
            return .noreply(timeout: idleTimeout)
        }
    }

    /// No message for `idleTimeout`: clears the cache. No new timeout: an empty cache has nothing to clear.
    public func handleTimeout(state entries: inout [String: String]) -> GenServerResult<Self> {
        entries.removeAll()
        return .noreply
    }
}

/// The `CacheWithTimeout` example: entries survive while messages keep coming, and are cleared one minute after
/// the last one.
public func runCacheWithTimeoutDemo(runtime: Runtime, clock: ManualClock, output: (String) -> Void) async throws {
    let cache = try runtime.start(CacheWithTimeout(idleTimeout: .seconds(60)))
    func say(_ line: String) { output("\(runtime.now.nanoseconds / 1_000_000_000) s: \(line)") }

    try cache.cast(.put("a", "1"))
    try cache.cast(.put("b", "2"))
    say("put a, b")
    clock.advance(by: .seconds(59))
    say("get a -> \(try await cache.call { .get("a", $0) } ?? "nil") (the timeout restarts)")
    clock.advance(by: .seconds(59))
    say("get b -> \(try await cache.call { .get("b", $0) } ?? "nil") (the timeout restarts)")
    clock.advance(by: .seconds(59))
    // `getState` is a system request, not a message: it does not restart the timeout.
    say("entries (seen with getState) -> \(try await cache.getState().data.count)")
    clock.advance(by: .seconds(1))
    say("entries after 60 s without a message -> \(try await cache.getState().data.count)")
    say("size -> \(try await cache.call { .size($0) })")
}
