/// A job queue: runs submitted async jobs with at most ``Configuration/maxConcurrentJobs`` at once, retries
/// failures with exponential backoff, and can be paused, resumed and drained.
///
/// ```swift
/// let queue = try runtime.start(JobQueue(configuration: .init(maxConcurrentJobs: 4)))
/// let id = try await queue.call { .submit({ try await upload(file) }, $0) }.get()
/// let status = try await queue.call { .status(id, $0) }            // .success(.running(attempt: 1)), …
/// let final = try await queue.call(timeout: nil) { .awaitCompletion(id, $0) }   // once it has finished
/// ```
///
/// Jobs run as effects, off the server (`.run { try await job() } then: { … }`): the server stays free to answer
/// while they run, and learns each outcome as a ``Info/jobFinished(_:attempt:failure:)`` message. A job that
/// throws is retried after ``RetryPolicy/delay(afterAttempt:)`` (a delayed message to self, cancellable) until
/// ``RetryPolicy/maxAttempts`` attempts have failed.
///
/// - ``State/running`` starts jobs whenever fewer than the maximum run.
/// - ``State/paused`` starts none; running jobs finish, retries become pending, submissions are queued.
/// - ``State/draining`` takes no submissions and starts nothing: pending and retrying jobs are cancelled, and when
///   the last running job finishes the server stops normally. (Draining with nothing running stops at once.)
///
/// ``Call/awaitCompletion(_:_:)`` is a deferred reply: the handle is kept until the job finishes, however long
/// that takes, and answered with its final ``JobStatus``.
///
/// Concurrency: a `Sendable` value; its server handles one request or outcome at a time. Jobs are `@Sendable`
/// closures run concurrently with the server and each other; a job still running when the server stops is
/// cancelled (its task sees `Task.isCancelled`) and its outcome is not recorded.
public struct JobQueue: TableMachine {
    /// The queue's lifecycle.
    public enum State: Hashable, Sendable, CaseIterable {
        /// Starting jobs as capacity allows.
        case running
        /// Starting no job; running ones finish.
        case paused
        /// Finishing the running jobs, then stopping.
        case draining
    }

    /// Work to run: an async closure that throws to report a failure.
    public typealias Job = @Sendable () async throws -> Void

    /// Identifies a submitted job.
    public struct JobID: Hashable, Comparable, Sendable, CustomStringConvertible {
        /// The job's number: 1 for the first job submitted, then 2, …
        public var rawValue: Int

        /// The job numbered `rawValue`.
        public init(_ rawValue: Int) { self.rawValue = rawValue }

        /// `#3`.
        public var description: String { "#\(rawValue)" }

        /// Jobs compare by submission order.
        public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Where a job is in its life.
    public enum JobStatus: Hashable, Sendable, CustomStringConvertible {
        /// Queued, waiting for a free slot (or for the queue to resume).
        case pending
        /// Attempt `attempt` runs (1 for the first).
        case running(attempt: Int)
        /// Attempt `attempt` failed with `error`; the next starts `after` the backoff delay.
        case retrying(attempt: Int, error: String, after: Duration)
        /// Attempt `attempts` succeeded.
        case succeeded(attempts: Int)
        /// Every allowed attempt failed; `error` is the last one's.
        case failed(attempts: Int, error: String)
        /// Cancelled before it could run (again).
        case cancelled

        /// Whether the job has finished: succeeded, failed or cancelled.
        public var isFinished: Bool {
            switch self {
            case .succeeded, .failed, .cancelled: true
            case .pending, .running, .retrying: false
            }
        }

        /// `running(attempt: 1)`, `failed(attempts: 3, error: "timeout")`, …
        public var description: String {
            switch self {
            case .pending: "pending"
            case .running(let attempt): "running(attempt: \(attempt))"
            case .retrying(let attempt, let error, let delay):
                "retrying(attempt: \(attempt), error: \"\(error)\", after: \(delay))"
            case .succeeded(let attempts): "succeeded(attempts: \(attempts))"
            case .failed(let attempts, let error): "failed(attempts: \(attempts), error: \"\(error)\")"
            case .cancelled: "cancelled"
            }
        }
    }

    /// Why the queue refused a request.
    public enum JobQueueError: Error, Hashable, Sendable, CustomStringConvertible {
        /// ``Configuration/maxPendingJobs`` jobs are already waiting.
        case queueFull(limit: Int)
        /// The queue is draining: it takes no new job.
        case draining
        /// No such job (never submitted, or finished and forgotten: see ``Configuration/retainedFinishedJobs``).
        case unknownJob(JobID)
        /// Only pending and retrying jobs can be cancelled; the job is in `status`.
        case notCancellable(JobID, JobStatus)

        /// `queueFull(limit: 20)`, `unknownJob(#9)`, …
        public var description: String {
            switch self {
            case .queueFull(let limit): "queueFull(limit: \(limit))"
            case .draining: "draining"
            case .unknownJob(let id): "unknownJob(\(id))"
            case .notCancellable(let id, let status): "notCancellable(\(id), \(status))"
            }
        }
    }

    /// Requests, each with its typed reply.
    public enum Call: Sendable {
        /// Queues a job; answers its id.
        case submit(Job, Reply<Result<JobID, JobQueueError>>)
        /// A job's status.
        case status(JobID, Reply<Result<JobStatus, JobQueueError>>)
        /// Answers once the job has finished, with its final status (a deferred reply).
        case awaitCompletion(JobID, Reply<Result<JobStatus, JobQueueError>>)
        /// Cancels a pending or retrying job; answers its new status (``JobStatus/cancelled``).
        case cancel(JobID, Reply<Result<JobStatus, JobQueueError>>)
        /// Counts of jobs per status.
        case statistics(Reply<Statistics>)
    }

    /// Lifecycle commands.
    public enum Cast: Hashable, Sendable, CaseIterable {
        /// Stop starting jobs (→ ``State/paused``).
        case pause
        /// Start jobs again (→ ``State/running``).
        case resume
        /// Finish the running jobs, cancel the others, then stop (→ ``State/draining``).
        case drain
    }

    /// Messages the queue sends itself.
    public enum Info: Hashable, Sendable, CustomStringConvertible {
        /// Attempt `attempt` of a job ended: `failure` is `nil` on success, else the error's description.
        case jobFinished(JobID, attempt: Int, failure: String?)
        /// A job's backoff delay has passed: it may run again.
        case retryDue(JobID)

        /// `jobFinished(#2, attempt: 1, failure: "timeout")`, `retryDue(#2)`.
        public var description: String {
            switch self {
            case .jobFinished(let id, let attempt, nil): "jobFinished(\(id), attempt: \(attempt))"
            case .jobFinished(let id, let attempt, let failure?):
                "jobFinished(\(id), attempt: \(attempt), failure: \"\(failure)\")"
            case .retryDue(let id): "retryDue(\(id))"
            }
        }
    }

    /// Counts of jobs per status.
    public struct Statistics: Hashable, Sendable, CustomStringConvertible {
        /// Jobs waiting for a slot.
        public var pending = 0
        /// Jobs running now.
        public var running = 0
        /// Jobs waiting for their backoff delay.
        public var retrying = 0
        /// Jobs that succeeded.
        public var succeeded = 0
        /// Jobs that failed every allowed attempt.
        public var failed = 0
        /// Jobs cancelled.
        public var cancelled = 0
        /// Attempts after a failure (every attempt but each job's first).
        public var retries = 0

        /// Creates statistics.
        public init(
            pending: Int = 0, running: Int = 0, retrying: Int = 0, succeeded: Int = 0, failed: Int = 0,
            cancelled: Int = 0, retries: Int = 0
        ) {
            self.pending = pending
            self.running = running
            self.retrying = retrying
            self.succeeded = succeeded
            self.failed = failed
            self.cancelled = cancelled
            self.retries = retries
        }

        /// `1 pending, 2 running, 0 retrying, 5 succeeded, 1 failed, 0 cancelled, 3 retries`.
        public var description: String {
            "\(pending) pending, \(running) running, \(retrying) retrying, \(succeeded) succeeded, \(failed) failed, "
                + "\(cancelled) cancelled, \(retries) retr\(retries == 1 ? "y" : "ies")"
        }
    }

    /// How failed jobs are retried: attempt `n + 1` starts `initialDelay × multiplier^(n-1)` (at most `maxDelay`)
    /// after attempt `n` failed, until `maxAttempts` attempts have failed.
    public struct RetryPolicy: Hashable, Sendable {
        /// The most attempts per job, the first included (1: no retry).
        public var maxAttempts: Int
        /// The delay after the first failure.
        public var initialDelay: Duration
        /// How much each delay grows over the previous one.
        public var multiplier: Double
        /// The longest delay.
        public var maxDelay: Duration

        /// Creates a policy; the default makes 3 attempts, 1 s then 2 s apart, never more than 60 s apart.
        public init(
            maxAttempts: Int = 3, initialDelay: Duration = .seconds(1), multiplier: Double = 2,
            maxDelay: Duration = .seconds(60)
        ) {
            self.maxAttempts = maxAttempts
            self.initialDelay = initialDelay
            self.multiplier = multiplier
            self.maxDelay = maxDelay
        }

        /// No retries: a job that fails once has failed.
        public static let never = RetryPolicy(maxAttempts: 1)

        /// The backoff before attempt `attempt + 1`: `initialDelay × multiplier^(attempt-1)`, at most `maxDelay`.
        ///
        /// - Complexity: O(attempt).
        public func delay(afterAttempt attempt: Int) -> Duration {
            var delay = initialDelay
            for _ in 1..<max(1, attempt) {
                if delay >= maxDelay { break }
                delay = delay * multiplier
            }
            return min(delay, maxDelay)
        }
    }

    /// The queue's limits and retry policy.
    public struct Configuration: Hashable, Sendable {
        /// The most jobs running at once.
        public var maxConcurrentJobs: Int
        /// The most jobs waiting to start; `nil` for no limit. Submissions beyond it are refused.
        public var maxPendingJobs: Int?
        /// How failed jobs are retried.
        public var retry: RetryPolicy
        /// How many finished jobs are remembered for ``Call/status(_:_:)``; older ones are forgotten.
        public var retainedFinishedJobs: Int

        /// Creates a configuration; the default runs 4 jobs at once, queues any number, retries with the
        /// default ``RetryPolicy`` and remembers the last 1000 finished jobs.
        public init(
            maxConcurrentJobs: Int = 4, maxPendingJobs: Int? = nil, retry: RetryPolicy = RetryPolicy(),
            retainedFinishedJobs: Int = 1000
        ) {
            self.maxConcurrentJobs = maxConcurrentJobs
            self.maxPendingJobs = maxPendingJobs
            self.retry = retry
            self.retainedFinishedJobs = retainedFinishedJobs
        }

        /// Every retry delay divided by `factor` (for watching a queue in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            var fast = self
            fast.retry.initialDelay = retry.initialDelay / factor
            fast.retry.maxDelay = retry.maxDelay / factor
            return fast
        }

        /// Why the configuration can't run, or `nil` when it can.
        var problem: String? {
            let name = "JobQueue.Configuration"
            if maxConcurrentJobs < 1 { return "\(name).maxConcurrentJobs must be at least 1, got \(maxConcurrentJobs)" }
            if let maxPendingJobs, maxPendingJobs < 0 {
                return "\(name).maxPendingJobs must not be negative, got \(maxPendingJobs)"
            }
            if retry.maxAttempts < 1 { return "\(name).retry.maxAttempts must be at least 1, got \(retry.maxAttempts)" }
            if retry.initialDelay < .zero || retry.maxDelay < .zero {
                return "\(name).retry delays must not be negative"
            }
            if !(retry.multiplier >= 1) { return "\(name).retry.multiplier must be at least 1, got \(retry.multiplier)" }
            if retainedFinishedJobs < 0 {
                return "\(name).retainedFinishedJobs must not be negative, got \(retainedFinishedJobs)"
            }
            return nil
        }
    }

    /// The queue's data: every job it remembers, the pending queue, and counters.
    public struct Data: Sendable, CustomStringConvertible {
        /// The jobs the queue remembers, by id.
        var jobs: [JobID: Record] = [:]
        /// Jobs waiting for a slot, in submission (or retry) order.
        var pending = JobQueue.IDQueue()
        /// Finished jobs, oldest first, to forget the oldest beyond the retention.
        var finished = JobQueue.IDQueue()
        /// Jobs running now.
        public internal(set) var runningCount = 0
        /// The id of the next job submitted.
        var nextID = 1
        /// Counters for ``Statistics``.
        var succeeded = 0, failed = 0, cancelled = 0, retries = 0

        init() {}

        /// A job's status, or `nil` for a job the queue does not know.
        public func status(of id: JobQueue.JobID) -> JobQueue.JobStatus? { jobs[id]?.status }

        /// The counts of ``Statistics``: `1 pending, 2 running, …`.
        public var description: String { statistics.description }
    }

    /// The queue's limits and retry policy.
    public var configuration: Configuration

    /// Creates a queue with `configuration`.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Starts ``State/running`` and empty; fails with ``StateServerError/Code/invalidArgument`` for a
    /// configuration that can't run (no job slot, no attempt, a negative delay, a multiplier below 1).
    public func start() throws -> Start<Self> {
        if let problem = configuration.problem { return .error(StateServerError(.invalidArgument, problem)) }
        return try startTable(data: initialData())
    }

    /// An empty queue.
    public func initialData() -> Data { Data() }

    /// The table depends on the configuration (its guards and actions): one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }
}
