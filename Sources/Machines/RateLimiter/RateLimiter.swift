/// A token bucket: up to ``Configuration/capacity`` tokens, ``Configuration/refillAmount`` more every
/// ``Configuration/refillInterval``; a request takes tokens or is told when to retry, or waits its turn.
///
/// ```swift
/// let limiter = try runtime.start(RateLimiter(configuration: .init(capacity: 10, refillAmount: 2, every: .seconds(1))))
/// switch try await limiter.call({ .acquire(3, $0) }) {
/// case .allowed(let remaining): …                    // go ahead; `remaining` tokens are left
/// case .denied(let retryAfter): …                    // try again after `retryAfter`
/// case .invalid: …                                   // more than the capacity: never possible
/// }
/// let turn = try await limiter.call(timeout: .seconds(2)) { .acquireWhenAvailable(3, $0) }   // waits for tokens
/// ```
///
/// The bucket is ``State/full`` (no timer runs: an idle limiter costs nothing) or ``State/refilling``, whose
/// state timeout adds tokens every interval until the bucket is full again.
///
/// **Waiting.** ``Call/acquireWhenAvailable(_:_:)`` answers at once when the tokens are there, else later: its
/// reply handle is kept in the data (a deferred reply), in a first-in, first-out queue served as refills come.
/// The wait is bounded by the caller's own call timeout; a caller that gave up is skipped (and counted as
/// ``Statistics/abandoned``) when the queue is next served. Waiters are served strictly in order, and while any
/// wait, ``Call/acquire(_:_:)`` is denied so that it can't overtake them.
///
/// Concurrency: a `Sendable` value; its server handles one request at a time, so callers on any task see one
/// consistent bucket.
public struct RateLimiter: TableMachine {
    /// Whether the refill timer runs.
    public enum State: Hashable, Sendable, CaseIterable {
        /// Every token is there; no timer runs.
        case full
        /// Below capacity: the refill timer runs.
        case refilling
    }

    /// The answer to a request for tokens.
    public enum Decision: Hashable, Sendable {
        /// The tokens were taken; `remaining` are left.
        case allowed(remaining: Int)
        /// Not enough tokens: by `retryAfter` (at most), refills will have added enough for the callers waiting
        /// and this request, if no one else takes them first.
        case denied(retryAfter: Duration)
        /// The request can never be granted: it asks for fewer than one token or more than the capacity.
        case invalid(requested: Int, capacity: Int)
    }

    /// What the limiter has done so far.
    public struct Statistics: Hashable, Sendable, CustomStringConvertible {
        /// Tokens in the bucket.
        public var tokens: Int
        /// The bucket's capacity.
        public var capacity: Int
        /// Callers waiting for tokens.
        public var waiting: Int
        /// Requests granted at once.
        public var allowed: Int
        /// Requests denied (``Call/acquire(_:_:)`` without enough tokens).
        public var denied: Int
        /// Waiting requests granted after a wait.
        public var waited: Int
        /// Waiting callers that gave up (their call timed out) before their turn.
        public var abandoned: Int
        /// Requests that could never be granted.
        public var invalid: Int

        /// Creates statistics.
        public init(
            tokens: Int, capacity: Int, waiting: Int = 0, allowed: Int = 0, denied: Int = 0, waited: Int = 0,
            abandoned: Int = 0, invalid: Int = 0
        ) {
            self.tokens = tokens
            self.capacity = capacity
            self.waiting = waiting
            self.allowed = allowed
            self.denied = denied
            self.waited = waited
            self.abandoned = abandoned
            self.invalid = invalid
        }

        /// `3/10 tokens, 1 waiting, 7 allowed, 2 denied, 1 waited, 0 abandoned, 0 invalid`.
        public var description: String {
            "\(tokens)/\(capacity) tokens, \(waiting) waiting, \(allowed) allowed, \(denied) denied, \(waited) waited, "
                + "\(abandoned) abandoned, \(invalid) invalid"
        }
    }

    /// Requests, each with its typed reply.
    public enum Call: Sendable {
        /// Takes that many tokens now, or is denied with a retry-after estimate.
        case acquire(Int, Reply<Decision>)
        /// Takes that many tokens now or as soon as refills allow, in arrival order; never denied (a deferred
        /// reply, bounded by the caller's timeout).
        case acquireWhenAvailable(Int, Reply<Decision>)
        /// The limiter's statistics.
        case statistics(Reply<Statistics>)
    }

    /// The bucket's data.
    public struct Data: Sendable, CustomStringConvertible {
        /// Tokens in the bucket.
        public internal(set) var tokens: Int
        /// Callers waiting for tokens, first come first served.
        var waiters = RateLimiter.Waiters()
        /// Counters for ``Statistics``.
        var allowed = 0, denied = 0, waited = 0, abandoned = 0, invalid = 0

        init(tokens: Int) { self.tokens = tokens }

        /// `3 tokens, 1 waiting`.
        public var description: String { "\(tokens) token\(tokens == 1 ? "" : "s"), \(waiters.count) waiting" }
    }

    /// The bucket's size and refill rate.
    public struct Configuration: Hashable, Sendable {
        /// The most tokens the bucket holds (and the most one request may take).
        public var capacity: Int
        /// Tokens added every ``refillInterval``.
        public var refillAmount: Int
        /// How often tokens are added.
        public var refillInterval: Duration

        /// Creates a configuration: `capacity` tokens, `refillAmount` more every `refillInterval`. The default is
        /// 10 tokens, one more per second.
        public init(capacity: Int = 10, refillAmount: Int = 1, every refillInterval: Duration = .seconds(1)) {
            self.capacity = capacity
            self.refillAmount = refillAmount
            self.refillInterval = refillInterval
        }

        /// The refill interval divided by `factor` (for watching a limiter in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            Configuration(capacity: capacity, refillAmount: refillAmount, every: refillInterval / factor)
        }

        /// Why the configuration can't run, or `nil` when it can.
        var problem: String? {
            if capacity < 1 { return "RateLimiter.Configuration.capacity must be at least 1, got \(capacity)" }
            if refillAmount < 1 {
                return "RateLimiter.Configuration.refillAmount must be at least 1, got \(refillAmount)"
            }
            if refillInterval <= .zero {
                return "RateLimiter.Configuration.refillInterval must be positive, got \(refillInterval)"
            }
            return nil
        }
    }

    /// The bucket's size and refill rate.
    public var configuration: Configuration

    /// Creates a limiter with `configuration`.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Starts ``State/full``; fails with ``StateServerError/Code/invalidArgument`` for a capacity or refill
    /// amount below one or a refill interval that is not positive.
    public func start() throws -> Start<Self> {
        if let problem = configuration.problem { return .error(StateServerError(.invalidArgument, problem)) }
        return try startTable(data: initialData())
    }

    /// A full bucket.
    public func initialData() -> Data { Data(tokens: configuration.capacity) }

    /// The table depends on the configuration (its timeout cell and guards): one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }
}
