import Testing
@testable import StateServer

/// A machine whose state timeout stops it: the test awaits its exit instead of sleeping.
private struct RuntimeAlarm: StateMachine {
    enum State: Hashable, Sendable { case armed }
    let delay: Duration

    func start() -> Start<Self> { .ok(.armed, .stateTimeout(delay)) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        if case .stateTimeout = event { return .stop(.shutdown("alarm fired")) }
        return .keep
    }
}

/// A machine that holds every call and crashes once `crashAfter` calls are waiting.
private struct RuntimeHoarder: StateMachine {
    enum State: Hashable, Sendable { case hoarding }
    typealias Data = [Reply<Int>]
    enum Call: Sendable { case hold(Reply<Int>) }
    let crashAfter: Int

    func start() -> Start<Self> { .ok(.hoarding, data: []) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self> {
        if case .call(.hold(let reply)) = event {
            data.append(reply)
            if data.count == crashAfter { throw RuntimeTestError(tag: "hoard full") }
        }
        return .keep
    }
}

/// A latch that blocks a thread (not a task) until opened: to hold a server inside its handler.
private final class RuntimeBlockingLatch: @unchecked Sendable {
    // Safety: `isOpen` is only read and written with `lock` held.
    private let lock = ConditionLock()
    private var isOpen = false

    func wait() {
        lock.lock()
        while !isOpen { lock.wait() }
        lock.unlock()
    }

    func open() {
        lock.lock()
        isOpen = true
        lock.broadcast()
        lock.unlock()
    }
}

/// A machine whose `.block` cast parks its handler until the latch opens, telling the test when it entered.
private struct RuntimeSlowpoke: StateMachine {
    enum State: Hashable, Sendable { case working }
    enum Call: Sendable { case ping(Reply<Int>) }
    enum Cast: Sendable { case block }
    let entered: RuntimeGate
    let latch: RuntimeBlockingLatch

    func start() -> Start<Self> { .ok(.working) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch event {
        case .cast(.block):
            entered.open()
            latch.wait()
        case .call(.ping(let reply)):
            return .keep(.reply(reply, 1))
        default:
            break
        }
        return .keep
    }
}

/// A `RuntimeSlowpoke` started on `runtime` and held inside its `.block` handler, on a worker, until `latch` opens.
private func slowpokeHeldInItsHandler(on runtime: Runtime) async throws
    -> (slowpoke: Server<RuntimeSlowpoke>, latch: RuntimeBlockingLatch)
{
    let entered = RuntimeGate()
    let latch = RuntimeBlockingLatch()
    let slowpoke = try runtime.start(RuntimeSlowpoke(entered: entered, latch: latch))
    try slowpoke.cast(.block)
    await entered.wait()
    return (slowpoke, latch)
}

/// A runtime with one worker, held inside a `RuntimeSlowpoke`'s handler until `latch` opens: a server made busy
/// on it waits in the run queue.
private func runtimeWithItsOnlyWorkerStuck() async throws
    -> (runtime: Runtime, slowpoke: Server<RuntimeSlowpoke>, latch: RuntimeBlockingLatch)
{
    let runtime = Runtime(workers: 1)
    let (slowpoke, latch) = try await slowpokeHeldInItsHandler(on: runtime)
    return (runtime, slowpoke, latch)
}

/// A few end-to-end checks on the default runtime (real threads, system clock). They wait on server events,
/// never sleep, and assert no durations; the time limits only keep a broken runtime from hanging the suite.
@Suite struct RuntimeDefaultClockTests {
    @Test(.timeLimit(.minutes(1)))
    func concurrentCallersOnTheDefaultRuntimeAllGetTheirOwnReplies() async throws {
        let runtime = Runtime()
        let server = try runtime.start(RuntimeProbe())
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var mismatches = 0
                    for index in 0..<1_000 {
                        let value = task * 1_000 + index
                        if try await server.call(timeout: .seconds(30), { .echo(value, $0) }) != value { mismatches += 1 }
                    }
                    return mismatches
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        #expect(try await server.status(timeout: .seconds(30)).handledEvents == 8_000)
        try await server.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func castsFromOneSenderAreHandledInOrderOnTheDefaultRuntime() async throws {
        let runtime = Runtime()
        let server = try runtime.start(RuntimeProbe())
        for index in 0..<2_000 { try server.cast(.note("\(index)")) }
        let log = try await server.call(timeout: .seconds(30)) { .log($0) }
        #expect(log == (0..<2_000).map { "cast:\($0)" })
        try await server.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func crashOnTheDefaultRuntimeFailsEveryWaitingCallerWithServerExited() async throws {
        let runtime = Runtime()
        let callers = 50
        let server = try runtime.start(RuntimeHoarder(crashAfter: callers))
        let errors = await withTaskGroup(of: StateServerError?.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    do {
                        _ = try await server.call(timeout: .seconds(30)) { .hold($0) }
                        return nil
                    } catch {
                        return error as? StateServerError
                    }
                }
            }
            var errors: [StateServerError?] = []
            for await error in group { errors.append(error) }
            return errors
        }
        #expect(errors.count == callers)
        for error in errors {
            #expect(error?.code == .serverExited, "\(String(describing: error))")
            #expect(RuntimeExpect.label(error?.exitReason) == "error(hoard full)")
        }
        #expect(RuntimeExpect.label(try await server.waitForExit()) == "error(hoard full)")
    }

    @Test(.timeLimit(.minutes(1)))
    func shortStateTimeoutFiresOnTheDefaultRuntime() async throws {
        let runtime = Runtime()
        let server = try runtime.start(RuntimeAlarm(delay: .milliseconds(20)))
        #expect(RuntimeExpect.label(try await server.waitForExit()) == "shutdown(alarm fired)")
        #expect(!server.isAlive)
    }

    @Test(.timeLimit(.minutes(1)))
    func callToAServerThatNeverRepliesTimesOutOnTheDefaultRuntime() async throws {
        let runtime = Runtime()
        let server = try runtime.start(RuntimeProbe())
        await RuntimeExpect.throwsCode(.callTimeout) { try await server.call(timeout: .milliseconds(50)) { .hold($0) } }
        #expect(server.isAlive)
        // The late reply is dropped.
        let held = try await server.call(timeout: .seconds(30)) { .heldReplies($0) }
        #expect(held.count == 1)
        #expect(held.first?.send(1) == false)
        try await server.stop()
    }

    @Test(.timeLimit(.minutes(1)))
    func aCallToAServerWaitingForAWorkerDrainsItOnTheCallersThread() async throws {
        // The runtime's only worker is stuck in another server's handler, so a server made busy by casts waits in
        // the run queue: a call to it claims it and drains it itself, in order, instead of waiting for the worker.
        let (runtime, slowpoke, latch) = try await runtimeWithItsOnlyWorkerStuck()
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("first"))
        try server.cast(.note("second"))
        #expect(try await server.call(timeout: .seconds(30)) { .log($0) } == ["cast:first", "cast:second"])
        // The worker, once free, finds the server's run-queue entry claimed and leaves it alone; the server goes on.
        latch.open()
        try server.cast(.note("third"))
        #expect(try await server.call(timeout: .seconds(30)) { .log($0) } == ["cast:first", "cast:second", "cast:third"])
        try await slowpoke.stop(timeout: .seconds(30))
        try await server.stop(timeout: .seconds(30))
    }

    @Test(.timeLimit(.minutes(1)))
    func aCallThatDrainedOtherSendersMessagesSaysSoAndItsCallerYields() async throws {
        // A caller that handles only its own call goes straight on; one that drained messages ahead of its call
        // (other senders' work, other callers it woke) reports it, and `call` yields before returning so that the
        // callers it woke get a thread.
        let (runtime, slowpoke, latch) = try await runtimeWithItsOnlyWorkerStuck()
        let alone = try runtime.start(RuntimeProbe())
        let own = try alone.enqueueCall({ .log($0) }, timeout: .seconds(30))
        #expect(own.immediate != nil)
        #expect(own.drainedOthers == false)

        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("ahead"))
        let behind = try server.enqueueCall({ .log($0) }, timeout: .seconds(30))
        #expect(behind.drainedOthers)
        #expect(try behind.immediate?.get(as: [String].self) == ["cast:ahead"])
        #expect(try await server.call(timeout: .seconds(30)) { .log($0) } == ["cast:ahead"])
        latch.open()
        try await slowpoke.stop(timeout: .seconds(30))
        try await server.stop(timeout: .seconds(30))
        try await alone.stop(timeout: .seconds(30))
    }

    @Test(.timeLimit(.minutes(1)))
    func aCallerWatchesForTheReplyWhileAWorkerRunsTheServer() async throws {
        // A worker holds the server in a handler, so the call waits in the mailbox. Watching its reply cell with a
        // limit far beyond the test's own time limit ends only with the reply: the server stays running until then.
        // (Not giving way to the worker: it waits for the latch, and the test's thread may be on its processor.)
        let (server, latch) = try await slowpokeHeldInItsHandler(on: Runtime())
        let pending = try server.enqueueCall({ .ping($0) }, timeout: nil)
        #expect(pending.immediate == nil)
        Task.detached { latch.open() }
        let watched = server.core.watch(pending.slot.cell, for: .seconds(120), givesWay: false)
        #expect(watched < .seconds(120))
        #expect(try pending.slot.currentOutcome?.get(as: Int.self) == 1)
        #expect(try await pending.slot.wait() == 1)
        try await server.stop(timeout: .seconds(30))
    }

    @Test(.timeLimit(.minutes(1)))
    func aCallThatTimesOutWhileItsCallerWatchesNamesTheTimeoutItWasGiven() async throws {
        // A worker holds the server, so the call waits in the mailbox; its caller watches for the reply (on more
        // than one core) for at most the timeout, which passes while it watches. The error names the timeout the
        // caller gave, not what was left of it after the watch.
        let (server, latch) = try await slowpokeHeldInItsHandler(on: Runtime())
        let timeout = Duration.microseconds(1)
        do {
            _ = try await server.call(timeout: timeout) { .ping($0) }
            Issue.record("the call was answered while its server was held")
        } catch let error as StateServerError {
            #expect(error.code == .callTimeout)
            #expect(error.message.hasSuffix("within \(timeout)"))
        }
        latch.open()
        try await server.stop(timeout: .seconds(30))
    }

    @Test(.timeLimit(.minutes(1)))
    func watchingForADeferredReplyEndsOnceTheServerIsIdle() async throws {
        // The server keeps the call's reply for later and goes idle: a watcher stops at once instead of spinning to
        // its limit (here beyond the test's time limit).
        let runtime = Runtime()
        let server = try runtime.start(RuntimeProbe())
        let held = try server.enqueueCall({ .hold($0) }, timeout: nil)
        #expect(held.immediate == nil)
        let watched = server.core.watch(held.slot.cell, for: .seconds(120))
        #expect(watched < .seconds(120))
        #expect(held.slot.currentOutcome == nil)
        try server.cast(.release(5))
        #expect(try await held.slot.wait() == 5)
        try await server.stop(timeout: .seconds(30))
    }

    @Test(.timeLimit(.minutes(1)))
    func anExitObserverAddedWhileTheServerIsEndingIsToldAfterTheServersObserverSawTheExit() async throws {
        // `stop` queues its request, then adds an exit observer: the server may end in between. Such an observer is
        // told after the server's own observer has seen the exit, so a `stop` that returns has its exit traced.
        // Here the server's observer is held inside its `.exited` notification (the server already marked ended)
        // while an exit observer is added.
        let runtime = Runtime()
        let exiting = RuntimeGate()
        let latch = RuntimeBlockingLatch()
        let told = RuntimeRecording<String>()
        let options = ServerOptions<RuntimeProbe>(observer: { observation in
            guard case .exited = observation.event else { return }
            exiting.open()
            latch.wait()
            told.append("observer saw the exit")
        })
        let server = try runtime.start(RuntimeProbe(), options: options)
        try server.cast(.stop(.normal))
        await exiting.wait()
        server.core.onExit(token: IdentityCounter.next()) { _ in told.append("exit observer") }
        #expect(told.elements.isEmpty)
        latch.open()
        _ = try await server.waitForExit()
        #expect(told.elements == ["observer saw the exit", "exit observer"])
    }

    @Test(.timeLimit(.minutes(1)))
    func stopTimesOutWhileTheHandlerRunsAndTheServerEndsOnceItReturns() async throws {
        let (server, latch) = try await slowpokeHeldInItsHandler(on: Runtime())
        await RuntimeExpect.throwsCode(.stopTimeout) { try await server.stop(.shutdown, timeout: .milliseconds(50)) }
        #expect(server.isAlive)
        latch.open()
        #expect(RuntimeExpect.label(try await server.waitForExit()) == "shutdown")
    }
}
