import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Work the scheduler can run: a server with messages to drain.
@usableFromInline
protocol Schedulable: AnyObject, Sendable {
    /// Drains some of the server's messages on the current thread. Returns true when work remains: the job stays
    /// scheduled and the scheduler must run it again (after the jobs already waiting, if any).
    func runScheduled() -> Bool
}

/// Where a runtime runs busy servers.
@usableFromInline
protocol Scheduler: AnyObject, Sendable {
    func schedule(_ job: any Schedulable)
    /// Schedules several jobs at once, in order.
    func schedule(contentsOf jobs: [any Schedulable])
    /// Whether a call to an idle server may run its handler inline on the caller's thread.
    var allowsInlineDrain: Bool { get }
}

/// The default runtime's scheduler: one shared run queue served by one worker thread per core.
///
/// A server is queued here once when a message makes it busy; a worker drains a batch of its messages and
/// requeues it if more remain. Workers park on a condition when the queue is empty. Threads start on first use.
final class WorkerPool: Scheduler, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`, except the two atomics.
    private let lock = ConditionLock()
    /// Jobs in `queue`, readable without the lock (a spinning worker watches it).
    private let queuedJobs = Atomic<Int>(0)
    /// Whether a worker is spinning. At most one spins, and only while the busy workers and it leave a core to
    /// the threads that produce work (``mayStartSpinning()``).
    private let isSpinning = Atomic<Bool>(false)
    /// How long an idle worker spins for new work before it parks: a job scheduled meanwhile is picked up
    /// without the cost of waking a parked thread (a futex call on each side).
    private static let spinNanoseconds: Int64 = 50_000
    private var queue = RingBuffer<any Schedulable>()
    private var idleWorkers = 0
    private var startedWorkers = 0
    private let workerCount: Int
    /// The machine's cores, which bound the spinning.
    private let coreCount: Int
    private var isStopped = false
    /// The index the next worker thread to start takes in `running`.
    private var nextWorkerIndex = 0
    /// What each worker runs, one word per worker on a cache line of its own, written only by that worker: the
    /// job's address with the processor it last ran the job on in the top 16 bits (``runningWord(_:processor:)``),
    /// 0 between jobs. Read by callers watching for a reply (``isRunningOnThisProcessor(_:)``).
    private let running: UnsafeMutablePointer<Atomic<UInt>>
    /// Words of `running` per worker: 64 bytes (the words start on a cache line), so that no two workers, and
    /// nothing else, write the cache line of a worker's word.
    private static let runningStride = 8

    /// A pool of `workers` threads on a machine of `cores` cores (by default the cores online).
    init(workers: Int, cores: Int? = nil) {
        workerCount = Swift.max(1, workers)
        coreCount = Swift.max(1, cores ?? Self.onlineCores)
        let words = workerCount * Self.runningStride
        running = UnsafeMutableRawPointer.allocate(byteCount: words * MemoryLayout<UInt>.stride, alignment: 64)
            .bindMemory(to: Atomic<UInt>.self, capacity: words)
        for index in 0..<words { (running + index).initialize(to: Atomic(0)) }
    }

    deinit {
        running.deinitialize(count: workerCount * Self.runningStride)
        running.deallocate()
    }

    /// The machine's cores online: the default runtime's worker count and the pool's bound on spinning.
    static var onlineCores: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    var allowsInlineDrain: Bool { true }

    /// How many worker threads have been started so far.
    var startedWorkerCount: Int { lock.withLock { startedWorkers } }

    func schedule(_ job: any Schedulable) {
        lock.lock()
        queue.append(job)
        let mustStart = didQueue(1)
        lock.unlock()
        for _ in 0..<mustStart { startWorker() }
    }

    /// Queues `jobs` with one acquisition of the lock and wakes every idle worker once, instead of a lock and a
    /// wake-up per job (a timer tick that fires many timers).
    func schedule(contentsOf jobs: [any Schedulable]) {
        guard !jobs.isEmpty else { return }
        lock.lock()
        for job in jobs { queue.append(job) }
        let mustStart = didQueue(jobs.count)
        lock.unlock()
        for _ in 0..<mustStart { startWorker() }
    }

    /// With the lock held, after `count` jobs were appended to the queue: counts them, wakes idle workers (one per
    /// job), and returns how many workers the caller must start (once the lock is released): one per job no idle
    /// worker is there to take, up to the pool's size.
    ///
    /// A spinning worker takes the first job queued into an empty queue without a wake-up: waking a parked worker
    /// for it would cost the caller a futex call (several microseconds on a virtual machine) for a thread that
    /// finds nothing left. The spinner stores `false` before it takes the lock to park, so a job queued after it
    /// gave up sees `false` here and wakes a parked worker; a job queued while it still spins is in the queue when
    /// it looks under the lock.
    private func didQueue(_ count: Int) -> Int {
        queuedJobs.add(count, ordering: .releasing)
        let forSpinner = queue.count == count && isSpinning.load(ordering: .relaxed) ? 1 : 0
        let toWake = count - forSpinner
        let mustStart = Swift.min(workerCount - startedWorkers, Swift.max(0, toWake - idleWorkers))
        startedWorkers += mustStart
        if idleWorkers > 0 && toWake > 0 {
            if toWake == 1 { lock.signal() } else { lock.broadcast() }
        }
        return mustStart
    }

    /// With the lock held, by an idle worker: whether it may spin. No other worker may spin, and the workers
    /// running jobs and the spinner together must leave a core free: a spinner beside a busy worker on two cores
    /// would hold the core that a woken caller (a task resumed with its reply) or a producer needs, and a thread
    /// woken on a full machine waits for a time slice (tens of microseconds here, measured with `perf sched`).
    private func mayStartSpinning() -> Bool {
        guard Self.spinLeavesACoreFree(startedWorkers: startedWorkers, idleWorkers: idleWorkers, cores: coreCount)
        else { return false }
        return isSpinning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// Whether one more worker spinning, beside the ones running jobs (started, not parked, not the asking
    /// worker), leaves at least one of `cores` to other threads.
    static func spinLeavesACoreFree(startedWorkers: Int, idleWorkers: Int, cores: Int) -> Bool {
        let busyOthers = startedWorkers - idleWorkers - 1
        return busyOthers + 2 <= cores
    }

    private func startWorker() {
        let started = startThread(name: "statem-worker") { [self] in work() }
        precondition(started, "StateServer could not start a worker thread")
    }

    /// Watches for a job for up to ``spinNanoseconds``.
    ///
    /// It does not yield its core while it spins: measured, a spinner yielding to a busy producer on its core lost
    /// the core for a whole time slice and left the job it was to take waiting for milliseconds.
    private func spinForWork() {
        let deadline = monotonicNanoseconds() + Self.spinNanoseconds
        var spins = 0
        while queuedJobs.load(ordering: .acquiring) == 0 {
            spins += 1
            if spins & 255 == 0 && monotonicNanoseconds() > deadline { return }
        }
    }

    /// Stops the workers once the queue is empty.
    func shutdown() {
        lock.withLock {
            isStopped = true
            lock.broadcast()
        }
    }

    /// The most jobs a worker takes from the run queue under one lock, when the queue is long enough to leave as
    /// many for every other worker (a burst of fired timers makes thousands of servers busy at once).
    private static let takeLimit = 16

    private func work() {
        let index = lock.withLock {
            defer { nextWorkerIndex += 1 }
            return nextWorkerIndex
        }
        assert(index < workerCount, "more worker threads than the pool starts")
        withUnsafeTemporaryAllocation(of: (any Schedulable).self, capacity: Self.takeLimit) { taken in
            work(taken: taken.baseAddress!, record: running + index * Self.runningStride)
        }
    }

    /// The word a worker records in `running` while it runs `job` on `processor`.
    @inline(__always)
    private static func runningWord(_ job: AnyObject, processor: Int) -> UInt {
        UInt(bitPattern: ObjectIdentifier(job)) & (1 << 48 - 1) | UInt(truncatingIfNeeded: processor) << 48
    }

    /// Whether a worker runs `job` and last ran it on the processor the calling thread is on. Then that worker is
    /// not running it now (this thread is on its processor): it lost its processor, or moved since. A caller
    /// watching for a reply from `job` would hold the processor the worker waits for.
    func isRunningOnThisProcessor(_ job: AnyObject) -> Bool {
        let processor = currentProcessor()
        guard processor >= 0 else { return false }
        let word = Self.runningWord(job, processor: processor)
        for index in 0..<workerCount where running[index * Self.runningStride].load(ordering: .relaxed) == word {
            return true
        }
        return false
    }

    private func work(taken: UnsafeMutablePointer<any Schedulable>, record: UnsafeMutablePointer<Atomic<UInt>>) {
        lock.lock()
        while true {
            if queue.count > 2 * workerCount {
                let count = Swift.min(Self.takeLimit, queue.count / workerCount)
                for index in 0..<count { (taken + index).initialize(to: queue.popFirst()!) }
                queuedJobs.subtract(count, ordering: .relaxed)
                lock.unlock()
                for index in 0..<count {
                    // Each job's turn ends after one batch: the others taken with it are waiting.
                    let job = (taken + index).move()
                    record.pointee.store(Self.runningWord(job, processor: currentProcessor()), ordering: .relaxed)
                    if job.runScheduled() { schedule(job) }
                }
                record.pointee.store(0, ordering: .relaxed)
                lock.lock()
            } else if var job = queue.popFirst() {
                queuedJobs.subtract(1, ordering: .relaxed)
                lock.unlock()
                // A job with work left after its batch runs again on this thread while nobody else waits (no
                // run-queue round trip, no wake-up of an idle worker that would only take it over); otherwise it
                // goes behind the waiting jobs.
                while true {
                    record.pointee.store(Self.runningWord(job, processor: currentProcessor()), ordering: .relaxed)
                    guard job.runScheduled() else { break }
                    guard queuedJobs.load(ordering: .acquiring) > 0 else { continue }
                    schedule(job)
                    break
                }
                record.pointee.store(0, ordering: .relaxed)
                // Let go of the job before taking the lock again: if it held the last reference to its runtime,
                // the runtime's deinit shuts this pool down, which takes the lock.
                job = Released.job
                lock.lock()
            } else if isStopped {
                break
            } else if mayStartSpinning() {
                lock.unlock()
                spinForWork()
                isSpinning.store(false, ordering: .releasing)
                lock.lock()
                if queue.isEmpty && !isStopped {
                    idleWorkers += 1
                    lock.wait()
                    idleWorkers -= 1
                }
            } else {
                idleWorkers += 1
                lock.wait()
                idleWorkers -= 1
            }
        }
        lock.unlock()
    }
}

/// A placeholder job, to release a real one without an optional.
private enum Released {
    final class Job: Schedulable, Sendable { func runScheduled() -> Bool { false } }
    static let job = Job()
}

/// The virtual-time scheduler: busy servers are drained synchronously, on the thread that made them busy, in
/// the order they became busy, until every server is idle.
final class ManualScheduler: Scheduler, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`.
    private let lock = ConditionLock()
    private var queue = RingBuffer<any Schedulable>()
    private var drainer: pthread_t?

    var allowsInlineDrain: Bool { false }

    func schedule(_ job: any Schedulable) {
        lock.withLock { queue.append(job) }
    }

    func schedule(contentsOf jobs: [any Schedulable]) {
        lock.withLock { for job in jobs { queue.append(job) } }
    }

    /// Runs queued servers until none is busy. If another thread is draining, waits for it to finish first, so
    /// that when this returns every server is idle; a drain re-entered on the draining thread (an exit observer
    /// sending a message, say) returns at once, since the outer drain finishes the work.
    func drain() {
        let me = pthread_self()
        lock.lock()
        if let drainer, pthread_equal(drainer, me) != 0 {
            lock.unlock()
            return
        }
        while drainer != nil { lock.wait() }
        drainer = me
        while let job = queue.popFirst() {
            lock.unlock()
            let hasMore = job.runScheduled()
            lock.lock()
            if hasMore { queue.append(job) }
        }
        drainer = nil
        lock.broadcast()
        lock.unlock()
    }
}
