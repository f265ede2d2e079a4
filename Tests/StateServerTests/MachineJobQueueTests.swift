import Machines
import StateServerTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Every row of JobQueue's table (Sources/Machines/JobQueue/JobQueue+Table.swift), retries and their backoff,
// configuration variants, and the guide Docs/Machines/JobQueue.md kept true.
//
// Jobs are real async work even in virtual time, so they are made deterministic: a `TestJob` attempt ends when the
// test says so (or at once, with an outcome planned in advance). The test then waits for the outcome to be
// handled: `await runtime.waitForEffects()` when no other attempt is still blocked, or the deferred reply of
// `awaitCompletion` otherwise. No sleeps.

private typealias Queue = JobQueue
private typealias JobID = JobQueue.JobID

/// A job whose attempts end when the test decides: each attempt takes the next planned outcome, or waits for
/// `succeed()` / `fail(_:)`. A cancelled attempt (the queue stopped) ends with `CancellationError`.
private final class TestJob: Sendable {
    enum Outcome: Sendable {
        case success, failure(String), cancelled
    }

    private struct State {
        var planned: [Outcome] = []
        var waiting: CheckedContinuation<Outcome, Never>?
        var attempts = 0
        var isCancelled = false
    }

    private let state = Locked(State())

    /// A job whose first attempts end at once with `planned`, in order; later attempts wait for the test.
    init(_ planned: Outcome...) { state.withLock { $0.planned = planned } }

    /// The work to submit.
    var job: Queue.Job { { try await self.attempt() } }

    /// Attempts started so far.
    var attempts: Int { state.withLock { $0.attempts } }

    /// Whether an attempt saw its task cancelled.
    var wasCancelled: Bool { state.withLock { $0.isCancelled } }

    /// Ends the waiting attempt (or the next one) successfully.
    func succeed() { resolve(.success) }

    /// Ends the waiting attempt (or the next one) with an error described as `message`.
    func fail(_ message: String) { resolve(.failure(message)) }

    private func resolve(_ outcome: Outcome) {
        let waiter = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard let waiter = state.waiting else {
                state.planned.append(outcome)
                return nil
            }
            state.waiting = nil
            return waiter
        }
        waiter?.resume(returning: outcome)
    }

    private func attempt() async throws {
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let ready = state.withLock { state -> Outcome? in
                    state.attempts += 1
                    if state.isCancelled { return .cancelled }
                    if !state.planned.isEmpty { return state.planned.removeFirst() }
                    state.waiting = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
                state.isCancelled = true
                defer { state.waiting = nil }
                return state.waiting
            }
            waiter?.resume(returning: .cancelled)
        }
        switch outcome {
        case .success: return
        case .failure(let message): throw TestJobError(message: message)
        case .cancelled: throw CancellationError()
        }
    }
}

private struct TestJobError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The guide's flaky storage: the first upload fails.
private actor FlakyStorage {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "storage unavailable" }
    }

    private var failuresLeft = 1

    func upload(_ name: String) throws {
        if failuresLeft > 0 {
            failuresLeft -= 1
            throw Unavailable()
        }
    }
}

/// Two slots, one pending job at most, three attempts 1 s then 2 s apart.
private let testConfiguration = Queue.Configuration(
    maxConcurrentJobs: 2, maxPendingJobs: 1,
    retry: Queue.RetryPolicy(maxAttempts: 3, initialDelay: .seconds(1), multiplier: 2, maxDelay: .seconds(60)))

@Suite struct MachineJobQueueTests {
    // MARK: Helpers

    private func queue(_ configuration: Queue.Configuration = testConfiguration) throws -> MachineTester<Queue> {
        try MachineTester(Queue(configuration: configuration), exhaustive: false)
    }

    /// Submits `job`; returns its id, or records why it was refused.
    private func submit(
        _ job: TestJob, to tester: MachineTester<Queue>, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JobID {
        let reply = tester.call { .submit(job.job, $0) }
        return try #require(try reply.result?.get().get(), sourceLocation: sourceLocation)
    }

    private func status(_ id: JobID, in tester: MachineTester<Queue>) throws -> Result<Queue.JobStatus, Queue.JobQueueError>? {
        try tester.call { .status(id, $0) }.result?.get()
    }

    private func statistics(_ tester: MachineTester<Queue>) throws -> Queue.Statistics? {
        try tester.call { .statistics($0) }.result?.get()
    }

    /// Waits until the job has finished (its outcome handled), while other attempts may still be blocked.
    private func completion(
        of id: JobID, in tester: MachineTester<Queue>
    ) async throws -> Result<Queue.JobStatus, Queue.JobQueueError> {
        let finished = try await tester.call { .awaitCompletion(id, $0) }.value()
        tester.advance(by: .zero)                                       // let the outcome's handling finish
        return finished
    }

    // MARK: The table

    @Test func tableIsValid() {
        let report = Queue(configuration: testConfiguration).validateTable()
        #expect(report.isValid, "\(report)")
        #expect(Queue().validateTable().isValid)
        #expect(Queue().table.initialState == .running)
    }

    // MARK: running

    @Test func submittedJobStartsAtOnceWhenASlotIsFree() async throws {
        let tester = try queue()
        let job = TestJob()
        let id = try submit(job, to: tester)
        #expect(id == JobID(1))
        #expect(try status(id, in: tester) == .success(.running(attempt: 1)))
        job.succeed()
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.succeeded(attempts: 1)))
        #expect(job.attempts == 1)
        tester.finish()
    }

    @Test func jobsBeyondTheSlotsWaitAndStartInOrderAsSlotsFree() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 2))
        let jobs = [TestJob(), TestJob(), TestJob(), TestJob()]
        let ids = try jobs.map { try submit($0, to: tester) }
        #expect(ids == [1, 2, 3, 4].map(JobID.init))
        #expect(try ids.map { try status($0, in: tester) } == [
            .success(.running(attempt: 1)), .success(.running(attempt: 1)), .success(.pending), .success(.pending),
        ])
        jobs[1].succeed()                                               // the second ends first: the third starts
        #expect(try await completion(of: ids[1], in: tester) == .success(.succeeded(attempts: 1)))
        #expect(try status(ids[2], in: tester) == .success(.running(attempt: 1)))
        #expect(try status(ids[3], in: tester) == .success(.pending))
        jobs[0].fail("boom")                                            // a failure frees its slot too
        for job in jobs[2...] { job.succeed() }
        jobs[0].succeed()                                               // its retry, 1 s later
        await tester.runtime.waitForEffects()
        tester.advance(by: .seconds(1))
        await tester.runtime.waitForEffects()
        #expect(try ids.map { try status($0, in: tester) } == [
            .success(.succeeded(attempts: 2)), .success(.succeeded(attempts: 1)), .success(.succeeded(attempts: 1)),
            .success(.succeeded(attempts: 1)),
        ])
        tester.finish()
    }

    @Test func submissionBeyondThePendingLimitIsRefused() throws {
        let tester = try queue()                                        // 2 slots, 1 pending
        let jobs = [TestJob(), TestJob(), TestJob()]
        for job in jobs { _ = try submit(job, to: tester) }
        let refused = tester.call { .submit(TestJob().job, $0) }
        #expect(try refused.result?.get() == .failure(.queueFull(limit: 1)))
        #expect(try statistics(tester) == Queue.Statistics(pending: 1, running: 2))
        for job in jobs { job.succeed() }
        tester.finish()
    }

    @Test func zeroPendingLimitStillTakesJobsThatStartAtOnce() throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1, maxPendingJobs: 0))
        let job = TestJob()
        _ = try submit(job, to: tester)
        let refused = tester.call { .submit(TestJob().job, $0) }
        #expect(try refused.result?.get() == .failure(.queueFull(limit: 0)))
        job.succeed()
        tester.finish()
    }

    @Test func failedAttemptIsRetriedAfterExponentialBackoff() async throws {
        let tester = try queue()
        let job = TestJob(.failure("timeout"), .failure("reset"), .success)
        let id = try submit(job, to: tester)
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.retrying(attempt: 1, error: "timeout", after: .seconds(1))))
        tester.advance(by: .milliseconds(999))
        #expect(job.attempts == 1)
        tester.advance(by: .milliseconds(1))                            // 1 s: the second attempt
        await tester.runtime.waitForEffects()
        #expect(job.attempts == 2)
        #expect(try status(id, in: tester) == .success(.retrying(attempt: 2, error: "reset", after: .seconds(2))))
        tester.advance(by: .milliseconds(1999))
        #expect(job.attempts == 2)
        tester.advance(by: .milliseconds(1))                            // 2 s more: the third
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.succeeded(attempts: 3)))
        #expect(try statistics(tester) == Queue.Statistics(succeeded: 1, retries: 2))
        tester.finish()
    }

    @Test func jobFailingEveryAttemptFailsWithTheLastError() async throws {
        let tester = try queue()
        let job = TestJob(.failure("one"), .failure("two"), .failure("three"))
        let id = try submit(job, to: tester)
        let finished = tester.call(timeout: nil) { .awaitCompletion(id, $0) }
        await tester.runtime.waitForEffects()
        tester.advance(by: .seconds(1))
        await tester.runtime.waitForEffects()
        tester.advance(by: .seconds(2))
        await tester.runtime.waitForEffects()
        #expect(try await finished.value() == .success(.failed(attempts: 3, error: "three")))
        #expect(try status(id, in: tester) == .success(.failed(attempts: 3, error: "three")))
        #expect(try statistics(tester) == Queue.Statistics(failed: 1, retries: 2))
        tester.advance(by: .seconds(3600))
        #expect(job.attempts == 3)
        tester.finish()
    }

    @Test func retryWaitsForAFreeSlot() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1))
        let flaky = TestJob(.failure("busy"))
        let long = TestJob()
        let flakyID = try submit(flaky, to: tester)
        await tester.runtime.waitForEffects()
        let longID = try submit(long, to: tester)                      // takes the slot during the backoff
        tester.advance(by: .seconds(1))                                 // retry due: queued behind nothing, no slot
        #expect(try status(flakyID, in: tester) == .success(.pending))
        long.succeed()
        #expect(try await completion(of: longID, in: tester) == .success(.succeeded(attempts: 1)))
        #expect(try status(flakyID, in: tester) == .success(.running(attempt: 2)))
        flaky.succeed()
        await tester.runtime.waitForEffects()
        #expect(try status(flakyID, in: tester) == .success(.succeeded(attempts: 2)))
        tester.finish()
    }

    @Test func pauseStopsStartingJobs() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1))
        let first = TestJob()
        let second = TestJob()
        let firstID = try submit(first, to: tester)
        try tester.cast(.pause)
        tester.expectTransition(from: .running, to: .paused)
        let secondID = try submit(second, to: tester)
        first.succeed()                                                 // a running job finishes while paused
        await tester.runtime.waitForEffects()
        #expect(try status(firstID, in: tester) == .success(.succeeded(attempts: 1)))
        #expect(try status(secondID, in: tester) == .success(.pending))
        #expect(second.attempts == 0)
        try tester.cast(.resume)
        tester.expectTransition(from: .paused, to: .running)
        #expect(try status(secondID, in: tester) == .success(.running(attempt: 1)))
        second.succeed()
        await tester.runtime.waitForEffects()
        #expect(try status(secondID, in: tester) == .success(.succeeded(attempts: 1)))
        tester.finish()
    }

    @Test func drainingWhileJobsRunCancelsTheWaitingOnesAndStopsAfterTheLast() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1))
        let retrying = TestJob(.failure("flaky"))
        let retryingID = try submit(retrying, to: tester)
        await tester.runtime.waitForEffects()                           // retrying, 1 s backoff
        let running = TestJob()
        let runningID = try submit(running, to: tester)
        let pendingID = try submit(TestJob(), to: tester)
        let awaitingPending = tester.call(timeout: nil) { .awaitCompletion(pendingID, $0) }
        let awaitingRunning = tester.call(timeout: nil) { .awaitCompletion(runningID, $0) }

        try tester.cast(.drain)
        tester.expectTransition(from: .running, to: .draining)
        #expect(try awaitingPending.result?.get() == .success(.cancelled))
        #expect(try status(retryingID, in: tester) == .success(.cancelled))
        #expect(try status(runningID, in: tester) == .success(.running(attempt: 1)))
        let refused = tester.call { .submit(TestJob().job, $0) }
        #expect(try refused.result?.get() == .failure(.draining))
        tester.advance(by: .seconds(5))                                 // the cancelled retry never comes
        #expect(retrying.attempts == 1)

        running.succeed()
        await tester.runtime.waitForEffects()
        #expect(try await awaitingRunning.value() == .success(.succeeded(attempts: 1)))
        tester.expectExit(.normal)
        #expect(try await tester.server.waitForExit().isNormal)
        tester.finish()
    }

    @Test func drainingWithNothingRunningStopsAtOnce() async throws {
        let tester = try queue()
        let retryingID = try submit(TestJob(.failure("flaky")), to: tester)
        await tester.runtime.waitForEffects()
        let awaiting = tester.call(timeout: nil) { .awaitCompletion(retryingID, $0) }
        try tester.cast(.drain)
        #expect(try awaiting.result?.get() == .success(.cancelled))     // answered before the server ends
        tester.expectExit(.normal)
        #expect(try await tester.server.waitForExit().isNormal)
        tester.finish()
    }

    @Test func lifecycleCommandsThatDoNotApplyAreIgnored() async throws {
        let tester = try MachineTester(Queue(configuration: testConfiguration))   // exhaustive: no step at all
        let job = TestJob()
        let id = try submit(job, to: tester)
        tester.expectReply(Result<JobID, Queue.JobQueueError>.success(id))
        try tester.cast(.resume)                                        // already running
        try tester.cast(.pause)
        tester.expectTransition(from: .running, to: .paused)
        try tester.cast(.pause)                                         // already paused
        try tester.cast(.drain)
        tester.expectTransition(from: .paused, to: .draining)
        for command in Queue.Cast.allCases { try tester.cast(command) } // draining: nothing to do
        tester.expectState(.draining)
        tester.expectNoMoreSteps()
        job.succeed()
        await tester.runtime.waitForEffects()
        tester.expectExit(.normal)
        tester.finish()
    }

    // MARK: paused

    @Test func pausedQueueRefusesSubmissionsBeyondThePendingLimit() throws {
        let tester = try queue()
        try tester.cast(.pause)
        _ = try submit(TestJob(), to: tester)
        let refused = tester.call { .submit(TestJob().job, $0) }
        #expect(try refused.result?.get() == .failure(.queueFull(limit: 1)))
        #expect(try statistics(tester) == Queue.Statistics(pending: 1))
        tester.finish()
    }

    @Test func retryDueWhilePausedQueuesTheJobUntilResumed() async throws {
        let tester = try queue()
        let job = TestJob(.failure("flaky"), .success)
        let id = try submit(job, to: tester)
        await tester.runtime.waitForEffects()
        try tester.cast(.pause)
        tester.advance(by: .seconds(1))
        #expect(try status(id, in: tester) == .success(.pending))
        #expect(job.attempts == 1)
        try tester.cast(.resume)
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.succeeded(attempts: 2)))
        tester.finish()
    }

    @Test func failureWhilePausedSchedulesARetry() async throws {
        let tester = try queue()
        let job = TestJob()
        let id = try submit(job, to: tester)
        try tester.cast(.pause)
        job.fail("lost")
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.retrying(attempt: 1, error: "lost", after: .seconds(1))))
        tester.finish()
    }

    @Test func drainingAPausedQueueWithARunningJobWaitsForIt() async throws {
        let tester = try queue()
        let running = TestJob()
        let runningID = try submit(running, to: tester)
        let otherID = try submit(TestJob(), to: tester)                 // second slot: runs too
        try tester.cast(.pause)
        try tester.cast(.drain)
        tester.expectTransition(from: .paused, to: .draining)
        #expect(try status(otherID, in: tester) == .success(.running(attempt: 1)))
        #expect(try status(runningID, in: tester) == .success(.running(attempt: 1)))
        tester.finish()
    }

    @Test func drainingAPausedQueueWithNothingRunningCancelsThePendingJobsAndStops() async throws {
        let tester = try queue()
        try tester.cast(.pause)
        let id = try submit(TestJob(), to: tester)
        let awaiting = tester.call(timeout: nil) { .awaitCompletion(id, $0) }
        try tester.cast(.drain)
        #expect(try awaiting.result?.get() == .success(.cancelled))
        tester.expectExit(.normal)
        tester.finish()
    }

    // MARK: draining

    @Test func failureWhileDrainingIsFinalAndTheLastJobStopsTheQueue() async throws {
        let tester = try queue()
        let first = TestJob()
        let second = TestJob()
        let firstID = try submit(first, to: tester)
        _ = try submit(second, to: tester)
        try tester.cast(.drain)
        first.fail("interrupted")                                       // not the last: recorded, no retry
        #expect(try await completion(of: firstID, in: tester) == .success(.failed(attempts: 1, error: "interrupted")))
        tester.expectState(.draining)
        second.succeed()                                                // the last: the queue stops
        await tester.runtime.waitForEffects()
        tester.expectExit(.normal)
        #expect(tester.server.exitReason?.isNormal == true)
        tester.finish()
    }

    // MARK: Always: status, awaitCompletion, cancel, statistics

    @Test func unknownJobsAreReportedAsSuch() throws {
        let tester = try queue()
        let unknown = JobID(42)
        #expect(try status(unknown, in: tester) == .failure(.unknownJob(unknown)))
        #expect(try tester.call { .awaitCompletion(unknown, $0) }.result?.get() == .failure(.unknownJob(unknown)))
        #expect(try tester.call { .cancel(unknown, $0) }.result?.get() == .failure(.unknownJob(unknown)))
        tester.finish()
    }

    @Test func awaitCompletionOfAFinishedJobIsAnsweredAtOnce() async throws {
        let tester = try queue()
        let id = try submit(TestJob(.success), to: tester)
        await tester.runtime.waitForEffects()
        #expect(try tester.call { .awaitCompletion(id, $0) }.result?.get() == .success(.succeeded(attempts: 1)))
        tester.finish()
    }

    @Test func awaitCompletionIsDeferredUntilTheJobFinishes() async throws {
        let tester = try queue()
        let job = TestJob()
        let id = try submit(job, to: tester)
        let first = tester.call(timeout: nil) { .awaitCompletion(id, $0) }
        let second = tester.call(timeout: nil) { .awaitCompletion(id, $0) }
        #expect(!first.isResolved && !second.isResolved)
        job.succeed()
        await tester.runtime.waitForEffects()
        #expect(try first.result?.get() == .success(.succeeded(attempts: 1)))
        #expect(try second.result?.get() == .success(.succeeded(attempts: 1)))
        tester.finish()
    }

    @Test func cancellingAPendingJobAnswersItsAwaitingCallers() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1))
        let running = TestJob()
        _ = try submit(running, to: tester)
        let pending = TestJob()
        let id = try submit(pending, to: tester)
        let awaiting = tester.call(timeout: nil) { .awaitCompletion(id, $0) }
        #expect(try tester.call { .cancel(id, $0) }.result?.get() == .success(.cancelled))
        #expect(try awaiting.result?.get() == .success(.cancelled))
        running.succeed()
        await tester.runtime.waitForEffects()
        #expect(pending.attempts == 0)                                  // never started
        #expect(try statistics(tester) == Queue.Statistics(succeeded: 1, cancelled: 1))
        tester.finish()
    }

    @Test func cancellingARetryingJobCancelsItsRetry() async throws {
        let tester = try queue()
        let job = TestJob(.failure("flaky"))
        let id = try submit(job, to: tester)
        await tester.runtime.waitForEffects()
        #expect(try tester.call { .cancel(id, $0) }.result?.get() == .success(.cancelled))
        tester.advance(by: .seconds(10))
        #expect(job.attempts == 1)
        #expect(try status(id, in: tester) == .success(.cancelled))
        tester.finish()
    }

    @Test func runningAndFinishedJobsCannotBeCancelled() async throws {
        let tester = try queue()
        let running = TestJob()
        let runningID = try submit(running, to: tester)
        #expect(try tester.call { .cancel(runningID, $0) }.result?.get()
            == .failure(.notCancellable(runningID, .running(attempt: 1))))
        running.succeed()
        await tester.runtime.waitForEffects()
        #expect(try tester.call { .cancel(runningID, $0) }.result?.get()
            == .failure(.notCancellable(runningID, .succeeded(attempts: 1))))
        tester.finish()
    }

    @Test(arguments: Queue.State.allCases)
    func statusAndStatisticsAreAnsweredInEveryState(_ state: JobQueue.State) async throws {
        let tester = try queue()
        let job = TestJob()
        let id = try submit(job, to: tester)
        if state == .paused { try tester.cast(.pause) }
        if state == .draining { try tester.cast(.drain) }
        tester.expectState(state)
        #expect(try status(id, in: tester) == .success(.running(attempt: 1)))
        #expect(try statistics(tester) == Queue.Statistics(running: 1))
        job.succeed()
        await tester.runtime.waitForEffects()
        tester.finish()
    }

    // MARK: Lifetime of jobs

    @Test func finishedJobsBeyondTheRetentionAreForgotten() async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: 1, retainedFinishedJobs: 2))
        let ids = try (0..<3).map { _ in try submit(TestJob(.success), to: tester) }
        await tester.runtime.waitForEffects()
        #expect(try status(ids[0], in: tester) == .failure(.unknownJob(ids[0])))
        #expect(try status(ids[1], in: tester) == .success(.succeeded(attempts: 1)))
        #expect(try status(ids[2], in: tester) == .success(.succeeded(attempts: 1)))
        tester.finish()
    }

    @Test func stoppingTheQueueCancelsRunningJobs() async throws {
        let tester = try queue()
        let job = TestJob()
        _ = try submit(job, to: tester)
        try await tester.server.stop()
        await tester.runtime.waitForEffects()
        #expect(job.wasCancelled)
        tester.finish()
    }

    // MARK: Configuration

    @Test func backoffGrowsByTheMultiplierUpToTheMaximum() {
        let policy = Queue.RetryPolicy(maxAttempts: 10, initialDelay: .milliseconds(500), multiplier: 3, maxDelay: .seconds(10))
        #expect((1...6).map { policy.delay(afterAttempt: $0) } == [
            .milliseconds(500), .milliseconds(1500), .milliseconds(4500), .seconds(10), .seconds(10), .seconds(10),
        ])
        #expect(Queue.RetryPolicy().delay(afterAttempt: 1) == .seconds(1))
        #expect(Queue.RetryPolicy().delay(afterAttempt: 2) == .seconds(2))
        #expect(Queue.RetryPolicy(multiplier: 1).delay(afterAttempt: 5) == .seconds(1))
    }

    @Test func cappedBackoffInTheQueue() async throws {
        let policy = Queue.RetryPolicy(maxAttempts: 4, initialDelay: .seconds(4), multiplier: 10, maxDelay: .seconds(5))
        let tester = try queue(Queue.Configuration(retry: policy))
        let job = TestJob(.failure("a"), .failure("b"), .failure("c"), .success)
        let id = try submit(job, to: tester)
        for (attempt, delay) in [(1, 4), (2, 5), (3, 5)] {
            await tester.runtime.waitForEffects()
            #expect(try status(id, in: tester) == .success(
                .retrying(attempt: attempt, error: ["a", "b", "c"][attempt - 1], after: .seconds(delay))))
            tester.advance(by: .seconds(delay))
        }
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.succeeded(attempts: 4)))
        tester.finish()
    }

    @Test func neverRetryPolicyFailsAtTheFirstError() async throws {
        let tester = try queue(Queue.Configuration(retry: .never))
        let id = try submit(TestJob(.failure("once")), to: tester)
        await tester.runtime.waitForEffects()
        #expect(try status(id, in: tester) == .success(.failed(attempts: 1, error: "once")))
        tester.finish()
    }

    @Test(arguments: [1, 3, 8])
    func atMostTheConfiguredNumberOfJobsRun(_ slots: Int) async throws {
        let tester = try queue(Queue.Configuration(maxConcurrentJobs: slots))
        let jobs = (0..<10).map { _ in TestJob() }
        for job in jobs { _ = try submit(job, to: tester) }
        #expect(try statistics(tester) == Queue.Statistics(pending: 10 - slots, running: slots))
        for job in jobs { job.succeed() }
        await tester.runtime.waitForEffects()
        #expect(try statistics(tester) == Queue.Statistics(succeeded: 10))
        tester.finish()
    }

    @Test func speededUpConfigurationDividesTheDelays() {
        let fast = Queue.Configuration().speeded(up: 4)
        #expect(fast.retry.initialDelay == .milliseconds(250))
        #expect(fast.retry.maxDelay == .seconds(15))
        #expect(fast.maxConcurrentJobs == 4)
    }

    @Test(arguments: [
        Queue.Configuration(maxConcurrentJobs: 0),
        Queue.Configuration(maxPendingJobs: -1),
        Queue.Configuration(retry: Queue.RetryPolicy(maxAttempts: 0)),
        Queue.Configuration(retry: Queue.RetryPolicy(initialDelay: .seconds(-1))),
        Queue.Configuration(retry: Queue.RetryPolicy(multiplier: 0.5)),
        Queue.Configuration(retainedFinishedJobs: -1),
    ])
    func invalidConfigurationDoesNotStart(_ configuration: JobQueue.Configuration) throws {
        let runtime = Runtime(clock: ManualClock())
        let error = #expect(throws: StateServerError.self) { try runtime.start(Queue(configuration: configuration)) }
        #expect(error?.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error?.exitReason else {
            Issue.record("expected an invalidArgument exit reason, got \(String(describing: error?.exitReason))")
            return
        }
        #expect(cause.code == .invalidArgument)
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/JobQueue.md"))
        let diagram = Queue().table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/JobQueue.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/JobQueue/JobQueue+Table.swift"))
        let table = try #require(MachineGuide.declaration(in: source, startingWith: "@TransitionTableBuilder<Self> public var table:"))
        #expect(guide.contains(table), "paste this table:\n\(table)")
    }

    @Test func guideShowsTheUsageOfThisFile() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/JobQueue.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        let storage = FlakyStorage()
        // usage:begin
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)                             // virtual time here; Runtime() in an app
        let queue = try runtime.start(JobQueue(configuration: JobQueue.Configuration(
            maxConcurrentJobs: 2, retry: JobQueue.RetryPolicy(maxAttempts: 3, initialDelay: .seconds(1)))))

        // Submitting answers the job's id; the job runs off the server.
        let upload = try await queue.call { .submit({ try await storage.upload("report.pdf") }, $0) }.get()
        let finished = queue.request(timeout: nil) { .awaitCompletion(upload, $0) }   // answered when it ends

        await runtime.waitForEffects()                                  // the first attempt failed…
        #expect(try await queue.call { .status(upload, $0) }
            == .success(.retrying(attempt: 1, error: "storage unavailable", after: .seconds(1))))
        clock.advance(by: .seconds(1))                                  // …and is retried after the backoff
        await runtime.waitForEffects()
        #expect(try await finished.value() == .success(.succeeded(attempts: 2)))

        try queue.cast(.drain)                                          // nothing runs: the queue stops
        #expect(try await queue.waitForExit().isNormal)
        // usage:end
    }
}
