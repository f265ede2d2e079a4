import Testing
@testable import StateServer

/// An armed timer keeps its server alive, as a pending message would, and lets go of it once it fired or was
/// cancelled; the state timer's node is the server's own object, so this is also what frees a timed-out server.
@Suite struct RuntimeTimerLifetimeTests {
    /// Waits in `waiting` for its state timeout (or a `leave` cast), recording each timeout.
    private struct Waiter: StateMachine {
        enum State: Hashable, Sendable { case waiting, done }
        enum Cast: Sendable { case leave }
        let timeouts: RuntimeRecording<String>

        func start() -> Start<Self> { .ok(.waiting, .stateTimeout(.seconds(1))) }

        func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
            switch event {
            case .stateTimeout:
                timeouts.append("state timeout in \(state)")
                return .goto(.done)
            case .cast(.leave):
                return .goto(.done)
            default:
                return .keep
            }
        }
    }

    @Test func anArmedStateTimeoutKeepsAServerWithoutHandlesAliveUntilItFires() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let timeouts = RuntimeRecording<String>()
        weak var core: ServerCore<Waiter>?
        do {
            let server = try runtime.start(Waiter(timeouts: timeouts))
            core = server.core
            #expect(server.core.existingTimerNode(for: .state) === server.core)
        }
        #expect(core != nil)
        clock.advance(by: .milliseconds(999))
        #expect(timeouts.elements.isEmpty)
        #expect(core != nil)
        clock.advance(by: .milliseconds(1))
        #expect(timeouts.elements == ["state timeout in waiting"])
        #expect(core == nil)
    }

    @Test func aStateChangeThatCancelsTheStateTimeoutLetsGoOfTheServer() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let timeouts = RuntimeRecording<String>()
        weak var core: ServerCore<Waiter>?
        do {
            let server = try runtime.start(Waiter(timeouts: timeouts))
            core = server.core
            try server.cast(.leave)
        }
        #expect(core == nil)
        clock.runAllTimers()
        #expect(clock.armedTimerCount == 0)
        #expect(timeouts.elements.isEmpty)
    }

    @Test func aStoppedServerWithAnArmedStateTimeoutIsFreedAndTheTimeoutNeverFires() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let timeouts = RuntimeRecording<String>()
        weak var core: ServerCore<Waiter>?
        do {
            let server = try runtime.start(Waiter(timeouts: timeouts))
            core = server.core
            try await server.stop()
        }
        #expect(core == nil)
        clock.runAllTimers()
        #expect(clock.armedTimerCount == 0)
        #expect(timeouts.elements.isEmpty)
    }
}
