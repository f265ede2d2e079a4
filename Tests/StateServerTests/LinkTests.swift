import Synchronization
import Testing
import StateServer

private struct Worker: StateMachine {
    enum State: Hashable, Sendable { case running }
    enum Cast: Sendable { case crash }
    struct Boom: Error {}
    let log: LinkLog?
    func start() -> Start<Self> { .ok(.running, data: ()) }
    func handle(_ event: Event<Self>, in state: State, data: inout Void) throws -> Transition<Self> {
        switch event {
        case .cast(.crash): throw Boom()
        case .exit(let server, let reason): log?.append("exit from \(server): \(reason)"); return .keep
        default: return .keep
        }
    }
    func terminate(reason: ExitReason, state: State, data: Void) {
        log?.append("terminate \(reason)")
    }
}

private final class LinkLog: Sendable {
    let lines = Locked<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite struct LinkTests {
    @Test func killEndsTheServerWithoutTerminate() async throws {
        let runtime = Runtime(clock: ManualClock())
        let log = LinkLog()
        let worker = try runtime.start(Worker(log: log))
        worker.kill()
        #expect(!worker.isAlive)
        guard case .killed? = worker.exitReason else { Issue.record("expected killed, got \(String(describing: worker.exitReason))"); return }
        #expect(log.all.isEmpty)
    }

    @Test func abnormalExitOfALinkedServerEndsTheOtherAtOnceWithTheSameReasonWithoutTerminate() async throws {
        let runtime = Runtime(clock: ManualClock())
        let log = LinkLog()
        let first = try runtime.start(Worker(log: nil))
        let second = try runtime.start(Worker(log: log))
        first.link(second)
        try first.cast(.crash)
        #expect(!second.isAlive)
        guard case .error(let error)? = second.exitReason else { Issue.record("expected error exit"); return }
        #expect(error is Worker.Boom)
        // An exit signal, as in OTP: a process that does not trap exits dies without running terminate.
        #expect(log.all.isEmpty)
    }

    @Test func normalExitOfALinkedServerIsIgnoredUnlessTrapped() async throws {
        let runtime = Runtime(clock: ManualClock())
        let log = LinkLog()
        let first = try runtime.start(Worker(log: nil))
        let bystander = try runtime.start(Worker(log: nil))
        let trapper = try runtime.start(Worker(log: log), options: ServerOptions(trapsExits: true))
        first.link(bystander)
        first.link(trapper)
        try await first.stop()
        #expect(bystander.isAlive)
        #expect(trapper.isAlive)
        #expect(log.all == ["exit from \(first.id): normal"])
    }

    @Test func unlinkedServersAreNotTold() async throws {
        let runtime = Runtime(clock: ManualClock())
        let first = try runtime.start(Worker(log: nil))
        let second = try runtime.start(Worker(log: nil))
        let link = first.link(second)
        first.unlink(link)
        try first.cast(.crash)
        #expect(second.isAlive)
    }
}
