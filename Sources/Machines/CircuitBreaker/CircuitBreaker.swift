/// A circuit breaker: lets calls to a dependency through while it is healthy (closed), fails them fast for a
/// while after too many failures (open), then lets a few trial calls probe it (half-open).
///
/// Most code uses it through ``CircuitBreakerClient``, which runs an async operation under the breaker and
/// streams its state changes:
///
/// ```swift
/// let breaker = try CircuitBreakerClient(runtime: runtime, configuration: .init(
///     failureThreshold: .failureRate(0.5, minimumCalls: 10, window: .seconds(60)),
///     openDuration: .seconds(30)))
/// let user = try await breaker.run { try await api.fetchUser(id) }   // throws CircuitBreakerError.open when open
/// ```
///
/// The machine itself only decides; callers run the operations, off the server:
/// 1. ``Call/requestPermission(at:_:)`` answers a ``Permission``: a ``Permit`` to make the call, or a
///    rejection with the time left before the breaker tries again.
/// 2. The caller reports the outcome with the permit: ``Cast/succeeded(_:at:)``, ``Cast/failed(_:at:)``, or
///    ``Cast/released(_:)`` for a call that counted as neither (cancelled, or an error that is not the
///    dependency's fault).
///
/// The states:
/// - ``State/closed``: every call is permitted. Outcomes are counted against
///   ``Configuration/failureThreshold``; reaching it opens the breaker.
/// - ``State/open``: every call is rejected, until the open timeout (``Configuration/openDuration``, the
///   state's timeout cell) moves to half-open.
/// - ``State/halfOpen``: at most ``Configuration/trialCalls`` trial calls run at once, other calls are rejected.
///   ``Configuration/successThreshold`` successful trials close the breaker; any failed trial opens it again.
///   With ``Configuration/halfOpenTimeout``, a half-open breaker that has not closed by then opens again (so a
///   trial whose outcome is never reported cannot hold it half-open forever).
///
/// Outcomes carry the permit's ``Permit/generation``: one reported after the breaker changed state (a call
/// that started before it opened, say) is ignored. Timestamps come from the caller (`runtime.now`), because a
/// handler never reads the clock; under a ``ManualClock`` everything is deterministic. ``Cast/reset`` closes the
/// breaker from any state and forgets its statistics.
///
/// The logic is ``table`` (drawn in `Docs/Machines/CircuitBreaker.md`).
///
/// Concurrency: a `Sendable` value; each server handles one request or outcome at a time, in mailbox order.
public struct CircuitBreaker: TableMachine {
    /// The breaker's states.
    public enum State: Hashable, Sendable, CaseIterable {
        /// Healthy: calls go through, failures are counted.
        case closed
        /// Tripped: calls fail fast until the open timeout.
        case open
        /// Probing: a limited number of trial calls decide between closed and open.
        case halfOpen
    }

    /// When the closed breaker opens.
    public enum FailureThreshold: Hashable, Sendable, CustomStringConvertible {
        /// After this many failures in a row (a success starts the count again).
        case consecutiveFailures(Int)
        /// When, among the outcomes of the last `window`, at least `minimumCalls` were reported and the share of
        /// failures reaches `threshold` (between 0 and 1). The window is kept as ten buckets, so outcomes
        /// expire a tenth of the window at a time.
        case failureRate(Double, minimumCalls: Int, window: Duration)

        /// `5 consecutive failures` or `50% of at least 10 calls in 60s`.
        public var description: String {
            switch self {
            case .consecutiveFailures(let count): "\(count) consecutive failures"
            case .failureRate(let threshold, let minimumCalls, let window):
                "\(Int((threshold * 100).rounded()))% of at least \(minimumCalls) calls in \(window)"
            }
        }
    }

    /// What the breaker counts and how long it waits.
    public struct Configuration: Hashable, Sendable {
        /// When the closed breaker opens.
        public var failureThreshold: FailureThreshold
        /// How long the breaker stays open before trying trial calls.
        public var openDuration: Duration
        /// How many trial calls may run at once in half-open; further calls are rejected.
        public var trialCalls: Int
        /// How many successful trial calls close the breaker.
        public var successThreshold: Int
        /// How long the breaker may stay half-open before it opens again; `nil` waits for the trials however
        /// long they take.
        public var halfOpenTimeout: Duration?

        /// Creates a configuration; the defaults open after 5 consecutive failures, for 30 s, then close after
        /// one successful trial call.
        public init(
            failureThreshold: FailureThreshold = .consecutiveFailures(5), openDuration: Duration = .seconds(30),
            trialCalls: Int = 1, successThreshold: Int = 1, halfOpenTimeout: Duration? = nil
        ) {
            self.failureThreshold = failureThreshold
            self.openDuration = openDuration
            self.trialCalls = trialCalls
            self.successThreshold = successThreshold
            self.halfOpenTimeout = halfOpenTimeout
        }

        /// Every duration divided by `factor` (for watching the breaker in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            var configuration = self
            configuration.openDuration = openDuration / factor
            configuration.halfOpenTimeout = halfOpenTimeout.map { $0 / factor }
            if case .failureRate(let threshold, let minimumCalls, let window) = failureThreshold {
                configuration.failureThreshold = .failureRate(
                    threshold, minimumCalls: minimumCalls, window: window / factor)
            }
            return configuration
        }

        /// What is wrong with the configuration, or `nil`.
        var problem: String? {
            switch failureThreshold {
            case .consecutiveFailures(let count) where count < 1:
                return "consecutiveFailures must be at least 1, not \(count)"
            case .failureRate(let threshold, _, _) where !(threshold > 0 && threshold <= 1):
                return "the failure rate threshold must be above 0 and at most 1, not \(threshold)"
            case .failureRate(_, let minimumCalls, _) where minimumCalls < 1:
                return "minimumCalls must be at least 1, not \(minimumCalls)"
            case .failureRate(_, _, let window) where window <= .zero:
                return "the failure rate window must be positive, not \(window)"
            default: break
            }
            if openDuration < .zero { return "openDuration must not be negative, not \(openDuration)" }
            if trialCalls < 1 { return "trialCalls must be at least 1, not \(trialCalls)" }
            if successThreshold < 1 { return "successThreshold must be at least 1, not \(successThreshold)" }
            if let halfOpenTimeout, halfOpenTimeout < .zero {
                return "halfOpenTimeout must not be negative, not \(halfOpenTimeout)"
            }
            return nil
        }
    }

    /// Permission to make one call: report its outcome with it.
    public struct Permit: Hashable, Sendable, CustomStringConvertible {
        /// The breaker's period (it changes whenever the breaker closes or half-opens): outcomes of an earlier
        /// period are ignored.
        public let generation: Int
        /// Whether the call is a half-open trial call.
        public let isTrial: Bool

        /// Creates a permit (the breaker makes them; tests may too).
        public init(generation: Int, isTrial: Bool) {
            self.generation = generation
            self.isTrial = isTrial
        }

        /// `permit #3` or `trial permit #4`.
        public var description: String { (isTrial ? "trial permit #" : "permit #") + "\(generation)" }
    }

    /// The answer to ``Call/requestPermission(at:_:)``.
    public enum Permission: Hashable, Sendable, CustomStringConvertible {
        /// Make the call, then report its outcome with the permit.
        case granted(Permit)
        /// Fail fast: the breaker is open (`remaining` is the time until it half-opens), or half-open with every
        /// trial slot taken (`remaining` is `nil`).
        case rejected(remaining: Duration?)

        /// `granted permit #1` or `rejected (open for 12s more)`.
        public var description: String {
            switch self {
            case .granted(let permit): "granted \(permit)"
            case .rejected(let remaining?): "rejected (open for \(remaining) more)"
            case .rejected(nil): "rejected (half-open, trial calls busy)"
            }
        }
    }

    /// A change of the breaker's state, as ``CircuitBreakerClient/stateChanges()`` reports it.
    public struct StateChange: Hashable, Sendable, CustomStringConvertible {
        /// The state left.
        public var from: State
        /// The state entered.
        public var to: State
        /// When, on the runtime's clock.
        public var at: RuntimeInstant

        /// Creates a state change.
        public init(from: State, to: State, at: RuntimeInstant) {
            self.from = from
            self.to = to
            self.at = at
        }

        /// `t=30.000s closed → open`.
        public var description: String { "\(at) \(from) → \(to)" }
    }

    /// Requests with replies.
    public enum Call: Sendable {
        /// May a call be made now (`at` is the caller's `runtime.now`)?
        case requestPermission(at: RuntimeInstant, Reply<Permission>)
        /// The current state.
        case currentState(Reply<State>)
    }

    /// Outcomes and operator commands.
    public enum Cast: Hashable, Sendable {
        /// The permitted call succeeded at `at`.
        case succeeded(Permit, at: RuntimeInstant)
        /// The permitted call failed at `at`.
        case failed(Permit, at: RuntimeInstant)
        /// The permitted call counts as neither (cancelled, or an error that is not the dependency's fault): its
        /// trial slot, if it had one, is free again.
        case released(Permit)
        /// Close the breaker now and forget its statistics.
        case reset
    }

    /// The configuration.
    public var configuration: Configuration

    /// Creates a breaker with `configuration`.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Starts closed, after checking the configuration: a count or threshold out of range fails the start
    /// (``StateServerError/Code/startFailed``, with an ``StateServerError/Code/invalidArgument`` error as the
    /// exit reason).
    public func start() throws -> Start<Self> {
        if let problem = configuration.problem {
            return .error(StateServerError(.invalidArgument, "invalid circuit breaker configuration: \(problem)"))
        }
        return try startTable(data: initialData())
    }

    /// Empty statistics, at generation 0.
    public func initialData() -> Data { Data(threshold: configuration.failureThreshold) }

    /// The table depends on the configuration: one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }

    /// The breaker's transitions (drawn in `Docs/Machines/CircuitBreaker.md`).
    public var table: TransitionTable<Self> {
        let configuration = configuration
        When(.closed) {
            On(call: "requestPermission", match: Self.permissionRequest, reply: { data, _ in
                .granted(data.permit(isTrial: false))
            })
            On(cast: "failed", match: Self.failure, goto: .open)
                .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
                .guard("reachesThreshold") { data, outcome in data.failureReachesThreshold(at: outcome.1) }
                .action("open") { data, outcome in data.openUntil = outcome.1 + configuration.openDuration }
            On(cast: "failed", match: Self.failure)
                .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
                .action("countFailure") { data, outcome in data.record(isFailure: true, at: outcome.1) }
            On(cast: "succeeded", match: Self.success)
                .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
                .action("countSuccess") { data, outcome in data.record(isFailure: false, at: outcome.1) }
            On(cast: .reset).action("clearStatistics") { data in data.beginPeriod() }
            Self.answersCurrentState(.closed)
        }
        .onEnter("beginPeriod") { data in data.beginPeriod() }
        When(.open, timeout: configuration.openDuration) {
            On(.stateTimeout, goto: .halfOpen)
            On(call: "requestPermission", match: Self.permissionRequest, reply: { data, now in
                data.rejectedCalls += 1
                return .rejected(remaining: data.openUntil.map { max(.zero, $0.duration(since: now)) })
            })
            Self.answersCurrentState(.open)
        }
        // The half-open rows depend on whether the state has a timeout cell; built once for either block.
        let halfOpenRows = { Self.halfOpenRows(configuration) }
        if let halfOpenTimeout = configuration.halfOpenTimeout {
            When(.halfOpen, timeout: halfOpenTimeout, halfOpenRows)
                .onEnter("beginPeriod") { data in data.beginPeriod() }
        } else {
            When(.halfOpen, halfOpenRows)
                .onEnter("beginPeriod") { data in data.beginPeriod() }
        }
        Always {
            On(cast: .reset, goto: .closed)
        }
    }

    /// The rows of ``State/halfOpen``, with a row for its timeout cell when ``Configuration/halfOpenTimeout`` is
    /// set.
    @TableRowBuilder<Self>
    static func halfOpenRows(_ configuration: Configuration) -> [TableRow<Self>] {
        On(call: "requestPermission", match: Self.permissionRequest, reply: { data, _ in
            .granted(data.permit(isTrial: true))
        })
        .guard("hasFreeTrialSlot") { data, _ in data.trialsInFlight < configuration.trialCalls }
        .action("takeTrialSlot") { data, _ in data.trialsInFlight += 1 }
        On(call: "requestPermission", match: Self.permissionRequest, reply: { data, _ in
            data.rejectedCalls += 1
            return .rejected(remaining: nil)
        })
        On(cast: "succeeded", match: Self.success, goto: .closed)
            .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
            .guard("reachesSuccessThreshold") { data, _ in data.trialSuccesses + 1 >= configuration.successThreshold }
        On(cast: "succeeded", match: Self.success)
            .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
            .action("countTrialSuccess") { data, _ in data.countTrialSuccess() }
        On(cast: "failed", match: Self.failure, goto: .open)
            .guard("isCurrent") { data, outcome in data.isCurrent(outcome.0) }
            .action("open") { data, outcome in data.openUntil = outcome.1 + configuration.openDuration }
        On(cast: "released", match: Self.release)
            .guard("isCurrent") { data, permit in data.isCurrent(permit) }
            .action("freeTrialSlot") { data, _ in data.trialsInFlight -= 1 }
        if let halfOpenTimeout = configuration.halfOpenTimeout {
            // The breaker half-opened when `openUntil` passed, so it reopens `halfOpenTimeout` after that.
            On(.stateTimeout, goto: .open).action("open") { data in
                data.openUntil = data.openUntil.map { $0 + halfOpenTimeout + configuration.openDuration }
            }
        }
        Self.answersCurrentState(.halfOpen)
    }

    // MARK: Matchers shared by rows

    /// A permission request's time and reply handle.
    static let permissionRequest: @Sendable (Call) -> (RuntimeInstant, Reply<Permission>)? = {
        if case .requestPermission(let now, let reply) = $0 { (now, reply) } else { nil }
    }

    /// A success's permit and time.
    static let success: @Sendable (Cast) -> (Permit, RuntimeInstant)? = {
        if case .succeeded(let permit, let time) = $0 { (permit, time) } else { nil }
    }

    /// A failure's permit and time.
    static let failure: @Sendable (Cast) -> (Permit, RuntimeInstant)? = {
        if case .failed(let permit, let time) = $0 { (permit, time) } else { nil }
    }

    /// A released permit.
    static let release: @Sendable (Cast) -> Permit? = {
        if case .released(let permit) = $0 { permit } else { nil }
    }

    /// The row answering ``Call/currentState(_:)`` in `state` (a reply can't read the state, so each state has
    /// its own row).
    static func answersCurrentState(_ state: State) -> On<Self, Void> {
        On(call: "currentState", match: { if case .currentState(let reply) = $0 { reply } else { nil } },
           reply: { _ in state })
    }
}
