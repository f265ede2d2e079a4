import Machines

extension CatalogEntry {
    static let sessionLifecycle = CatalogEntry.machine(
        name: "session-lifecycle",
        summary: "login → authenticating (requests postponed) → active → idle after 5 min → expired; logout → closed",
        words: [
            EventWord(usage: "login <token>", summary: "start authenticating (a call, answered once verified)") {
                server, arguments in
                guard let token = arguments.first, arguments.count == 1 else {
                    throw UsageError("'login' needs a token", help: "usage: login <token>")
                }
                return try await SessionWords.ask(server) { .authenticate(token: token, $0) }
            },
            EventWord(usage: "authenticate <user>", summary: "identity provider: the token belongs to <user>") {
                server, arguments in
                guard let user = arguments.first, arguments.count == 1 else {
                    throw UsageError("'authenticate' needs a user", help: "usage: authenticate <user>")
                }
                try server.send(.authenticationSucceeded(user: user))
                return nil
            },
            EventWord(usage: "fail-auth [reason]", summary: "identity provider: the token is rejected") {
                server, arguments in
                try server.send(.authenticationFailed(reason: arguments.isEmpty ? "rejected" : arguments.joined(separator: " ")))
                return nil
            },
            SessionWords.request("touch", "a request made with the session: activity (a call)") { .touch($0) },
            SessionWords.request("refresh", "extend the lifetime by 1 h, at most 3 times (a call)") { .refresh($0) },
            SessionWords.request("logout", "close the session (a call)") { .logout($0) },
            .call("info", "ask for the session's user and counts (a call; not activity)") { .info($0) },
        ],
        make: { speed in
            SessionLifecycle(configuration: SessionLifecycle.Configuration(
                authenticationTimeout: .seconds(30), idleTimeout: .seconds(5 * 60), gracePeriod: .seconds(60),
                lifetime: .seconds(3600), maxRefreshes: 3, retention: .seconds(60)
            ).speeded(up: speed))
        })
}

/// Helpers of the session's words.
enum SessionWords {
    /// A word without arguments that sends a session request, which may be postponed while authenticating.
    static func request(
        _ usage: String, _ summary: String,
        _ makeRequest: @escaping @Sendable (Reply<SessionLifecycle.Outcome>) -> SessionLifecycle.Call
    ) -> EventWord<SessionLifecycle> {
        EventWord(usage: usage, summary: summary) { server, arguments in
            try EventWord<SessionLifecycle>.expectNoArguments(arguments, for: usage)
            return try await ask(server, makeRequest)
        }
    }

    /// Sends a call and formats its reply. A reply the session defers (authentication, a request postponed while
    /// authenticating) is not waited for: the trace shows it when it comes.
    static func ask(
        _ server: Server<SessionLifecycle>,
        _ makeRequest: @escaping @Sendable (Reply<SessionLifecycle.Outcome>) -> SessionLifecycle.Call
    ) async throws -> String {
        let reply = server.request(timeout: .seconds(60), makeRequest)
        await awaitBriefly(reply, on: server.runtime)
        switch reply.result {
        case .success(.success(let info))?: return "ok: \(info)"
        case .success(.failure(let error))?: return "refused: \(error)"
        case .failure(let error)?: throw error
        case nil: return "no reply yet: the session answers once authentication ends (the trace shows it)"
        }
    }

    /// Waits a moment for a reply in real time, where the server answers on another thread.
}
