import Machines

extension CatalogEntry {
    static let rateLimiter = CatalogEntry.machine(
        name: "rate-limiter",
        summary: "token bucket: 10 tokens, 1 more per second; acquire now or wait for tokens; no timer when full",
        words: [
            EventWord(usage: "acquire <n>", summary: "take n tokens now, or be told when to retry (a call)") {
                server, arguments in
                let tokens = try EventWord<RateLimiter>.integer(arguments, at: 0, for: "acquire <n>")
                return try await LimiterWords.ask(server) { .acquire(tokens, $0) }
            },
            EventWord(usage: "wait <n>", summary: "take n tokens as soon as refills allow, in turn (a call; 30 s timeout)") {
                server, arguments in
                let tokens = try EventWord<RateLimiter>.integer(arguments, at: 0, for: "wait <n>")
                return try await LimiterWords.ask(server) { .acquireWhenAvailable(tokens, $0) }
            },
            .call("stats", "ask for the tokens, waiting callers and counts (a call)") { .statistics($0) },
        ],
        make: { speed in RateLimiter(configuration: RateLimiter.Configuration().speeded(up: speed)) })
}

/// Helpers of the rate limiter's words.
enum LimiterWords {
    /// Sends a request for tokens and formats the decision. A waiting request is not waited for: the trace shows
    /// its reply when refills grant it (or its 30 s timeout passes).
    static func ask(
        _ server: Server<RateLimiter>,
        _ makeRequest: @escaping @Sendable (Reply<RateLimiter.Decision>) -> RateLimiter.Call
    ) async throws -> String {
        let reply = server.request(timeout: .seconds(30), makeRequest)
        await awaitBriefly(reply, on: server.runtime)
        switch reply.result {
        case .success(let decision)?: return "\(decision)"
        case .failure(let error)?: throw error
        case nil: return "waiting: the reply comes when refills add the tokens (advance time; the trace shows it)"
        }
    }

    /// Waits a moment for a reply in real time, where the server answers on another thread.
}
