import Dispatch
#if os(Linux)
import Glibc
#endif
import Testing
@testable import StateServer

/// Bugs found in review, each pinned by a test.
@Suite struct RegressionTests {
    private struct Sleeper: StateMachine {
        enum State: Hashable, Sendable { case waiting }
        enum Call: Sendable { case never(Reply<Int>) }
        func start() -> Start<Self> { .ok(.waiting, data: (), actions: [.stateTimeout(.after(.seconds(Int64.max)))]) }
        func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
    }

    @Test func timeoutsCenturiesAwayDoNotCrashTheDefaultRuntime() async throws {
        let runtime = Runtime()
        let server = try runtime.start(Sleeper())
        let pending = server.request(timeout: .seconds(Int64.max)) { .never($0) }
        #expect(!pending.isResolved)
        pending.cancel()
        try await server.stop()
    }

    @Test func durationsConvertToWholeNanosecondsTruncatingAndSaturating() {
        // Under about nine seconds the attoseconds fit in 64 bits (the fast path); above, the components are used.
        #expect(Duration.seconds(1).nanoseconds == 1_000_000_000)
        #expect(Duration.milliseconds(-1_500).nanoseconds == -1_500_000_000)
        #expect((Duration.nanoseconds(7) + .init(secondsComponent: 0, attosecondsComponent: 999_999_999)).nanoseconds == 7)
        #expect((Duration.nanoseconds(-7) - .init(secondsComponent: 0, attosecondsComponent: 999_999_999)).nanoseconds == -7)
        #expect(Duration.seconds(9).nanoseconds == 9_000_000_000)
        #expect(Duration.seconds(10).nanoseconds == 10_000_000_000)
        #expect(Duration.seconds(-3_600).nanoseconds == -3_600_000_000_000)
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.min).nanoseconds == .min)
    }

    @Test func hugeDurationsPrint() {
        #expect("\(TimeoutTime.after(.seconds(Int64.min)))".hasPrefix("after(-"))
        #expect("\(TimeoutTime.after(.seconds(Int64.max)))".hasPrefix("after("))
    }

    @Test func aWaitFromAnAlreadyCancelledTaskEndsAtOnce() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(Sleeper())
        let pending = server.request(timeout: nil) { .never($0) }
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pending.value()
        }
        await #expect(throws: StateServerError.self) { try await waiter.value }
        #expect(!pending.isResolved)  // the request itself stays pending for other waiters
        pending.cancel()
    }

    @Test func aMailboxCapacityBelowOneIsRejectedAtStart() {
        let runtime = Runtime(clock: ManualClock())
        #expect {
            _ = try runtime.start(Sleeper(), options: ServerOptions(mailboxCapacity: 0))
        } throws: { error in
            (error as? StateServerError)?.code == .invalidArgument
        }
    }

    @Test func advancingByANegativeDurationDoesNotMoveTime() {
        let clock = ManualClock()
        _ = Runtime(clock: clock)
        clock.advance(by: .seconds(5))
        clock.advance(by: .seconds(-3))
        #expect(clock.now == RuntimeInstant.zero + .seconds(5))
    }

    #if os(Linux)
    /// The runtime's threads carry their names (they were created unnamed, so profilers showed the creator's name).
    @Test func theRuntimesThreadsAreNamed() throws {
        let done = DispatchSemaphore(value: 0)
        let seen = Locked("")
        #expect(startThread(name: "statem-naming-check") {
            var comm = ""
            if let file = fopen("/proc/thread-self/comm", "r") {
                var buffer = [CChar](repeating: 0, count: 32)
                if fgets(&buffer, 32, file) != nil {
                    comm = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
                fclose(file)
            }
            seen.withLock { $0 = comm }
            done.signal()
        })
        done.wait()
        // Linux keeps the first 15 bytes.
        #expect(seen.withLock { $0 } == "statem-naming-c\n")
    }
    #endif
}

@Suite struct SupervisorSpecValidationTests {
    private struct Idle: StateMachine {
        enum State: Hashable, Sendable { case idle }
        func start() -> Start<Self> { .ok(.idle, data: ()) }
        func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
    }

    @Test func aNegativeShutdownTimeoutIsRejectedAtStart() {
        let runtime = Runtime(clock: ManualClock())
        let spec = SupervisorSpec(children: [.worker(id: "w", shutdown: .timeout(.seconds(-1))) { Idle() }])
        #expect(throws: SupervisorError.self) { _ = try spec.start(on: runtime) }
    }

    @Test func aNegativeBackoffDelayIsRejectedAtStart() {
        let runtime = Runtime(clock: ManualClock())
        let spec = SupervisorSpec(
            backoff: RestartBackoff(initialDelay: .seconds(-1)), children: [.worker(id: "w") { Idle() }])
        #expect(throws: SupervisorError.self) { _ = try spec.start(on: runtime) }
    }
}

@Suite struct WheelTimerServiceTests {
    private final class Target: Sendable {}

    @Test func rearmingATimerKeepsTheArmedCountExactSoTheThreadCanPark() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1))
        let node = TimerNode()
        let target = Target()
        for generation in 1...10 {
            wheel.arm(node, at: wheel.now + 3_600_000_000_000, generation: UInt64(generation), target: target)
        }
        #expect(wheel.armedTimerCount == 1)
        wheel.cancel(node)
        #expect(wheel.armedTimerCount == 0)
        wheel.shutdown()
    }

    /// The wheel's timeline in milliseconds (its tick).
    private static func ms(_ milliseconds: Int64) -> Int64 { milliseconds * 1_000_000 }

    @Test func aTimerReArmedLaterFiresOnceAtItsNewDeadlineWithItsNewGeneration() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let node = TimerNode()
        let target = Target()
        wheel.arm(node, at: Self.ms(5), generation: 1, target: target)
        // Later: recorded only; the node waits in the slot of tick 5 and is moved on from there.
        wheel.arm(node, at: Self.ms(20), generation: 2, target: target)
        wheel.arm(node, at: Self.ms(20), generation: 3, target: target)
        #expect(wheel.armedTimerCount == 1)
        #expect(wheel.advance(toTick: 10).isEmpty)
        #expect(wheel.advance(toTick: 19).isEmpty)
        let fired = wheel.advance(toTick: 20)
        #expect(fired.count == 1)
        #expect(fired.first?.node === node && fired.first?.generation == 3)
        #expect(wheel.armedTimerCount == 0)
        #expect(wheel.advance(toTick: 30).isEmpty)
    }

    @Test func aTimerReArmedEarlierMovesToItsNewSlotAtOnce() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let node = TimerNode()
        let target = Target()
        wheel.arm(node, at: Self.ms(30), generation: 1, target: target)
        wheel.arm(node, at: Self.ms(12), generation: 2, target: target)
        #expect(wheel.advance(toTick: 11).isEmpty)
        #expect(wheel.advance(toTick: 12).map(\.generation) == [2])
        #expect(wheel.advance(toTick: 40).isEmpty)
    }

    @Test func aTimerReArmedMoreThanARevolutionLaterWaitsForItsRound() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let node = TimerNode()
        let other = TimerNode()
        let target = Target()
        wheel.arm(node, at: Self.ms(7), generation: 1, target: target)
        // Two revolutions and three ticks later: the same slot as tick 10, passed over twice.
        let far: Int64 = 7 + 2 * 4_096 + 3
        wheel.arm(node, at: Self.ms(far), generation: 2, target: target)
        wheel.arm(other, at: Self.ms(10), generation: 9, target: target)
        #expect(wheel.advance(toTick: 10).map(\.generation) == [9])
        var tick: Int64 = 10
        while tick + 4_000 < far {
            tick += 4_000
            #expect(wheel.advance(toTick: tick).isEmpty)
        }
        #expect(wheel.advance(toTick: far - 1).isEmpty)
        #expect(wheel.advance(toTick: far).map(\.generation) == [2])
        #expect(wheel.armedTimerCount == 0)
    }

    @Test func cancelledTimersLeaveHolesThatACompactionClosesAndTheOthersFireInOrder() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let target = Target()
        let nodes = (0..<100).map { _ in TimerNode() }
        for (index, node) in nodes.enumerated() {
            wheel.arm(node, at: Self.ms(5), generation: UInt64(index), target: target)
        }
        // Two of every three, from the front: holes, until there are more holes than nodes and the slot is compacted.
        for index in 0..<100 where index % 3 != 0 { wheel.cancel(nodes[index]) }
        #expect(wheel.armedTimerCount == 34)
        #expect(wheel.slotLength(atTick: 5) < 100)
        #expect(wheel.advance(toTick: 5).map(\.generation) == stride(from: 0, to: 100, by: 3).map { UInt64($0) })
        #expect(wheel.slotLength(atTick: 5) == 0)
    }

    @Test func aTimerArmedAndCancelledOverAndOverLeavesItsSlotEmpty() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let target = Target()
        let staying = TimerNode()
        wheel.arm(staying, at: Self.ms(5), generation: 0, target: target)
        // A caller's timeout armed and disarmed at once, 10,000 times: the slot does not grow.
        for round in 1...10_000 {
            let node = TimerNode()
            wheel.arm(node, at: Self.ms(5), generation: UInt64(round), target: target)
            wheel.cancel(node)
        }
        #expect(wheel.slotLength(atTick: 5) == 1)
        #expect(wheel.advance(toTick: 5).map(\.generation) == [0])
    }

    @Test func aWheelLetGoOfGivesBackTheTimersStillArmed() {
        weak var armed: TimerNode?
        do {
            let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
            let node = TimerNode()
            armed = node
            wheel.arm(node, at: Self.ms(5), generation: 1, target: Target())
        }
        #expect(armed == nil)
    }

    @Test func aCancelledReArmedTimerNeverFires() {
        let wheel = WheelTimerService(scheduler: WorkerPool(workers: 1), startsThread: false)
        let node = TimerNode()
        let target = Target()
        wheel.arm(node, at: Self.ms(5), generation: 1, target: target)
        wheel.arm(node, at: Self.ms(9), generation: 2, target: target)
        wheel.cancel(node)
        #expect(wheel.armedTimerCount == 0)
        #expect(wheel.advance(toTick: 20).isEmpty)
    }
}

@Suite struct WorkerPoolBatchTests {
    /// Counts its runs; the run that brings the total to `expected` resumes the waiting test.
    private final class Job: Schedulable, @unchecked Sendable {
        // Safety: `runs` is touched only by the worker running this job, once per scheduling.
        let tally: Tally
        var runs = 0
        init(tally: Tally) { self.tally = tally }
        func runScheduled() -> Bool {
            runs += 1
            tally.count()
            return false
        }
    }

    private final class Tally: Sendable {
        let state = Locked<(count: Int, expected: Int, waiter: CheckedContinuation<Void, Never>?)>((0, 0, nil))
        init(expected: Int) { state.withLock { $0.expected = expected } }
        func count() {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.count += 1
                guard state.count == state.expected else { return nil }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        func wait() async {
            await withCheckedContinuation { continuation in
                let done = state.withLock { state -> Bool in
                    if state.count == state.expected { return true }
                    state.waiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    @Test func anIdleWorkerSpinsOnlyIfTheBusyWorkersAndItLeaveACoreFree() {
        // Two cores: only while the other worker is parked (or not started); one core: never.
        #expect(WorkerPool.spinLeavesACoreFree(startedWorkers: 1, idleWorkers: 0, cores: 2))
        #expect(WorkerPool.spinLeavesACoreFree(startedWorkers: 2, idleWorkers: 1, cores: 2))
        #expect(!WorkerPool.spinLeavesACoreFree(startedWorkers: 2, idleWorkers: 0, cores: 2))
        #expect(!WorkerPool.spinLeavesACoreFree(startedWorkers: 1, idleWorkers: 0, cores: 1))
        // Eight cores: beside up to six busy workers.
        #expect(WorkerPool.spinLeavesACoreFree(startedWorkers: 7, idleWorkers: 0, cores: 8))
        #expect(!WorkerPool.spinLeavesACoreFree(startedWorkers: 8, idleWorkers: 0, cores: 8))
    }

    /// Jobs scheduled one at a time by several tasks, whether workers may spin or not (one core: never), each run
    /// once: no job is left in the queue for a spinner that gave up or was never there.
    @Test(.timeLimit(.minutes(1)), arguments: [(1, 1), (2, 1), (2, 2), (4, 2), (2, 8)])
    func jobsScheduledOneAtATimeEachRunOnce(workers: Int, cores: Int) async {
        let pool = WorkerPool(workers: workers, cores: cores)
        let tally = Tally(expected: 4 * 250)
        let jobs = (0..<4 * 250).map { _ in Job(tally: tally) }
        await withTaskGroup(of: Void.self) { group in
            for part in 0..<4 {
                group.addTask {
                    for index in stride(from: part, to: jobs.count, by: 4) {
                        pool.schedule(jobs[index])
                        if index % 16 == part { await Task.yield() }
                    }
                }
            }
        }
        await tally.wait()
        #expect(jobs.allSatisfy { $0.runs == 1 })
        pool.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func aBatchRunsEveryJobOnceOnTheWorkers() async {
        let pool = WorkerPool(workers: 2)
        let tally = Tally(expected: 1_000)
        let jobs = (0..<1_000).map { _ in Job(tally: tally) }
        for start in stride(from: 0, to: jobs.count, by: 100) {
            pool.schedule(contentsOf: Array(jobs[start..<start + 100]))
        }
        await tally.wait()
        #expect(jobs.allSatisfy { $0.runs == 1 })
        pool.shutdown()
    }

    /// A job that asks its pool, while a worker runs it, whether a worker runs it (and another job) on the
    /// processor the asking thread is on.
    private final class Asker: Schedulable, @unchecked Sendable {
        // Safety: the fields are touched only by the worker running this job (one worker), and read by the test
        // after the tally it counts on has resumed it.
        let tally: Tally
        let other: AnyObject
        weak var pool: WorkerPool?
        var sawItself = false
        var sawOther = false
        var runs = 0
        init(tally: Tally, other: AnyObject) {
            self.tally = tally
            self.other = other
        }
        func runScheduled() -> Bool {
            runs += 1
            if pool?.isRunningOnThisProcessor(self) == true { sawItself = true }
            if pool?.isRunningOnThisProcessor(other) == true { sawOther = true }
            // The worker records its processor before each run: asked from inside the run, the answer is yes
            // unless the thread moved between the two, so a few runs settle it.
            guard sawItself || runs == 1_000 else { return true }
            tally.count()
            return false
        }
    }

    /// What a caller watching for a reply asks (``ServerCore/watch(_:for:)``): a worker records the job it runs
    /// with its processor, so a thread on that processor learns that the worker is not running (it is); a job
    /// the worker no longer runs, or never ran, is not found.
    @Test(.timeLimit(.minutes(1))) func aWorkerTellsWhichJobItRunsAndOnWhichProcessor() async {
        let pool = WorkerPool(workers: 1)
        let tally = Tally(expected: 2)
        let first = Asker(tally: tally, other: Job(tally: tally))
        first.pool = pool
        // Run by the same worker, after a turn of the first: the record then names the second, not the first.
        let second = Asker(tally: tally, other: first)
        second.pool = pool
        pool.schedule(first)
        pool.schedule(second)
        await tally.wait()
        let knowsProcessors = currentProcessor() >= 0
        #expect(first.sawItself == knowsProcessors)
        #expect(second.sawItself == knowsProcessors)
        #expect(!first.sawOther)
        #expect(!second.sawOther)
        // Not running anything the test thread asks about from here: a job that ended is not found either way.
        #expect(!pool.isRunningOnThisProcessor(Job(tally: tally)))
        pool.shutdown()
    }

    /// A job that reports work left after each of its first `more` runs.
    private final class Busy: Schedulable, @unchecked Sendable {
        // Safety: `runs` is touched only by the thread running this job, once per scheduling.
        let tally: Tally
        let more: Int
        var runs = 0
        init(tally: Tally, more: Int) {
            self.tally = tally
            self.more = more
        }
        func runScheduled() -> Bool {
            runs += 1
            tally.count()
            return runs <= more
        }
    }

    @Test(.timeLimit(.minutes(1))) func aJobWithWorkLeftRunsAgainUntilItIsDone() async {
        let pool = WorkerPool(workers: 2)
        let tally = Tally(expected: 3 * 51)
        let jobs = (0..<3).map { _ in Busy(tally: tally, more: 50) }
        for job in jobs { pool.schedule(job) }
        await tally.wait()
        #expect(jobs.allSatisfy { $0.runs == 51 })
        pool.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func jobsTakenSeveralAtATimeWithWorkLeftRunAgainUntilDone() async {
        // Enough jobs that the workers take them from the run queue in batches, each asking for more runs.
        let pool = WorkerPool(workers: 2)
        let tally = Tally(expected: 200 * 6)
        let jobs = (0..<200).map { _ in Busy(tally: tally, more: 5) }
        pool.schedule(contentsOf: jobs)
        await tally.wait()
        #expect(jobs.allSatisfy { $0.runs == 6 })
        pool.shutdown()
    }

    @Test func theManualSchedulerPutsAJobWithWorkLeftBehindTheWaitingOnes() {
        final class Order: Sendable { let names = Locked<[String]>([]) }
        final class Step: Schedulable, @unchecked Sendable {
            // Safety: run only by the draining thread.
            let name: String
            let order: Order
            var more: Int
            init(_ name: String, more: Int, _ order: Order) {
                self.name = name
                self.more = more
                self.order = order
            }
            func runScheduled() -> Bool {
                order.names.withLock { $0.append(name) }
                more -= 1
                return more >= 0
            }
        }
        let scheduler = ManualScheduler()
        let order = Order()
        scheduler.schedule(Step("a", more: 2, order))
        scheduler.schedule(Step("b", more: 0, order))
        scheduler.drain()
        #expect(order.names.withLock { $0 } == ["a", "b", "a", "a"])
    }

    @Test func theManualSchedulerRunsABatchInOrder() {
        final class Order: Sendable { let indices = Locked<[Int]>([]) }
        final class Step: Schedulable, Sendable {
            let index: Int
            let order: Order
            init(_ index: Int, _ order: Order) {
                self.index = index
                self.order = order
            }
            func runScheduled() -> Bool {
                order.indices.withLock { $0.append(index) }
                return false
            }
        }
        let scheduler = ManualScheduler()
        let order = Order()
        scheduler.schedule(contentsOf: (0..<5).map { Step($0, order) })
        scheduler.drain()
        #expect(order.indices.withLock { $0 } == [0, 1, 2, 3, 4])
    }
}
