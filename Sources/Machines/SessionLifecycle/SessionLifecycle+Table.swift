extension SessionLifecycle {
    /// The session's transition table (drawn in `Docs/Machines/SessionLifecycle.md`).
    @TransitionTableBuilder<Self> public var table: TransitionTable<Self> {
        let configuration = self.configuration
        When(.created) {
            On(call: "authenticate", match: Self.authenticate, goto: .authenticating)
                .action("verify") { data, request in data.verify(token: request.token, caller: request.reply) }
            On(call: "touch", match: Self.touch, reply: { _ in .failure(.notAuthenticated) })
            On(call: "refresh", match: Self.refresh, reply: { _ in .failure(.notAuthenticated) })
            On(call: "logout", match: Self.logout, goto: .closed, reply: { data in data.end(.loggedOut) })
            On(timeout: .lifetime, goto: .expired)
        }
        .onEnter("armLifetime") { _ in [.timeout(.lifetime, configuration.lifetime)] }
        When(.authenticating, timeout: configuration.authenticationTimeout) {
            On(info: "authenticationSucceeded", match: Self.succeeded, goto: .active)
                .action("admit") { data, user in data.admit(user) }
            On(info: "authenticationFailed", match: Self.failed, goto: .closed)
                .action("reject") { data, reason in data.reject(.authenticationFailed(reason: reason)) }
            On(.stateTimeout, goto: .closed).action("reject") { data in data.reject(.authenticationTimedOut) }
            On(timeout: .lifetime, goto: .expired).action("reject") { data in data.reject(.expired) }
            On(call: "authenticate", match: Self.authenticate).action("postpone") { _, _ in [.postpone] }
            On(call: "touch", match: Self.touch).action("postpone") { _, _ in [.postpone] }
            On(call: "refresh", match: Self.refresh).action("postpone") { _, _ in [.postpone] }
            On(call: "logout", match: Self.logout).action("postpone") { _, _ in [.postpone] }
        }
        When(.active, timeout: configuration.idleTimeout) {
            On(call: "touch", match: Self.touch, reply: { data in .success(data.info) })
                .action("count") { data in data.requests += 1 }
                .action("rearmIdle") { _ in [.stateTimeout(configuration.idleTimeout)] }
            On(call: "refresh", match: Self.refresh, reply: { data in .success(data.info) })
                .guard("canRefresh") { data in data.canRefresh(upTo: configuration.maxRefreshes) }
                .action("extend") { data in data.extend(by: configuration.lifetime) }
                .action("rearmIdle") { _ in [.stateTimeout(configuration.idleTimeout)] }
            On(call: "refresh", match: Self.refresh, reply: { _ in .failure(.refreshLimitReached) })
            On(call: "logout", match: Self.logout, goto: .closed, reply: { data in data.end(.loggedOut) })
            On(call: "authenticate", match: Self.authenticate, reply: { _, _ in .failure(.alreadyAuthenticated) })
            On(.stateTimeout, goto: .idle)
            On(timeout: .lifetime, goto: .expired)
        }
        When(.idle, timeout: configuration.gracePeriod) {
            On(call: "touch", match: Self.touch, goto: .active, reply: { data in .success(data.info) })
                .action("count") { data in data.requests += 1 }
            On(call: "refresh", match: Self.refresh, goto: .active, reply: { data in .success(data.info) })
                .guard("canRefresh") { data in data.canRefresh(upTo: configuration.maxRefreshes) }
                .action("extend") { data in data.extend(by: configuration.lifetime) }
            On(call: "refresh", match: Self.refresh, reply: { _ in .failure(.refreshLimitReached) })
            On(call: "logout", match: Self.logout, goto: .closed, reply: { data in data.end(.loggedOut) })
            On(call: "authenticate", match: Self.authenticate, reply: { _, _ in .failure(.alreadyAuthenticated) })
            On(.stateTimeout, goto: .expired)
            On(timeout: .lifetime, goto: .expired)
        }
        When(.closed, timeout: configuration.retention) {
            On(call: "authenticate", match: Self.authenticate, reply: { data, _ in .failure(data.endingError) })
            On(call: "touch", match: Self.touch, reply: { data in .failure(data.endingError) })
            On(call: "refresh", match: Self.refresh, reply: { data in .failure(data.endingError) })
            On(call: "logout", match: Self.logout, reply: { data in .failure(data.endingError) })
            On(.stateTimeout).stop()
        }
        .onEnter("cancelLifetime") { _ in [.cancelTimeout(.lifetime)] }
        When(.expired, timeout: configuration.retention) {
            On(call: "authenticate", match: Self.authenticate, reply: { _, _ in .failure(.expired) })
            On(call: "touch", match: Self.touch, reply: { _ in .failure(.expired) })
            On(call: "refresh", match: Self.refresh, reply: { _ in .failure(.expired) })
            On(call: "logout", match: Self.logout, reply: { _ in .failure(.expired) })
            On(.stateTimeout).stop()
        }
        .onEnter("expire") { data in data.expire() }
        Always {
            On(call: "info", match: Self.info, reply: { data in data.info })
        }
        Final(.closed, .expired)
    }

    // MARK: Matchers: a call's arguments and reply handle, or nil for any other call.

    static let authenticate: @Sendable (Call) -> (token: String, reply: Reply<Outcome>)? = {
        if case .authenticate(let token, let reply) = $0 { (token, reply) } else { nil }
    }
    static let touch: @Sendable (Call) -> Reply<Outcome>? = { if case .touch(let reply) = $0 { reply } else { nil } }
    static let refresh: @Sendable (Call) -> Reply<Outcome>? = { if case .refresh(let reply) = $0 { reply } else { nil } }
    static let logout: @Sendable (Call) -> Reply<Outcome>? = { if case .logout(let reply) = $0 { reply } else { nil } }
    static let info: @Sendable (Call) -> Reply<SessionInfo>? = { if case .info(let reply) = $0 { reply } else { nil } }
    static let succeeded: @Sendable (Info) -> String? = {
        if case .authenticationSucceeded(let user) = $0 { user } else { nil }
    }
    static let failed: @Sendable (Info) -> String? = {
        if case .authenticationFailed(let reason) = $0 { reason } else { nil }
    }
}

extension SessionLifecycle.Data {
    typealias Session = SessionLifecycle

    /// Keeps the caller to answer once verification ends, and starts the authenticator when there is one.
    mutating func verify(token: String, caller: Reply<Session.Outcome>) -> [Action<Session>] {
        authenticationCaller = caller
        guard let authenticator else { return [] }
        return [
            .run { try await authenticator(token) } then: { result in
                switch result {
                case .success(let user): .authenticationSucceeded(user: user)
                case .failure(let error): .authenticationFailed(reason: "\(error)")
                }
            }
        ]
    }

    /// Authentication succeeded: answer the caller.
    mutating func admit(_ user: String) -> [Action<Session>] {
        self.user = user
        return answerAuthentication(.success(info))
    }

    /// Authentication ended without a user: remember why, answer the caller.
    mutating func reject(_ error: Session.SessionError) -> [Action<Session>] {
        ending = error
        return answerAuthentication(.failure(error))
    }

    private mutating func answerAuthentication(_ outcome: Session.Outcome) -> [Action<Session>] {
        defer { authenticationCaller = nil }
        return authenticationCaller.map { [.reply($0, outcome)] } ?? []
    }

    /// Ends the session for `reason`; the caller who ended it gets the session's description.
    mutating func end(_ reason: Session.SessionError) -> Session.Outcome {
        ending = reason
        return .success(info)
    }

    /// Entering expired: remember why, and stop the lifetime.
    mutating func expire() -> [Action<Session>] {
        ending = .expired
        return [.cancelTimeout(.lifetime)]
    }

    /// Why the session ended, for requests made after.
    var endingError: Session.SessionError { ending ?? .loggedOut }

    func canRefresh(upTo limit: Int?) -> Bool { limit.map { refreshes < $0 } ?? true }

    /// A refresh: the lifetime starts again.
    mutating func extend(by lifetime: Duration) -> [Action<Session>] {
        refreshes += 1
        return [.timeout(.lifetime, lifetime)]
    }
}
