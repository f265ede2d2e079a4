extension CircuitBreaker {
    /// The breaker's statistics: the current period's counts, and when an open breaker tries again.
    public struct Data: Hashable, Sendable {
        /// The current period, stamped on permits; it changes whenever the breaker closes or half-opens.
        public private(set) var generation = 0
        /// Failures in a row while closed.
        public private(set) var consecutiveFailures = 0
        /// The outcomes counted for a failure-rate threshold while closed.
        public private(set) var window: OutcomeWindow?
        /// Trial calls permitted and not yet reported, while half-open.
        public internal(set) var trialsInFlight = 0
        /// Successful trial calls, while half-open.
        public internal(set) var trialSuccesses = 0
        /// When the open breaker half-opens (the open timeout's deadline).
        public internal(set) var openUntil: RuntimeInstant?
        /// Calls rejected since the breaker started.
        public internal(set) var rejectedCalls = 0
        /// The threshold the counts are compared with.
        let threshold: FailureThreshold

        /// Empty statistics for `threshold`.
        public init(threshold: FailureThreshold) {
            self.threshold = threshold
            if case .failureRate(_, _, let window) = threshold { self.window = OutcomeWindow(length: window) }
        }

        /// Whether `permit` was given in the current period (outcomes of earlier periods are ignored).
        public func isCurrent(_ permit: Permit) -> Bool { permit.generation == generation }

        /// A permit for the current period.
        func permit(isTrial: Bool) -> Permit { Permit(generation: generation, isTrial: isTrial) }

        /// Starts a new period (on closing or half-opening): a new generation, no counts.
        mutating func beginPeriod() {
            generation += 1
            consecutiveFailures = 0
            window?.removeAll()
            trialsInFlight = 0
            trialSuccesses = 0
        }

        /// Counts an outcome reported at `time` while closed.
        mutating func record(isFailure: Bool, at time: RuntimeInstant) {
            consecutiveFailures = isFailure ? consecutiveFailures + 1 : 0
            window?.record(isFailure: isFailure, at: time)
        }

        /// A trial call succeeded without closing the breaker: its slot is free, and it counts towards closing.
        mutating func countTrialSuccess() {
            trialsInFlight -= 1
            trialSuccesses += 1
        }

        /// Whether a failure reported at `time` would reach the threshold (the data is not changed).
        ///
        /// - Complexity: O(1): the window has at most eleven buckets.
        func failureReachesThreshold(at time: RuntimeInstant) -> Bool {
            switch threshold {
            case .consecutiveFailures(let count):
                return consecutiveFailures + 1 >= count
            case .failureRate(let rate, let minimumCalls, _):
                guard var window else { return false }
                window.record(isFailure: true, at: time)
                return window.calls >= minimumCalls && Double(window.failures) >= rate * Double(window.calls)
            }
        }
    }

    /// The outcomes of the last `length` of time, in ten buckets: memory stays constant however many calls
    /// are made, and outcomes expire a bucket (a tenth of the window) at a time.
    public struct OutcomeWindow: Hashable, Sendable {
        /// One slice of the window.
        struct Bucket: Hashable, Sendable {
            /// The slice's number: its start is `index × width` after the runtime's start.
            var index: Int64
            var calls = 0
            var failures = 0
        }

        /// How far back outcomes count.
        public let length: Duration
        /// A bucket's width, in nanoseconds.
        let width: Int64
        /// The buckets, oldest first, at most eleven (ten in the window and the partly expired oldest).
        var buckets: [Bucket] = []

        /// An empty window of `length`.
        public init(length: Duration) {
            self.length = length
            let tenth = (length / 10).components
            width = max(1, tenth.seconds * 1_000_000_000 + tenth.attoseconds / 1_000_000_000)
        }

        /// Outcomes counted.
        public var calls: Int { buckets.reduce(0) { $0 + $1.calls } }

        /// Failures counted.
        public var failures: Int { buckets.reduce(0) { $0 + $1.failures } }

        /// Counts an outcome at `time`, after dropping the buckets that ended before `time - length`.
        ///
        /// - Complexity: O(1): at most eleven buckets.
        mutating func record(isFailure: Bool, at time: RuntimeInstant) {
            let index = time.nanoseconds / width
            buckets.removeAll { $0.index + 10 < index }
            if let position = buckets.lastIndex(where: { $0.index <= index }), buckets[position].index == index {
                buckets[position].calls += 1
                buckets[position].failures += isFailure ? 1 : 0
            } else if index + 10 >= (buckets.last?.index ?? index) {
                // A new bucket (or a late outcome for a slice with none yet, still inside the window).
                let position = buckets.firstIndex { $0.index > index } ?? buckets.endIndex
                buckets.insert(Bucket(index: index, calls: 1, failures: isFailure ? 1 : 0), at: position)
            }
        }

        /// Forgets every outcome.
        mutating func removeAll() { buckets.removeAll() }
    }
}
