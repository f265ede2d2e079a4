extension JobQueue {
    /// The queue's transition table (drawn in `Docs/Machines/JobQueue.md`).
    @TransitionTableBuilder<Self> public var table: TransitionTable<Self> {
        let configuration = self.configuration
        When(.running) {
            On(call: "submit", match: Self.submit)
                .guard("hasRoom") { data, _ in data.hasRoom(startingJobs: true, configuration) }
                .action("enqueue") { data, request in data.enqueue(request.job, reply: request.reply) }
                .action("startJobs") { data, _ in data.startJobs(configuration) }
            On(call: "submit", match: Self.submit, reply: { _, _ in .failure(configuration.queueFull) })
            On(info: "jobFinished", match: Self.jobFinished)
                .action("record") { data, outcome in data.record(outcome, configuration, mayRetry: true) }
                .action("startJobs") { data, _ in data.startJobs(configuration) }
            On(info: "retryDue", match: Self.retryDue)
                .action("requeue") { data, id in data.requeue(id) }
                .action("startJobs") { data, _ in data.startJobs(configuration) }
            On(cast: .pause, goto: .paused)
            On(cast: .drain, goto: .draining)
                .guard("isBusy") { data in data.runningCount > 0 }
                .action("cancelWaiting") { data in data.cancelWaitingJobs(configuration) }
            On(cast: .drain)
                .action("cancelWaiting") { data in data.cancelWaitingJobs(configuration) }
                .stop()
        }
        .onEnter("startJobs") { data in data.startJobs(configuration) }
        When(.paused) {
            On(call: "submit", match: Self.submit)
                .guard("hasRoom") { data, _ in data.hasRoom(startingJobs: false, configuration) }
                .action("enqueue") { data, request in data.enqueue(request.job, reply: request.reply) }
            On(call: "submit", match: Self.submit, reply: { _, _ in .failure(configuration.queueFull) })
            On(info: "jobFinished", match: Self.jobFinished)
                .action("record") { data, outcome in data.record(outcome, configuration, mayRetry: true) }
            On(info: "retryDue", match: Self.retryDue)
                .action("requeue") { data, id in data.requeue(id) }
            On(cast: .resume, goto: .running)
            On(cast: .drain, goto: .draining)
                .guard("isBusy") { data in data.runningCount > 0 }
                .action("cancelWaiting") { data in data.cancelWaitingJobs(configuration) }
            On(cast: .drain)
                .action("cancelWaiting") { data in data.cancelWaitingJobs(configuration) }
                .stop()
        }
        When(.draining) {
            On(call: "submit", match: Self.submit, reply: { _, _ in .failure(.draining) })
            On(info: "jobFinished", match: Self.jobFinished)
                .guard("isLast") { data, _ in data.runningCount == 1 }
                .action("record") { data, outcome in data.record(outcome, configuration, mayRetry: false) }
                .stop()
            On(info: "jobFinished", match: Self.jobFinished)
                .action("record") { data, outcome in data.record(outcome, configuration, mayRetry: false) }
        }
        Always {
            On(call: "status", match: Self.status, reply: { data, id in data.status(id) })
            On(call: "awaitCompletion", match: Self.awaitCompletion)
                .action("awaitCompletion") { data, request in data.awaitCompletion(of: request.id, reply: request.reply) }
            On(call: "cancel", match: Self.cancel)
                .action("cancel") { data, request in data.cancel(request.id, reply: request.reply, configuration) }
            On(call: "statistics", match: Self.statistics, reply: { data in data.statistics })
        }
    }

    // MARK: Matchers: a message's arguments (and reply handle), or nil for any other.

    static let submit: @Sendable (Call) -> (job: Job, reply: Reply<Result<JobID, JobQueueError>>)? = {
        if case .submit(let job, let reply) = $0 { (job, reply) } else { nil }
    }
    static let status: @Sendable (Call) -> (id: JobID, reply: Reply<Result<JobStatus, JobQueueError>>)? = {
        if case .status(let id, let reply) = $0 { (id, reply) } else { nil }
    }
    static let awaitCompletion: @Sendable (Call) -> (id: JobID, reply: Reply<Result<JobStatus, JobQueueError>>)? = {
        if case .awaitCompletion(let id, let reply) = $0 { (id, reply) } else { nil }
    }
    static let cancel: @Sendable (Call) -> (id: JobID, reply: Reply<Result<JobStatus, JobQueueError>>)? = {
        if case .cancel(let id, let reply) = $0 { (id, reply) } else { nil }
    }
    static let statistics: @Sendable (Call) -> Reply<Statistics>? = {
        if case .statistics(let reply) = $0 { reply } else { nil }
    }
    static let jobFinished: @Sendable (Info) -> (id: JobID, attempt: Int, failure: String?)? = {
        if case .jobFinished(let id, let attempt, let failure) = $0 { (id, attempt, failure) } else { nil }
    }
    static let retryDue: @Sendable (Info) -> JobID? = { if case .retryDue(let id) = $0 { id } else { nil } }
}

extension JobQueue.Configuration {
    /// The refusal of a submission beyond ``maxPendingJobs``.
    var queueFull: JobQueue.JobQueueError { .queueFull(limit: maxPendingJobs ?? 0) }
}
