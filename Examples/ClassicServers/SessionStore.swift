import StateServer

/// Sessions that expire after an idle period, with a periodic cleanup.
///
/// - `create` opens a session for a user and answers its ``SessionID``.
/// - `get` answers the session's user; `refresh` restarts its idle period.
/// - A session expires exactly `idleTimeout` after it was created or last refreshed: each session has a
///   message to self scheduled with ``Action/send(_:after:reference:)``, cancelled and rescheduled by `refresh`.
/// - An expired session is remembered until the next cleanup, which runs every `cleanupInterval` (a message to
///   self that reschedules itself), so a client is told ``SessionError/expired`` rather than
///   ``SessionError/notFound`` for a while.
public struct SessionStore: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Opens a session for `user`.
        case create(user: String, Reply<SessionID>)
        /// Answers the user of a session.
        case get(SessionID, Reply<Result<String, SessionError>>)
        /// Restarts the idle period of a session.
        case refresh(SessionID, Reply<Result<Void, SessionError>>)
        /// Answers how many sessions are active.
        case activeCount(Reply<Int>)
    }

    /// Messages the store sends itself.
    public enum Info: Sendable {
        /// The idle period of a session ended; `timer` tells a stale message (the session was refreshed
        /// since) from the current one.
        case expire(SessionID, timer: SelfMessageReference)
        /// Time for the periodic cleanup.
        case cleanup
    }

    /// The store's state.
    public struct Sessions: Sendable {
        struct Session: Sendable {
            var user: String
            var timer: SelfMessageReference
        }

        var active: [SessionID: Session] = [:]
        /// Expired since the last cleanup.
        var expired: Set<SessionID> = []
        var nextNumber = 1

        /// How many sessions are active.
        public var activeCount: Int { active.count }
        /// How many expired sessions are remembered until the next cleanup.
        public var expiredCount: Int { expired.count }
    }

    /// How long a session lives without a refresh.
    public let idleTimeout: Duration
    /// How often expired sessions are forgotten.
    public let cleanupInterval: Duration

    /// A store whose sessions expire after `idleTimeout` without a refresh, forgetting expired sessions every
    /// `cleanupInterval`.
    public init(idleTimeout: Duration = .seconds(30 * 60), cleanupInterval: Duration = .seconds(20 * 60)) {
        self.idleTimeout = idleTimeout
        self.cleanupInterval = cleanupInterval
    }

    /// Starts empty, with the first cleanup scheduled.
    public func initialize() -> GenServerStart<Self> {
        .ok(Sessions(), .send(.cleanup, after: cleanupInterval))
    }

    /// Answers `create`, `get`, `refresh` and `activeCount`.
    public func handleCall(_ request: Call, state sessions: inout Sessions) -> GenServerResult<Self> {
        switch request {
        case .create(let user, let reply):
            let id = SessionID(number: sessions.nextNumber)
            sessions.nextNumber += 1
            let timer = SelfMessageReference()
            sessions.active[id] = Sessions.Session(user: user, timer: timer)
            return .reply(reply, id, .send(.expire(id, timer: timer), after: idleTimeout, reference: timer))

        case .get(let id, let reply):
            if let session = sessions.active[id] { return .reply(reply, .success(session.user)) }
            return .reply(reply, .failure(sessions.expired.contains(id) ? .expired : .notFound))

        case .refresh(let id, let reply):
            guard let old = sessions.active[id]?.timer else {
                return .reply(reply, .failure(sessions.expired.contains(id) ? .expired : .notFound))
            }
            let timer = SelfMessageReference()
            sessions.active[id]?.timer = timer
            return .reply(
                reply, .success(()),
                .cancelSend(old), .send(.expire(id, timer: timer), after: idleTimeout, reference: timer))

        case .activeCount(let reply):
            return .reply(reply, sessions.active.count)
        }
    }

    /// Expires sessions and runs the periodic cleanup.
    public func handleInfo(_ message: Info, state sessions: inout Sessions) -> GenServerResult<Self> {
        switch message {
        case .expire(let id, let timer):
            guard sessions.active[id]?.timer == timer else { return .noreply }
            sessions.active[id] = nil
            sessions.expired.insert(id)
            return .noreply
        case .cleanup:
            sessions.expired.removeAll()
            return .noreply(.send(.cleanup, after: cleanupInterval))
        }
    }
}

/// Identifies a session.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// The session's number, counting from 1 in each store.
    public let number: Int

    /// `session-N`.
    public var description: String { "session-\(number)" }
}

/// Why a session could not be used.
public enum SessionError: Error, Equatable, Sendable {
    /// The session existed but its idle period ended.
    case expired
    /// No such session (never created, or expired and already cleaned up).
    case notFound
}

/// The `SessionStore` example: two sessions, one refreshed; each expires `idleTimeout` after its last refresh,
/// and is forgotten at the next cleanup.
public func runSessionStoreDemo(runtime: Runtime, clock: ManualClock, output: (String) -> Void) async throws {
    let store = try runtime.start(SessionStore(idleTimeout: .seconds(30 * 60), cleanupInterval: .seconds(20 * 60)))

    func at(_ minutes: Int) {
        clock.advance(to: RuntimeInstant.zero + .seconds(minutes * 60))
    }
    func say(_ line: String) {
        output("\(runtime.now.nanoseconds / 60_000_000_000) min: \(line)")
    }
    func describe<Value>(_ result: Result<Value, SessionError>) -> String {
        switch result {
        case .success(let value): value is Void ? "ok" : "\(value)"
        case .failure(let error): "\(error)"
        }
    }

    let alice = try await store.call { .create(user: "alice", $0) }
    say("create alice -> \(alice)")
    let bob = try await store.call { .create(user: "bob", $0) }
    say("create bob -> \(bob)")
    at(15)
    say("refresh \(alice) -> \(describe(try await store.call { .refresh(alice, $0) }))")
    at(29)
    say("get \(bob) -> \(describe(try await store.call { .get(bob, $0) }))")
    at(30)
    say("get \(bob) -> \(describe(try await store.call { .get(bob, $0) }))")
    at(40)
    say("get \(bob) -> \(describe(try await store.call { .get(bob, $0) })) (cleaned up at 40 min)")
    at(44)
    say("get \(alice) -> \(describe(try await store.call { .get(alice, $0) }))")
    at(45)
    say("get \(alice) -> \(describe(try await store.call { .get(alice, $0) }))")
    say("refresh \(alice) -> \(describe(try await store.call { .refresh(alice, $0) }))")
    say("active sessions -> \(try await store.call { .activeCount($0) })")
}
