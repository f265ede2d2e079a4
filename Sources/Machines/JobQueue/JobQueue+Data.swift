extension JobQueue {
    /// What the queue remembers about one job.
    struct Record: Sendable {
        /// The work; released once the job has finished.
        var job: Job?
        var status: JobStatus = .pending
        /// Attempts started so far.
        var attempts = 0
        /// The delayed ``Info/retryDue(_:)`` message while the job waits to retry.
        var retry: SelfMessageReference?
        /// Callers of ``Call/awaitCompletion(_:_:)``, answered when the job finishes.
        var awaiting: [Reply<Result<JobStatus, JobQueueError>>] = []
    }

    /// Job ids, first in first out, with removal from the middle for cancellation.
    struct IDQueue: Sendable {
        private var items: [JobID] = []
        private var head = 0

        var count: Int { items.count - head }
        var isEmpty: Bool { head == items.count }
        /// The ids in order.
        var elements: ArraySlice<JobID> { items[head...] }

        mutating func append(_ id: JobID) { items.append(id) }

        /// Removes and returns the first id.
        ///
        /// - Complexity: amortized O(1).
        mutating func popFirst() -> JobID? {
            guard head < items.count else { return nil }
            defer {
                head += 1
                if head >= 32 && head * 2 >= items.count {
                    items.removeFirst(head)
                    head = 0
                }
            }
            return items[head]
        }

        /// Removes `id`; returns whether it was there.
        ///
        /// - Complexity: O(n).
        mutating func remove(_ id: JobID) -> Bool {
            guard let index = items[head...].firstIndex(of: id) else { return false }
            items.remove(at: index)
            return true
        }
    }
}

extension JobQueue.Data {
    typealias Queue = JobQueue
    typealias JobID = JobQueue.JobID
    typealias JobStatus = JobQueue.JobStatus
    typealias Answer = Result<JobQueue.JobStatus, JobQueue.JobQueueError>

    // MARK: Submitting and starting

    /// Whether a new job fits under ``JobQueue/Configuration/maxPendingJobs``; when the queue is starting jobs, a
    /// job that can start at once does not wait.
    func hasRoom(startingJobs: Bool, _ configuration: Queue.Configuration) -> Bool {
        guard let limit = configuration.maxPendingJobs else { return true }
        let freeSlots = startingJobs ? max(0, configuration.maxConcurrentJobs - runningCount) : 0
        return pending.count + 1 - freeSlots <= limit
    }

    /// Queues `job` and answers its id.
    mutating func enqueue(_ job: @escaping Queue.Job, reply: Reply<Result<JobID, Queue.JobQueueError>>) -> [Action<Queue>] {
        let id = JobID(nextID)
        nextID += 1
        jobs[id] = Queue.Record(job: job)
        pending.append(id)
        return [.reply(reply, .success(id))]
    }

    /// Starts pending jobs while fewer than the maximum run: each attempt is an effect, off the server, whose
    /// outcome comes back as ``JobQueue/Info/jobFinished(_:attempt:failure:)``.
    mutating func startJobs(_ configuration: Queue.Configuration) -> [Action<Queue>] {
        var effects: [Action<Queue>] = []
        while runningCount < configuration.maxConcurrentJobs, let id = pending.popFirst() {
            guard var record = jobs[id], let job = record.job else { continue }
            record.attempts += 1
            record.status = .running(attempt: record.attempts)
            jobs[id] = record
            runningCount += 1
            let attempt = record.attempts
            effects.append(.run { try await job() } then: { result in
                switch result {
                case .success: .jobFinished(id, attempt: attempt, failure: nil)
                case .failure(let error): .jobFinished(id, attempt: attempt, failure: "\(error)")
                }
            })
        }
        return effects
    }

    // MARK: Outcomes

    /// Records an attempt's outcome: success, a retry after the backoff delay (when `mayRetry` and attempts are
    /// left), or failure. Answers the callers awaiting a job that finished.
    mutating func record(
        _ outcome: (id: JobID, attempt: Int, failure: String?), _ configuration: Queue.Configuration, mayRetry: Bool
    ) -> [Action<Queue>] {
        runningCount -= 1
        guard var record = jobs[outcome.id] else { return [] }
        guard let failure = outcome.failure else {
            succeeded += 1
            return finish(outcome.id, .succeeded(attempts: outcome.attempt), configuration)
        }
        guard mayRetry, outcome.attempt < configuration.retry.maxAttempts else {
            failed += 1
            return finish(outcome.id, .failed(attempts: outcome.attempt, error: failure), configuration)
        }
        let delay = configuration.retry.delay(afterAttempt: outcome.attempt)
        let reference = SelfMessageReference()
        record.status = .retrying(attempt: outcome.attempt, error: failure, after: delay)
        record.retry = reference
        jobs[outcome.id] = record
        return [.send(.retryDue(outcome.id), after: delay, reference: reference)]
    }

    /// A retrying job's delay has passed: it queues again (a job cancelled meanwhile stays cancelled).
    mutating func requeue(_ id: JobID) {
        guard var record = jobs[id], case .retrying = record.status else { return }
        record.status = .pending
        record.retry = nil
        jobs[id] = record
        pending.append(id)
        retries += 1
    }

    /// Gives the job its final status, answers its awaiting callers, and forgets the oldest finished jobs beyond
    /// the retention.
    private mutating func finish(
        _ id: JobID, _ status: JobStatus, _ configuration: Queue.Configuration
    ) -> [Action<Queue>] {
        guard var record = jobs[id] else { return [] }
        let replies = record.awaiting.map { Action<Queue>.reply($0, .success(status)) }
        record.status = status
        record.job = nil
        record.retry = nil
        record.awaiting = []
        jobs[id] = record
        finished.append(id)
        while finished.count > configuration.retainedFinishedJobs, let oldest = finished.popFirst() {
            jobs[oldest] = nil
        }
        return replies
    }

    // MARK: Requests

    /// A job's status, or why there is none.
    func status(_ id: JobID) -> Answer {
        guard let status = jobs[id]?.status else { return .failure(.unknownJob(id)) }
        return .success(status)
    }

    /// Answers now if the job has finished (or is unknown), else keeps the caller until it finishes.
    mutating func awaitCompletion(of id: JobID, reply: Reply<Answer>) -> [Action<Queue>] {
        guard let status = jobs[id]?.status else { return [.reply(reply, .failure(.unknownJob(id)))] }
        if status.isFinished { return [.reply(reply, .success(status))] }
        jobs[id]?.awaiting.append(reply)
        return []
    }

    /// Cancels a pending or retrying job (answering its awaiting callers), or says why it can't.
    mutating func cancel(_ id: JobID, reply: Reply<Answer>, _ configuration: Queue.Configuration) -> [Action<Queue>] {
        guard let record = jobs[id] else { return [.reply(reply, .failure(.unknownJob(id)))] }
        switch record.status {
        case .pending, .retrying:
            return cancelWaiting(id, configuration) + [.reply(reply, .success(.cancelled))]
        case .running, .succeeded, .failed, .cancelled:
            return [.reply(reply, .failure(.notCancellable(id, record.status)))]
        }
    }

    /// Draining: cancels every pending job (in queue order), then every retrying job (in submission order).
    mutating func cancelWaitingJobs(_ configuration: Queue.Configuration) -> [Action<Queue>] {
        let retrying = jobs.filter { if case .retrying = $0.value.status { true } else { false } }.keys.sorted()
        return (Array(pending.elements) + retrying).flatMap { cancelWaiting($0, configuration) }
    }

    /// Cancels one pending or retrying job.
    private mutating func cancelWaiting(_ id: JobID, _ configuration: Queue.Configuration) -> [Action<Queue>] {
        let reference = jobs[id]?.retry
        _ = pending.remove(id)
        cancelled += 1
        let cancelRetry: [Action<Queue>] = reference.map { [.cancelSend($0)] } ?? []
        return cancelRetry + finish(id, .cancelled, configuration)
    }

    /// Counts of jobs per status.
    var statistics: Queue.Statistics {
        let retrying = jobs.values.count { if case .retrying = $0.status { true } else { false } }
        return Queue.Statistics(
            pending: pending.count, running: runningCount, retrying: retrying, succeeded: succeeded, failed: failed,
            cancelled: cancelled, retries: retries)
    }
}
