import Testing
@testable import StateServer

/// The wheel's hand-off of fired timers to the workers, through its lanes, driven by hand: no thread, no clock.
@Suite struct TimerLaneTests {
    /// A scheduler that only keeps what it is given; the test runs the jobs itself.
    private final class KeepingScheduler: Scheduler, @unchecked Sendable {
        // Safety: `jobs` is only touched through its lock.
        let jobs = Locked<[any Schedulable]>([])
        var allowsInlineDrain: Bool { true }
        func schedule(_ job: any Schedulable) { jobs.withLock { $0.append(job) } }
        func schedule(contentsOf jobs: [any Schedulable]) { self.jobs.withLock { $0.append(contentsOf: jobs) } }
        func take() -> [any Schedulable] {
            jobs.withLock { jobs in
                defer { jobs = [] }
                return jobs
            }
        }
    }

    private final class Target: Sendable {}

    /// What the recording nodes were told, in order, and whether on a worker.
    private final class FireLog: Sendable {
        let entries = Locked<[(target: ObjectIdentifier, generation: UInt64, onWorker: Bool)]>([])
        /// Resumed once `expected` fires were told.
        private let waiter = Locked<(expected: Int, continuation: CheckedContinuation<Void, Never>?)>((0, nil))
        var count: Int { entries.withLock { $0.count } }

        func record(_ target: AnyObject, _ generation: UInt64, onWorker: Bool) {
            let count = entries.withLock { entries in
                entries.append((ObjectIdentifier(target), generation, onWorker))
                return entries.count
            }
            let continuation = waiter.withLock { waiter -> CheckedContinuation<Void, Never>? in
                guard count == waiter.expected else { return nil }
                defer { waiter.continuation = nil }
                return waiter.continuation
            }
            continuation?.resume()
        }

        func wait(for expected: Int) async {
            await withCheckedContinuation { continuation in
                let done = waiter.withLock { waiter -> Bool in
                    waiter.expected = expected
                    if count >= expected { return true }
                    waiter.continuation = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    /// A timer node that records how it was told: on a worker at the first step, under the lane's lock, where a
    /// server's fire enters its mailbox or claims it (the order the server sees).
    private final class RecordingNode: TimerNode, @unchecked Sendable {
        // Safety: `log` is immutable and Sendable; the base class's state is guarded by the wheel.
        let log: FireLog
        init(log: FireLog) {
            self.log = log
            super.init()
        }
        override func fire(_ target: AnyObject, generation: UInt64) -> (any Schedulable)? {
            log.record(target, generation, onWorker: false)
            return nil
        }
        override func claim(_ target: AnyObject, generation: UInt64) -> TimerClaim {
            log.record(target, generation, onWorker: true)
            return .done
        }
    }

    private static func ms(_ milliseconds: Int64) -> Int64 { milliseconds * 1_000_000 }

    /// Runs `jobs` a turn at a time, round robin, until none has work left; checks that no turn tells more than a
    /// lane's turn and that no lane is queued more than ``TimerLane/maxEntries`` times.
    private static func runTurns(_ jobs: [any Schedulable], scheduler: KeepingScheduler, log: FireLog) {
        var queue = jobs
        while !queue.isEmpty {
            let job = queue.removeFirst()
            let before = log.count
            let again = job.runScheduled()
            #expect(log.count - before <= TimerLane.turn)
            if again { queue.append(job) }
            queue.append(contentsOf: scheduler.take())
            let entries = Dictionary(grouping: queue.map { ObjectIdentifier($0) }, by: { $0 })
            #expect(entries.values.allSatisfy { $0.count <= TimerLane.maxEntries })
        }
    }

    @Test func aTicksFiresAreToldOnTheWorkersEachTargetsInTheOrderTheWheelCollectedThem() {
        let scheduler = KeepingScheduler()
        let wheel = WheelTimerService(scheduler: scheduler, lanes: 3, startsThread: false)
        let log = FireLog()
        let targets = (0..<10).map { _ in Target() }
        // Generation = arming order; the last 200 are due a tick later, armed in between the others' targets.
        let nodes = (0..<1_000).map { _ in RecordingNode(log: log) }
        for (index, node) in nodes.enumerated() {
            let tick: Int64 = index < 800 ? 5 : 6
            wheel.arm(node, at: Self.ms(tick), generation: UInt64(index), target: targets[index % targets.count])
        }
        wheel.handOff(throughTick: 4)
        #expect(scheduler.take().isEmpty)
        wheel.handOff(throughTick: 6)
        let lanes = scheduler.take()
        #expect((1...3 * TimerLane.maxEntries).contains(lanes.count))
        #expect(log.count == 0, "the wheel's thread tells nobody itself")
        Self.runTurns(lanes, scheduler: scheduler, log: log)

        let entries = log.entries.withLock { $0 }
        #expect(entries.count == 1_000)
        #expect(entries.allSatisfy { $0.onWorker })
        #expect(Set(entries.map(\.generation)) == Set((0..<1_000).map { UInt64($0) }))
        for target in targets {
            let generations = entries.filter { $0.target == ObjectIdentifier(target) }.map(\.generation)
            #expect(generations.count == 100)
            #expect(generations == generations.sorted(), "a target's fires in the order the wheel collected them")
        }
        #expect(wheel.armedTimerCount == 0)
    }

    /// Arms `count` recording nodes on `target` at `tick`, their generations numbering on from `nodes.count`.
    private static func arm(
        _ count: Int, at tick: Int64, on wheel: WheelTimerService, target: AnyObject, log: FireLog,
        nodes: inout [RecordingNode]
    ) {
        for _ in 0..<count {
            let node = RecordingNode(log: log)
            wheel.arm(node, at: ms(tick), generation: UInt64(nodes.count), target: target)
            nodes.append(node)
        }
    }

    @Test func aLaneWithABacklogIsScheduledTwiceAndAgainOnlyOnceIdle() {
        let scheduler = KeepingScheduler()
        let wheel = WheelTimerService(scheduler: scheduler, lanes: 1, startsThread: false)
        let log = FireLog()
        let target = Target()
        var nodes: [RecordingNode] = []
        Self.arm(TimerLane.turn + 100, at: 5, on: wheel, target: target, log: log, nodes: &nodes)
        wheel.handOff(throughTick: 5)
        // More than a group waiting: a second worker may go on while the first is held up by a handler.
        let entries = scheduler.take()
        #expect(entries.count == TimerLane.maxEntries)
        #expect(Set(entries.map { ObjectIdentifier($0) }).count == 1)
        #expect(entries[0].runScheduled(), "a turn tells at most `turn` fires; the lane has more")
        #expect(log.count == TimerLane.turn)
        // Fires due while the lane is scheduled join it without scheduling it again.
        Self.arm(10, at: 6, on: wheel, target: target, log: log, nodes: &nodes)
        wheel.handOff(throughTick: 6)
        #expect(scheduler.take().isEmpty)
        while entries[0].runScheduled() {}
        #expect(!entries[1].runScheduled())
        #expect(log.entries.withLock { $0.map(\.generation) } == (0..<nodes.count).map { UInt64($0) })
        // Idle again: the next fire schedules it once more.
        Self.arm(1, at: 7, on: wheel, target: target, log: log, nodes: &nodes)
        wheel.handOff(throughTick: 7)
        #expect(scheduler.take().count == 1)
    }

    @Test(.timeLimit(.minutes(1))) func twoWorkersOnOneLaneTellEachTargetsFiresInOrder() async {
        let scheduler = KeepingScheduler()
        let wheel = WheelTimerService(scheduler: scheduler, lanes: 1, startsThread: false)
        let log = FireLog()
        let targets = (0..<7).map { _ in Target() }
        var nodes: [RecordingNode] = []
        for round in 0..<3_000 {
            Self.arm(1, at: 5, on: wheel, target: targets[round % targets.count], log: log, nodes: &nodes)
        }
        wheel.handOff(throughTick: 5)
        let entries = scheduler.take()
        #expect(entries.count == 2)
        // Both entries at once, on two real threads.
        let pool = WorkerPool(workers: 2)
        pool.schedule(contentsOf: entries)
        await log.wait(for: nodes.count)
        pool.shutdown()
        let told = log.entries.withLock { $0 }
        #expect(told.count == nodes.count)
        for target in targets {
            let generations = told.filter { $0.target == ObjectIdentifier(target) }.map(\.generation)
            #expect(generations == generations.sorted())
        }
    }

    /// A node whose second step blocks its worker until `others` fires were told after it.
    private final class SlowNode: TimerNode, @unchecked Sendable {
        // Safety: the fields are immutable; `told` is guarded by `lock`.
        let log: FireLog
        let others: Int
        private let lock = ConditionLock()
        private var told = 0
        init(log: FireLog, others: Int) {
            self.log = log
            self.others = others
            super.init()
        }
        /// Another fire was told.
        func count() {
            lock.withLock {
                told += 1
                lock.broadcast()
            }
        }
        override func runClaimed(_ target: AnyObject, generation: UInt64, _ claim: TimerClaim) -> (any Schedulable)? {
            lock.withLock { while told < others { lock.wait() } }
            log.record(target, generation, onWorker: true)
            return nil
        }
    }

    /// A node that tells a ``SlowNode`` when it is told.
    private final class CountingNode: TimerNode, @unchecked Sendable {
        // Safety: the fields are immutable; the base class's state is guarded by the wheel.
        let log: FireLog
        let slow: SlowNode
        init(log: FireLog, slow: SlowNode) {
            self.log = log
            self.slow = slow
            super.init()
        }
        override func runClaimed(_ target: AnyObject, generation: UInt64, _ claim: TimerClaim) -> (any Schedulable)? {
            log.record(target, generation, onWorker: true)
            slow.count()
            return nil
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSlowHandlerHoldsUpOnlyTheFiresOfItsGroupWhileAnotherWorkerGoesOn() async {
        let scheduler = KeepingScheduler()
        let wheel = WheelTimerService(scheduler: scheduler, lanes: 1, startsThread: false)
        let log = FireLog()
        let others = 40 * TimerLane.group
        // The slow fire comes first; it returns only once every fire outside its group was told by someone else.
        let slow = SlowNode(log: log, others: others - (TimerLane.group - 1))
        wheel.arm(slow, at: Self.ms(5), generation: 0, target: Target())
        for index in 0..<others {
            wheel.arm(CountingNode(log: log, slow: slow), at: Self.ms(5), generation: UInt64(index + 1), target: Target())
        }
        wheel.handOff(throughTick: 5)
        let pool = WorkerPool(workers: 2)
        pool.schedule(contentsOf: scheduler.take())
        await log.wait(for: others + 1)
        pool.shutdown()
        #expect(log.count == others + 1)
    }

    /// A job that does nothing.
    private final class Nothing: Schedulable, Sendable { func runScheduled() -> Bool { false } }

    @Test func scheduledJobsStartAWorkerEachUpToThePoolsSize() {
        let pool = WorkerPool(workers: 3)
        #expect(pool.startedWorkerCount == 0)
        // Before, one worker started per call however many jobs it brought: a tick's lanes ran on one thread.
        pool.schedule(contentsOf: [Nothing(), Nothing()])
        #expect(pool.startedWorkerCount == 2)
        pool.shutdown()
    }
}

/// Set once, read by the test.
private final class Flag: Sendable {
    private let value = Locked(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// A machine that stops when its state timeout fires, saying so on a flag first.
private struct FlaggedAlarm: StateMachine {
    enum State: Hashable, Sendable { case armed }
    let fired: Flag

    func start() -> Start<Self> { .ok(.armed, .stateTimeout(.seconds(3_600))) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        if case .stateTimeout = event {
            fired.set()
            return .stop(.normal)
        }
        return .keep
    }
}

@Suite struct TimerDeliveryTests {
    @Test func aTimerToldOnAWorkerClaimsAnIdleServerAndRunsItsHandlerThereWithNothingLeftToSchedule() throws {
        let runtime = Runtime(workers: 1)
        let fired = Flag()
        let server = try runtime.start(FlaggedAlarm(fired: fired))
        let generation = try #require(server.core.engine.stateTimer?.generation)
        // What a lane does when the hour is up: claims the idle server (under the lane's lock), then runs it.
        let claim = server.core.claim(server.core, generation: generation)
        #expect(claim == .run)
        #expect(!fired.isSet)
        let job = server.core.runClaimed(server.core, generation: generation, claim)
        #expect(job == nil)
        #expect(fired.isSet, "handled before the fire returned, on this thread")
    }

    @Test func aTimerToldOffTheWorkersOnlyQueuesItsFireAndHandsTheServerBack() throws {
        let runtime = Runtime(workers: 1)
        let fired = Flag()
        let server = try runtime.start(FlaggedAlarm(fired: fired))
        let generation = try #require(server.core.engine.stateTimer?.generation)
        let job = try #require(server.core.fire(server.core, generation: generation))
        #expect(!fired.isSet)
        // The test is the scheduler here.
        _ = job.runScheduled()
        #expect(fired.isSet)
    }
}
