import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hosts servers: schedules their mailboxes, owns the one timer service they share, and provides the clock.
///
/// Two kinds exist, running the same machines unchanged:
/// - `Runtime()` runs on the system's monotonic clock with one worker thread per core and a timing wheel;
///   an idle server costs no thread and no task, only its memory.
/// - `Runtime(clock: ManualClock())` runs in virtual time for tests: every operation (start, cast, send, call,
///   stop, `clock.advance(by:)`) drains every affected server synchronously before it returns, and timers fire
///   only when the clock is advanced, in (deadline, insertion) order.
///
/// ```swift
/// let clock = ManualClock()
/// let runtime = Runtime(clock: clock)
/// let light = try runtime.start(TrafficLight())
/// clock.advance(by: .seconds(30))          // red → green, synchronously
/// ```
///
/// Concurrency: `Sendable`; every method may be called from any thread or task.
public final class Runtime: Sendable {
    @usableFromInline let timers: any TimerService
    @usableFromInline let scheduler: any Scheduler
    /// The scheduler's ``Scheduler/allowsInlineDrain``, read on every call without going through the existential
    /// (which retains and releases the scheduler).
    @usableFromInline let allowsInlineDrain: Bool
    /// Whether a caller whose call another thread is handling watches for its reply before it suspends
    /// (``ServerCore/watch(_:for:)``): on real threads with more than one core. On one core the watcher would hold
    /// the core the thread it waits for needs; in virtual time nothing runs on another thread.
    @usableFromInline let watchesReplies: Bool
    /// The worker pool of a runtime on real threads: a watching caller asks it whether the worker it waits for
    /// lost its processor to the caller (``WorkerPool/isRunningOnThisProcessor(_:)``).
    let workerPool: WorkerPool?
    /// The manual clock, when running in virtual time.
    @usableFromInline let manualClock: ManualClock?
    private let effects = Locked(EffectTracker())
    /// Receives warnings and abnormal exits of every server.
    @usableFromInline let reporter: (@Sendable (RuntimeReport) -> Void)?

    /// A runtime on the system clock with `workers` worker threads (by default one per core). Threads start on
    /// first use. `reporter` receives warnings and abnormal exits; by default they are printed to standard error
    /// (normal and shutdown exits are never reported).
    public init(workers: Int? = nil, reporter: (@Sendable (RuntimeReport) -> Void)? = RuntimeReport.printToStandardError) {
        let count = workers ?? WorkerPool.onlineCores
        let pool = WorkerPool(workers: count)
        timers = WheelTimerService(scheduler: pool, lanes: 2 * count)
        scheduler = pool
        allowsInlineDrain = pool.allowsInlineDrain
        watchesReplies = pool.allowsInlineDrain && WorkerPool.onlineCores > 1
        workerPool = pool
        manualClock = nil
        self.reporter = reporter
    }

    /// A runtime in virtual time, driven by `clock`. A clock drives one runtime. By default nothing is reported;
    /// pass a `reporter` to collect warnings and abnormal exits in a test.
    public init(clock: ManualClock, reporter: (@Sendable (RuntimeReport) -> Void)? = nil) {
        timers = clock.timers
        scheduler = clock.scheduler
        allowsInlineDrain = clock.scheduler.allowsInlineDrain
        watchesReplies = false
        workerPool = nil
        manualClock = clock
        self.reporter = reporter
    }

    /// Stops the worker and timer threads once nothing refers to the runtime any more (no server, no handle).
    deinit {
        (scheduler as? WorkerPool)?.shutdown()
        (timers as? WheelTimerService)?.shutdown()
    }

    /// A process-wide runtime on the system clock, created on first use.
    public static let shared = Runtime()

    /// Whether this runtime runs in virtual time.
    public var isVirtual: Bool { manualClock != nil }

    /// The current instant on this runtime's clock.
    public var now: RuntimeInstant { RuntimeInstant(nanoseconds: timers.now) }

    /// Starts a server running `machine`: runs its `start` on the calling thread, then the transition into the
    /// initial state (actions, enter call, inserted events and zero timeouts) before returning.
    ///
    /// - Throws: ``StateServerError`` with ``StateServerError/Code/ignored`` when `start` returned `.ignore`, or
    ///   ``StateServerError/Code/startFailed`` (with the exit reason) for `.stop`, `.error` or a thrown error.
    @inlinable
    public func start<M: StateMachine>(_ machine: M, options: ServerOptions<M> = ServerOptions()) throws -> Server<M> {
        if let capacity = options.mailboxCapacity, capacity < 1 {
            throw StateServerError(.invalidArgument, "a mailbox capacity must be at least 1, got \(capacity)")
        }
        switch Engine.runStart(machine).outcome {
        case .ignore:
            throw StateServerError(.ignored, "\(M.self).start returned ignore")
        case .stop(let reason):
            throw StateServerError(.startFailed, "\(M.self).start failed", exitReason: reason)
        case .error(let error):
            throw StateServerError(.startFailed, "\(M.self).start failed", exitReason: .error(error))
        case .ok(let state, let data, let initial):
            let id = ServerID(rawValue: IdentityCounter.next())
            let core = ServerCore(
                id: id, runtime: self, machine: machine, state: state, data: data, options: options
            ) { core, timer, generation, step in
                core.enter(step, timer: timer, generation: generation)
            }
            core.completeStart(initial)
            settle()
            return Server(core: core)
        }
    }

    /// In virtual time, drains every busy server and fires timers already due; under the system clock, does
    /// nothing.
    @inlinable
    func settle() {
        manualClock?.settle()
    }

    /// Waits until every effect started by this runtime's servers has finished and its result was handled.
    ///
    /// Effects (``Action/run(cancelOnStateExit:_:then:)``) are real async work, even in virtual time; a test
    /// awaits this instead of sleeping.
    public func waitForEffects() async {
        while true {
            let done: Bool = await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
                let ready = effects.withLock { tracker -> Bool in
                    if tracker.running == 0 { return true }
                    tracker.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume(returning: true) }
            }
            settle()
            if done && effects.withLock({ $0.running == 0 }) { return }
        }
    }

    @usableFromInline func effectStarted() { effects.withLock { $0.running += 1 } }

    @usableFromInline func effectFinished() {
        let waiters = effects.withLock { tracker -> [UnsafeContinuation<Bool, Never>] in
            tracker.running -= 1
            guard tracker.running == 0 else { return [] }
            defer { tracker.waiters = [] }
            return tracker.waiters
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }
}

struct EffectTracker {
    var running = 0
    var waiters: [UnsafeContinuation<Bool, Never>] = []
}

/// A clock that moves only when told to, for tests: the virtual time of a ``Runtime``.
///
/// `advance(by:)` fires every timer due in the interval in (deadline, insertion) order, setting ``now`` to each
/// deadline before delivering it, and drains every affected server synchronously before firing the next. When it
/// returns, every server is idle and ``now`` is the target instant.
///
/// Concurrency: `Sendable`; advance from one task at a time.
public final class ManualClock: @unchecked Sendable {
    // Safety: `advancer` is guarded by `advancing`; the rest is immutable or thread-safe.
    let timers = ManualTimerService()
    let scheduler = ManualScheduler()
    private let advancing = ConditionLock()
    private var advancer: pthread_t?

    /// Creates a clock at ``RuntimeInstant/zero``.
    public init() {}

    /// The current virtual instant.
    public var now: RuntimeInstant { RuntimeInstant(nanoseconds: timers.now) }

    /// How many timers (timeouts, delayed messages, call timeouts) are armed.
    public var armedTimerCount: Int { timers.armedCount }

    /// The deadline of the earliest armed timer.
    public var nextDeadline: RuntimeInstant? { timers.nextDeadline.map(RuntimeInstant.init(nanoseconds:)) }

    /// Moves time forward by `duration`, firing and fully handling every timer due on the way. Time never goes
    /// back: a negative duration only handles what is already due.
    public func advance(by duration: Duration) {
        advance(to: now.advanced(by: Swift.max(duration, .zero)))
    }

    /// Moves time forward to `instant` (never backwards), firing and fully handling every timer due on the way.
    public func advance(to instant: RuntimeInstant) {
        // One thread moves time at a time, so timers fire in (deadline, insertion) order even when an effect
        // finishing on another thread settles the runtime meanwhile; a settle re-entered on the advancing thread
        // (from a drain) returns at once, since the outer loop goes on.
        let me = pthread_self()
        advancing.lock()
        if let advancer, pthread_equal(advancer, me) != 0 {
            advancing.unlock()
            scheduler.drain()
            return
        }
        while advancer != nil { advancing.wait() }
        advancer = me
        advancing.unlock()
        defer {
            advancing.lock()
            advancer = nil
            advancing.broadcast()
            advancing.unlock()
        }
        scheduler.drain()
        while let (target, node, generation) = timers.popDue(until: instant.nanoseconds) {
            if let job = node.fire(target, generation: generation) { scheduler.schedule(job) }
            scheduler.drain()
        }
    }

    /// Drains every busy server and fires every timer already due (a past absolute timeout, a zero delay),
    /// without moving time.
    @usableFromInline
    func settle() {
        advance(to: now)
    }

    /// Fires every armed timer, however far away, advancing time to the last deadline.
    public func runAllTimers() {
        while let deadline = timers.nextDeadline { advance(to: RuntimeInstant(nanoseconds: deadline)) }
    }
}

/// A warning or an abnormal exit, as passed to a runtime's reporter (`logger` reports in OTP).
public struct RuntimeReport: Sendable, CustomStringConvertible {
    /// What is reported.
    public enum Kind: Sendable {
        /// A machine reported a warning with ``Action/report(_:)`` (for example an unexpected message).
        case warning(String)
        /// A server ended with a reason that is not normal or shutdown.
        case terminated(ExitReason)
    }

    /// The server concerned.
    public var server: ServerID
    /// The machine's type name.
    public var machine: String
    /// What happened.
    public var kind: Kind

    @usableFromInline init(server: ServerID, machine: String, kind: Kind) {
        self.server = server
        self.machine = machine
        self.kind = kind
    }

    /// `StateServer: <N> (Machine) terminated: reason` or `… warning: message`.
    public var description: String {
        switch kind {
        case .warning(let message): "StateServer: \(server) (\(machine)) warning: \(message)"
        case .terminated(let reason): "StateServer: \(server) (\(machine)) terminated: \(reason)"
        }
    }

    /// The default reporter of the real runtime: one line on standard error per report.
    public static let printToStandardError: @Sendable (RuntimeReport) -> Void = { report in
        let line = report.description + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
