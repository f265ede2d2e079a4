import Testing
@testable import StateServer

/// A machine that records the `.down` events it receives.
private struct RuntimeWatcher: StateMachine {
    enum State: Hashable, Sendable { case watching }
    struct Down: Hashable, Sendable {
        var reference: MonitorReference
        var reason: String
    }
    typealias Data = [Down]
    enum Call: Sendable { case downs(Reply<[Down]>) }
    enum Cast: Sendable { case filler }

    func start() -> Start<Self> { .ok(.watching, data: []) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch event {
        case .down(let reference, let reason):
            data.append(Down(reference: reference, reason: RuntimeExpect.label(reason)))
            return .keep
        case .call(.downs(let reply)):
            return .keep(.reply(reply, data))
        default:
            return .keep
        }
    }
}

/// Monitors: a watcher server gets `.down(reference, reason)`; a closure monitor gets the reason.
@Suite struct RuntimeMonitorTests {
    @Test func monitorByAWatcherDeliversDownWithTheExitReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        let reference = target.monitor(by: watcher)
        #expect(try await watcher.call { .downs($0) } == [])
        try await target.stop(.shutdown("retired"))
        #expect(try await watcher.call { .downs($0) } == [.init(reference: reference, reason: "shutdown(retired)")])
    }

    @Test func monitorByAWatcherDeliversTheCrashReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        let reference = target.monitor(by: watcher)
        try target.cast(.crash("boom"))
        #expect(try await watcher.call { .downs($0) } == [.init(reference: reference, reason: "error(boom)")])
    }

    @Test func eachMonitorOfOneServerDeliversItsOwnReference() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        let first = target.monitor(by: watcher)
        let second = target.monitor(by: watcher)
        #expect(first != second)
        try await target.stop()
        let downs = try await watcher.call { .downs($0) }
        #expect(Set(downs) == [.init(reference: first, reason: "normal"), .init(reference: second, reason: "normal")])
    }

    @Test func monitoringAnEndedServerDeliversDownAtOnceWithItsReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        try await target.stop(.shutdown("earlier"))
        let reference = target.monitor(by: watcher)
        #expect(try await watcher.call { .downs($0) } == [.init(reference: reference, reason: "shutdown(earlier)")])
    }

    @Test func demonitorPreventsDelivery() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        let reference = target.monitor(by: watcher)
        #expect(target.demonitor(reference))
        #expect(!target.demonitor(reference))
        try await target.stop()
        #expect(try await watcher.call { .downs($0) } == [])
    }

    @Test func demonitorAfterTheMonitorFiredReturnsFalse() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher())
        let target = try runtime.start(RuntimeProbe())
        let reference = target.monitor(by: watcher)
        try await target.stop()
        #expect(!target.demonitor(reference))
        #expect(try await watcher.call { .downs($0) }.count == 1)
    }

    @Test func downReachesAWatcherWhoseBoundedMailboxIsFull() async throws {
        let runtime = Runtime(clock: ManualClock())
        let watcher = try runtime.start(RuntimeWatcher(), options: ServerOptions(mailboxCapacity: 1))
        let target = try runtime.start(RuntimeProbe())
        let reference = target.monitor(by: watcher)
        try await watcher.suspend()
        try watcher.cast(.filler)
        try await target.stop()
        #expect(try await watcher.status().queuedMessages == 2)
        try await watcher.resume()
        #expect(try await watcher.call { .downs($0) } == [.init(reference: reference, reason: "normal")])
    }

    @Test func closureMonitorIsCalledOnceWithTheExitReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let target = try runtime.start(RuntimeProbe())
        let reasons = RuntimeRecording<String>()
        target.monitor { reasons.append(RuntimeExpect.label($0)) }
        #expect(reasons.elements == [])
        try target.cast(.crash("late"))
        #expect(reasons.elements == ["error(late)"])
    }

    @Test func closureMonitorOfAnEndedServerRunsAtOnce() async throws {
        let runtime = Runtime(clock: ManualClock())
        let target = try runtime.start(RuntimeProbe())
        try await target.stop(.shutdown)
        let reasons = RuntimeRecording<String>()
        target.monitor { reasons.append(RuntimeExpect.label($0)) }
        #expect(reasons.elements == ["shutdown"])
    }

    @Test func removedClosureMonitorIsNotCalled() async throws {
        let runtime = Runtime(clock: ManualClock())
        let target = try runtime.start(RuntimeProbe())
        let reasons = RuntimeRecording<String>()
        let reference = target.monitor { reasons.append(RuntimeExpect.label($0)) }
        #expect(target.demonitor(reference))
        try await target.stop()
        #expect(reasons.elements == [])
    }
}
