import Machines

extension CatalogEntry {
    static let circuitBreaker = CatalogEntry.machine(
        name: "circuit-breaker",
        summary: "closed → open after 3 failures in a row; open 30 s → half-open; 2 trial successes close it",
        words: [
            EventWord(usage: "call", summary: "ask permission for a call (a call; the permit is not reported)") {
                server, arguments in
                try EventWord<CircuitBreaker>.expectNoArguments(arguments, for: "call")
                let now = server.runtime.now
                return "\(try await server.call(timeout: .seconds(5)) { .requestPermission(at: now, $0) })"
            },
            BreakerWords.outcome("success", "a call that succeeds: ask permission, then report success", failed: false),
            BreakerWords.outcome("failure", "a call that fails: ask permission, then report failure", failed: true),
            .cast("reset", "operator: close the breaker and forget its statistics", .reset),
            .call("state", "ask for the current state (a call)") { .currentState($0) },
        ],
        make: { speed in
            CircuitBreaker(configuration: CircuitBreaker.Configuration(
                failureThreshold: .consecutiveFailures(3), openDuration: .seconds(30), trialCalls: 1,
                successThreshold: 2
            ).speeded(up: speed))
        })
}

/// Helpers of the circuit breaker's words.
enum BreakerWords {
    /// A word that asks permission and, when granted, reports a success or a failure at once.
    static func outcome(_ word: String, _ summary: String, failed: Bool) -> EventWord<CircuitBreaker> {
        EventWord(usage: word, summary: summary) { server, arguments in
            try EventWord<CircuitBreaker>.expectNoArguments(arguments, for: word)
            let runtime = server.runtime
            let permission = try await server.call(timeout: .seconds(5)) { .requestPermission(at: runtime.now, $0) }
            guard case .granted(let permit) = permission else { return "\(permission): the call was not made" }
            try server.cast(failed ? .failed(permit, at: runtime.now) : .succeeded(permit, at: runtime.now))
            return "\(permission), then reported \(failed ? "failure" : "success")"
        }
    }
}
