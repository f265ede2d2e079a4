/// A user session from creation to its end: authentication, activity, idleness, refreshes, logout and expiry.
///
/// ```swift
/// let session = try runtime.start(SessionLifecycle(authenticator: { token in try await identity.verify(token) }))
/// let login = try await session.call { .authenticate(token: token, $0) }   // .success(info) once verified
/// let info = try await session.call { .touch($0) }                        // a request made with the session
/// _ = try await session.call { .logout($0) }                              // → closed
/// ```
///
/// The session is created in ``State/created``; ``Call/authenticate(token:_:)`` moves it to
/// ``State/authenticating`` while the token is verified (by the ``Authenticator``, run off the server, or by
/// whoever sends ``Info/authenticationSucceeded(user:)`` / ``Info/authenticationFailed(reason:)``). Requests
/// that arrive meanwhile are **postponed** (`gen_statem`'s `postpone`) and handled in order once the session is
/// ``State/active``; if authentication fails or times out the session is ``State/closed`` and each postponed
/// request gets a typed ``SessionError``.
///
/// Three clocks bound a session:
/// - **Inactivity**: ``State/active``'s state timeout, re-armed by every request (``Call/touch(_:)``,
///   ``Call/refresh(_:)``), moves it to ``State/idle``; a request in idle makes it active again, and idleness
///   longer than ``Configuration/gracePeriod`` expires it. A state timeout fits: it is re-armed only by the rows
///   that count as activity, while an event timeout would be cancelled by *any* event, including a status query.
/// - **Absolute lifetime**: a named timeout armed at creation expires the session whatever state it is in; it
///   survives state changes (unlike a state timeout), and only ``Call/refresh(_:)`` re-arms it.
/// - **Authentication**: ``State/authenticating``'s state timeout closes a session whose verification never ends.
///
/// ``State/closed`` and ``State/expired`` are final: the session answers every request with the reason it ended
/// for ``Configuration/retention``, then its server stops normally.
///
/// Concurrency: a `Sendable` value; its server handles one event at a time. The ``Authenticator`` runs as an
/// effect, concurrently with the server, and may be called from any task.
public struct SessionLifecycle: TableMachine {
    /// The session's states.
    public enum State: Hashable, Sendable, CaseIterable {
        /// Created, not yet authenticated.
        case created
        /// The token is being verified; requests are postponed.
        case authenticating
        /// Authenticated and in use.
        case active
        /// Authenticated but unused for ``Configuration/idleTimeout``: a request reactivates it.
        case idle
        /// Ended by logout or a failed authentication (final).
        case closed
        /// Ended by its lifetime or by idleness (final).
        case expired
    }

    /// What a session tells its callers about itself.
    public struct SessionInfo: Hashable, Sendable, CustomStringConvertible {
        /// The authenticated user, once authentication succeeded.
        public var user: String?
        /// How many requests (``Call/touch(_:)``) the session has served.
        public var requests: Int
        /// How many times the session was refreshed.
        public var refreshes: Int

        /// Creates a description of a session.
        public init(user: String?, requests: Int, refreshes: Int) {
            self.user = user
            self.requests = requests
            self.refreshes = refreshes
        }

        /// `user alice, 3 requests, 1 refresh`.
        public var description: String {
            "user \(user ?? "none"), \(requests) request\(requests == 1 ? "" : "s"), "
                + "\(refreshes) refresh\(refreshes == 1 ? "" : "es")"
        }
    }

    /// Why a session refused a request.
    public enum SessionError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The session has not been authenticated yet.
        case notAuthenticated
        /// ``Call/authenticate(token:_:)`` on a session already authenticated.
        case alreadyAuthenticated
        /// The token was rejected.
        case authenticationFailed(reason: String)
        /// Verification took longer than ``Configuration/authenticationTimeout``.
        case authenticationTimedOut
        /// The session was refreshed ``Configuration/maxRefreshes`` times already.
        case refreshLimitReached
        /// The session was closed by ``Call/logout(_:)``.
        case loggedOut
        /// The session expired (lifetime or idleness).
        case expired

        /// `loggedOut`, `authenticationFailed(reason: "revoked")`, …
        public var description: String {
            switch self {
            case .notAuthenticated: "notAuthenticated"
            case .alreadyAuthenticated: "alreadyAuthenticated"
            case .authenticationFailed(let reason): "authenticationFailed(reason: \"\(reason)\")"
            case .authenticationTimedOut: "authenticationTimedOut"
            case .refreshLimitReached: "refreshLimitReached"
            case .loggedOut: "loggedOut"
            case .expired: "expired"
            }
        }
    }

    /// The answer to a session request: the session, or why the request was refused.
    public typealias Outcome = Result<SessionInfo, SessionError>

    /// Verifies a token and returns the user it belongs to, or throws why it is rejected. Runs off the server.
    public typealias Authenticator = @Sendable (_ token: String) async throws -> String

    /// Requests, each with its typed reply.
    public enum Call: Sendable {
        /// Starts authenticating with `token`; answered once verification ends (a deferred reply).
        case authenticate(token: String, Reply<Outcome>)
        /// A request made with the session: counts as activity.
        case touch(Reply<Outcome>)
        /// Extends the session's lifetime by ``Configuration/lifetime`` from now (and counts as activity).
        case refresh(Reply<Outcome>)
        /// Ends the session: → ``State/closed``.
        case logout(Reply<Outcome>)
        /// The session's description, in any state, without counting as activity.
        case info(Reply<SessionInfo>)
    }

    /// The outcome of verification, from the ``Authenticator`` or from outside (`server.send(_:)`). Outcomes that
    /// arrive in any state other than ``State/authenticating`` are ignored.
    public enum Info: Hashable, Sendable {
        /// The token belongs to `user`.
        case authenticationSucceeded(user: String)
        /// The token was rejected.
        case authenticationFailed(reason: String)
    }

    /// Named timeouts.
    public enum Timer: Hashable, Sendable, CaseIterable {
        /// The absolute lifetime, armed at creation, re-armed by refreshes, surviving state changes.
        case lifetime
    }

    /// The session's data.
    public struct Data: Sendable, CustomStringConvertible {
        /// The authenticated user.
        public internal(set) var user: String?
        /// Requests served.
        public internal(set) var requests = 0
        /// Refreshes granted.
        public internal(set) var refreshes = 0
        /// Why the session ended, once it has.
        public internal(set) var ending: SessionError?
        /// The caller of ``Call/authenticate(token:_:)`` while verification runs.
        var authenticationCaller: Reply<Outcome>?
        /// The verifier, kept in the data (not the table) because it is not part of the table's variant.
        let authenticator: Authenticator?

        init(authenticator: Authenticator?) { self.authenticator = authenticator }

        /// The session's description.
        public var info: SessionInfo { SessionInfo(user: user, requests: requests, refreshes: refreshes) }

        /// `user alice, 3 requests, 1 refresh`, then the ending once there is one.
        public var description: String { info.description + (ending.map { ", ended: \($0)" } ?? "") }
    }

    /// How long each stage of a session may last.
    public struct Configuration: Hashable, Sendable {
        /// The longest verification may take before the session is closed.
        public var authenticationTimeout: Duration
        /// How long an active session may go without a request before it is idle.
        public var idleTimeout: Duration
        /// How long an idle session waits for a request before it expires.
        public var gracePeriod: Duration
        /// The absolute lifetime, from creation (and from each refresh).
        public var lifetime: Duration
        /// The most refreshes a session may have; `nil` for no limit.
        public var maxRefreshes: Int?
        /// How long a closed or expired session keeps answering (with its ending) before its server stops.
        public var retention: Duration

        /// Creates a configuration; the defaults are 30 s to authenticate, 15 min to idle, 5 min of grace, an
        /// 8 h lifetime, 3 refreshes and 1 min of retention.
        public init(
            authenticationTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(15 * 60),
            gracePeriod: Duration = .seconds(5 * 60), lifetime: Duration = .seconds(8 * 3600),
            maxRefreshes: Int? = 3, retention: Duration = .seconds(60)
        ) {
            self.authenticationTimeout = authenticationTimeout
            self.idleTimeout = idleTimeout
            self.gracePeriod = gracePeriod
            self.lifetime = lifetime
            self.maxRefreshes = maxRefreshes
            self.retention = retention
        }

        /// Every duration divided by `factor` (for watching a session in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            Configuration(
                authenticationTimeout: authenticationTimeout / factor, idleTimeout: idleTimeout / factor,
                gracePeriod: gracePeriod / factor, lifetime: lifetime / factor, maxRefreshes: maxRefreshes,
                retention: retention / factor)
        }

        /// Why the configuration can't run, or `nil` when it can.
        var problem: String? {
            let durations = [
                ("authenticationTimeout", authenticationTimeout), ("idleTimeout", idleTimeout),
                ("gracePeriod", gracePeriod), ("lifetime", lifetime), ("retention", retention),
            ]
            if let (name, value) = durations.first(where: { $0.1 <= .zero }) {
                return "SessionLifecycle.Configuration.\(name) must be positive, got \(value)"
            }
            if let maxRefreshes, maxRefreshes < 0 {
                return "SessionLifecycle.Configuration.maxRefreshes must not be negative, got \(maxRefreshes)"
            }
            return nil
        }
    }

    /// The session's durations and limits.
    public var configuration: Configuration
    /// Verifies tokens; `nil` when the outcome is sent from outside with `server.send(_:)`.
    public var authenticator: Authenticator?

    /// Creates a session with `configuration`, verifying tokens with `authenticator` (or, when `nil`, waiting for
    /// ``Info/authenticationSucceeded(user:)`` or ``Info/authenticationFailed(reason:)`` to be sent).
    public init(configuration: Configuration = Configuration(), authenticator: Authenticator? = nil) {
        self.configuration = configuration
        self.authenticator = authenticator
    }

    /// Starts in ``State/created`` with the lifetime armed; fails with
    /// ``StateServerError/Code/invalidArgument`` when a duration is not positive or `maxRefreshes` is negative.
    public func start() throws -> Start<Self> {
        if let problem = configuration.problem { return .error(StateServerError(.invalidArgument, problem)) }
        return try startTable(data: initialData())
    }

    /// A new session's data.
    public func initialData() -> Data { Data(authenticator: authenticator) }

    /// The table depends on the configuration (its timeout cells): one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }
}
