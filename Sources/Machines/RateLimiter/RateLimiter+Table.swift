extension RateLimiter {
    /// The limiter's transition table (drawn in `Docs/Machines/RateLimiter.md`).
    @TransitionTableBuilder<Self> public var table: TransitionTable<Self> {
        let bucket = self.configuration
        When(.full) {
            On(call: "acquire", match: Self.acquire, goto: .refilling, reply: { data, tokens in data.take(tokens) })
                .guard("fits") { _, tokens in bucket.fits(tokens) }
            On(call: "acquire", match: Self.acquire, reply: { data, tokens in data.refuse(tokens, bucket) })
            On(call: "acquireWhenAvailable", match: Self.acquireWhenAvailable, goto: .refilling,
               reply: { data, tokens in data.take(tokens) })
                .guard("fits") { _, tokens in bucket.fits(tokens) }
            On(call: "acquireWhenAvailable", match: Self.acquireWhenAvailable,
               reply: { data, tokens in data.refuse(tokens, bucket) })
        }
        When(.refilling, timeout: bucket.refillInterval) {
            On(call: "acquire", match: Self.acquire, reply: { data, tokens in data.take(tokens) })
                .guard("available") { data, tokens in data.canTake(tokens, bucket) }
            On(call: "acquire", match: Self.acquire, reply: { data, tokens in data.deny(tokens, bucket) })
                .guard("fits") { _, tokens in bucket.fits(tokens) }
            On(call: "acquire", match: Self.acquire, reply: { data, tokens in data.refuse(tokens, bucket) })
            On(call: "acquireWhenAvailable", match: Self.acquireWhenAvailable,
               reply: { data, tokens in data.take(tokens) })
                .guard("available") { data, tokens in data.canTake(tokens, bucket) }
            On(call: "acquireWhenAvailable", match: Self.acquireWhenAvailable)
                .guard("fits") { _, request in bucket.fits(request.tokens) }
                .action("wait") { data, request in data.wait(for: request.tokens, reply: request.reply) }
            On(call: "acquireWhenAvailable", match: Self.acquireWhenAvailable,
               reply: { data, tokens in data.refuse(tokens, bucket) })
            On(.stateTimeout, goto: .full)
                .guard("fillsUp") { data in data.fillsUp(bucket) }
                .action("refill") { data in data.refill(bucket) }
            On(.stateTimeout)
                .action("refill") { data in data.refill(bucket) }
                .action("rearm") { _ in [.stateTimeout(bucket.refillInterval)] }
        }
        Always {
            On(call: "statistics", match: Self.statistics, reply: { data in data.statistics(bucket) })
        }
    }

    // MARK: Matchers: a call's arguments and reply handle, or nil for any other call.

    static let acquire: @Sendable (Call) -> (tokens: Int, reply: Reply<Decision>)? = {
        if case .acquire(let tokens, let reply) = $0 { (tokens, reply) } else { nil }
    }
    static let acquireWhenAvailable: @Sendable (Call) -> (tokens: Int, reply: Reply<Decision>)? = {
        if case .acquireWhenAvailable(let tokens, let reply) = $0 { (tokens, reply) } else { nil }
    }
    static let statistics: @Sendable (Call) -> Reply<Statistics>? = {
        if case .statistics(let reply) = $0 { reply } else { nil }
    }
}

extension RateLimiter.Configuration {
    /// Whether a request for `tokens` can ever be granted.
    func fits(_ tokens: Int) -> Bool { 1 <= tokens && tokens <= capacity }
}

extension RateLimiter.Data {
    typealias Limiter = RateLimiter

    /// Whether `tokens` can be taken now: they are there and no live caller waits ahead.
    func canTake(_ tokens: Int, _ bucket: Limiter.Configuration) -> Bool {
        bucket.fits(tokens) && tokens <= self.tokens && !waiters.hasLiveWaiter
    }

    /// Whether the next refill fills the bucket (so the timer can stop).
    func fillsUp(_ bucket: Limiter.Configuration) -> Bool {
        tokens + bucket.refillAmount >= bucket.capacity && !waiters.hasLiveWaiter
    }

    /// Takes `tokens` (callers checked they are there).
    mutating func take(_ tokens: Int) -> Limiter.Decision {
        abandoned += waiters.removeAbandoned()
        self.tokens -= tokens
        allowed += 1
        return .allowed(remaining: self.tokens)
    }

    /// Denies `tokens`, estimating when refills will have added enough for the live waiters and this request.
    mutating func deny(_ tokens: Int, _ bucket: Limiter.Configuration) -> Limiter.Decision {
        denied += 1
        let missing = max(1, waiters.liveTokens + tokens - self.tokens)
        let refills = (missing + bucket.refillAmount - 1) / bucket.refillAmount
        return .denied(retryAfter: bucket.refillInterval * refills)
    }

    /// Refuses a request that can never be granted.
    mutating func refuse(_ tokens: Int, _ bucket: Limiter.Configuration) -> Limiter.Decision {
        invalid += 1
        return .invalid(requested: tokens, capacity: bucket.capacity)
    }

    /// Keeps the caller waiting for `tokens`: its reply is deferred until a refill serves it.
    mutating func wait(for tokens: Int, reply: Reply<Limiter.Decision>) {
        abandoned += waiters.removeAbandoned()
        waiters.append(Limiter.Waiter(tokens: tokens, reply: reply))
    }

    /// A refill: adds tokens up to the capacity, then serves the waiters in order while the head's tokens are
    /// there (skipping callers that gave up); returns their replies.
    mutating func refill(_ bucket: Limiter.Configuration) -> [Action<Limiter>] {
        tokens = min(bucket.capacity, tokens + bucket.refillAmount)
        abandoned += waiters.removeAbandoned()
        var replies: [Action<Limiter>] = []
        while let head = waiters.first, head.tokens <= tokens {
            waiters.removeFirst()
            tokens -= head.tokens
            waited += 1
            replies.append(.reply(head.reply, .allowed(remaining: tokens)))
        }
        return replies
    }

    /// The statistics, after forgetting the callers that gave up.
    mutating func statistics(_ bucket: Limiter.Configuration) -> Limiter.Statistics {
        abandoned += waiters.removeAbandoned()
        return Limiter.Statistics(
            tokens: tokens, capacity: bucket.capacity, waiting: waiters.count, allowed: allowed, denied: denied,
            waited: waited, abandoned: abandoned, invalid: invalid)
    }
}

extension RateLimiter {
    /// A caller waiting for tokens.
    struct Waiter: Sendable {
        let tokens: Int
        let reply: Reply<RateLimiter.Decision>
    }

    /// The callers waiting for tokens, first in first out.
    struct Waiters: Sendable {
        private var items: [Waiter] = []
        private var head = 0

        var count: Int { items.count - head }
        var first: Waiter? { head < items.count ? items[head] : nil }

        /// Whether a caller still waits (one whose call has not timed out).
        var hasLiveWaiter: Bool { items[head...].contains { !$0.reply.isAnswered } }

        /// The tokens the live callers wait for.
        var liveTokens: Int { items[head...].reduce(0) { $0 + ($1.reply.isAnswered ? 0 : $1.tokens) } }

        mutating func append(_ waiter: Waiter) { items.append(waiter) }

        /// Removes the first waiter; storage is compacted once half of it is behind the head.
        ///
        /// - Complexity: amortized O(1).
        mutating func removeFirst() {
            head += 1
            if head >= 32 && head * 2 >= items.count {
                items.removeFirst(head)
                head = 0
            }
        }

        /// Removes the callers that gave up (timed out or cancelled their call); returns how many.
        ///
        /// - Complexity: O(n).
        mutating func removeAbandoned() -> Int {
            guard items[head...].contains(where: { $0.reply.isAnswered }) else { return 0 }
            let before = count
            items = items[head...].filter { !$0.reply.isAnswered }
            head = 0
            return before - count
        }
    }
}
