import Testing
@testable import StateServer

/// A step's commands go into stack room and spill to the heap past ``EngineOutput/inlineCommands``; none is lost,
/// reordered or performed twice, whether they fill the room, overflow it once or several times.
@Suite struct RuntimeCommandBufferTests {
    /// On `fan(n)`, arms `n` named timeouts and sends itself `n` delayed messages in one transition (2n commands, and
    /// the state change, which is not a command), with deadlines that interleave them; it records everything it
    /// receives.
    private struct Fan: StateMachine {
        enum State: Hashable, Sendable { case idle, fanned }
        enum Cast: Sendable { case fan(Int) }
        typealias Info = String
        typealias Timer = Int
        typealias Timeout = String
        let received: RuntimeRecording<String>

        func start() -> Start<Self> { .ok(.idle) }

        func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
            switch event {
            case .cast(.fan(let count)):
                var actions: [Action<Self>] = []
                for index in 0..<count {
                    actions.append(.timeout(index, .after(.milliseconds(2 * index + 1)), "timeout \(index)"))
                    actions.append(.send("message \(index)", after: .milliseconds(2 * index + 2)))
                }
                return .goto(.fanned, actions: actions)
            case .timeout(_, let content), .info(let content):
                received.append(content)
                return .keep
            default:
                return .keep
            }
        }
    }

    /// 3, 7 (fits the room), 9 (spills once) and 41 commands (spills three times).
    @Test(arguments: [1, EngineOutput<Fan>.inlineCommands / 2 - 1, EngineOutput<Fan>.inlineCommands / 2, 20])
    func everyCommandOfAStepIsPerformedOnceInOrder(count: Int) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let received = RuntimeRecording<String>()
        let server = try runtime.start(Fan(received: received))
        try server.cast(.fan(count))
        #expect(clock.armedTimerCount == 2 * count)
        clock.advance(by: .milliseconds(2 * count))
        let expected = (0..<count).flatMap { ["timeout \($0)", "message \($0)"] }
        #expect(received.elements == expected)
        #expect(clock.armedTimerCount == 0)
    }
}
