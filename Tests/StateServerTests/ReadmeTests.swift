import Testing
import StateServer

// The README's code, verbatim, so the front page never rots.

private struct TrafficLight: StateMachine {
    enum State: Hashable, Sendable { case red, green, yellow }
    enum Call: Sendable { case color(Reply<State>) }
    enum Cast: Sendable { case walkButtonPressed }

    func start() -> Start<Self> { .ok(.red, .stateTimeout(.seconds(30))) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch (state, event) {
        case (_, .call(.color(let reply))):          return .keep(.reply(reply, state))
        case (.red, .stateTimeout):                  return .goto(.green, .stateTimeout(.seconds(25)))
        case (.green, .stateTimeout),
             (.green, .cast(.walkButtonPressed)):    return .goto(.yellow, .stateTimeout(.seconds(5)))
        case (.yellow, .stateTimeout):               return .goto(.red, .stateTimeout(.seconds(30)))
        default:                                     return .keep
        }
    }
}

@Suite struct ReadmeTests {
    @Test func readmeLightRunsOnTheSharedRuntime() async throws {
        // In a service: the default runtime, real time.
        let light = try Runtime.shared.start(TrafficLight())
        try light.cast(.walkButtonPressed)
        let color = try await light.call { .color($0) }      // typed: State
        #expect(color == .red)
        try await light.stop()
    }

    @Test func readmeLightChangesColorInVirtualTime() async throws {
        // In a test: virtual time.
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let testLight = try runtime.start(TrafficLight())
        clock.advance(by: .seconds(30))                      // red → green, handled before this returns
        #expect(try await testLight.call { .color($0) } == .green)
    }
}
