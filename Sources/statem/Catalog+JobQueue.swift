import Machines
import Synchronization

extension CatalogEntry {
    static let jobQueue = CatalogEntry.machine(
        name: "job-queue",
        summary: "2 jobs at a time, 3 attempts with backoff 1 s, 2 s; pause, resume, drain; jobs are simulated",
        words: [
            EventWord(
                usage: "submit [failures]",
                summary: "submit a simulated job that fails its first <failures> attempts (default 0) (a call)"
            ) { server, arguments in
                let failures = arguments.isEmpty
                    ? 0 : try EventWord<JobQueue>.integer(arguments, at: 0, for: "submit [failures]")
                let job = JobWords.SimulatedJob(failures: failures)
                return try await JobWords.ask(server) { .submit(job.run, $0) } format: { result in
                    switch result {
                    case .success(let id): "job \(id) submitted"
                    case .failure(let error): "refused: \(error)"
                    }
                }
            },
            JobWords.request("status <id>", "ask for a job's status (a call)") { .status($0, $1) },
            JobWords.request("wait <id>", "await a job's completion (a call, answered when it finishes)") {
                .awaitCompletion($0, $1)
            },
            JobWords.request("cancel <id>", "cancel a pending or retrying job (a call)") { .cancel($0, $1) },
            .call("stats", "ask for the counts of jobs per status (a call)") { .statistics($0) },
            .cast("pause", "stop starting jobs (running ones finish)", .pause),
            .cast("resume", "start jobs again", .resume),
            .cast("drain", "cancel waiting jobs, finish running ones, then stop", .drain),
        ],
        make: { speed in
            JobQueue(configuration: JobQueue.Configuration(
                maxConcurrentJobs: 2, maxPendingJobs: 20,
                retry: JobQueue.RetryPolicy(maxAttempts: 3, initialDelay: .seconds(1), multiplier: 2)
            ).speeded(up: speed))
        })
}

/// Helpers of the job queue's words.
enum JobWords {
    typealias Answer = Result<JobQueue.JobStatus, JobQueue.JobQueueError>

    /// A job for the command line: it does nothing but fail its first attempts. (Jobs are real async work even in
    /// virtual time, and the tool waits for effects after each line, so its jobs end at once.)
    struct SimulatedJob: Sendable {
        struct Failure: Error, CustomStringConvertible {
            var attempt: Int
            var description: String { "simulated failure of attempt \(attempt)" }
        }

        let failures: Int
        private let attempts = AttemptCounter()

        init(failures: Int) { self.failures = failures }

        var run: JobQueue.Job {
            { [failures, attempts] in
                let attempt = attempts.next()
                if attempt <= failures { throw Failure(attempt: attempt) }
            }
        }
    }

    /// Counts a simulated job's attempts.
    final class AttemptCounter: Sendable {
        private let count = Locked(0)

        func next() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    /// A word taking a job id (`3` or `#3`) that sends a request about that job.
    static func request(
        _ usage: String, _ summary: String,
        _ makeRequest: @escaping @Sendable (JobQueue.JobID, Reply<Answer>) -> JobQueue.Call
    ) -> EventWord<JobQueue> {
        EventWord(usage: usage, summary: summary) { server, arguments in
            guard arguments.count == 1, let number = Int(arguments[0].drop(while: { $0 == "#" })) else {
                throw UsageError("'\(firstWord(of: usage))' needs a job id, such as 1", help: "usage: \(usage)")
            }
            let id = JobQueue.JobID(number)
            return try await ask(server) { makeRequest(id, $0) } format: { result in
                switch result {
                case .success(let status): "job \(id): \(status)"
                case .failure(let error): "refused: \(error)"
                }
            }
        }
    }

    /// Sends a call and formats its reply. A deferred reply (awaiting a job still running or retrying) is not
    /// waited for: the trace shows it when the job finishes.
    static func ask<Value: Sendable>(
        _ server: Server<JobQueue>, _ makeRequest: @escaping @Sendable (Reply<Value>) -> JobQueue.Call,
        format: (Value) -> String
    ) async throws -> String {
        let reply = server.request(timeout: nil, makeRequest)
        await awaitBriefly(reply, on: server.runtime)
        switch reply.result {
        case .success(let value)?: return format(value)
        case .failure(let error)?: throw error
        case nil: return "no reply yet: the queue answers when the job finishes (the trace shows it)"
        }
    }

    /// Waits a moment for a reply in real time, where the server answers on another thread.
}
