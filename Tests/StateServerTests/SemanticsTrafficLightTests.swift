import Testing
import StateServer

// A traffic light driven only by state timeouts (otp-semantics §1.7: a state timeout set in a state-changing
// transition belongs to the new state; events in the same state do not cancel it).

/// Red 30 s → green 25 s → yellow 5 s → red, on state timeouts alone. With `usesEnterCalls`, each state's enter
/// call sets its timeout; otherwise the transition into the state does.
struct CrossingLight: StateMachine {
    enum State: String, Hashable, Sendable { case red, green, yellow }
    enum Call: Sendable { case color(Reply<State>) }
    enum Cast: Sendable { case walkButtonPressed, carPassed }

    let usesEnterCalls: Bool
    var callsStateEnter: Bool { usesEnterCalls }

    static func duration(of state: State) -> Duration {
        switch state {
        case .red: .seconds(30)
        case .green: .seconds(25)
        case .yellow: .seconds(5)
        }
    }

    func start() -> Start<Self> {
        usesEnterCalls ? .ok(.red, data: ()) : .ok(.red, .stateTimeout(Self.duration(of: .red)))
    }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch (state, event) {
        case (_, .enter): .keep(.stateTimeout(Self.duration(of: state)))
        case (_, .call(.color(let reply))): .keep(.reply(reply, state))
        case (.red, .stateTimeout): turn(.green)
        case (.green, .stateTimeout), (.green, .cast(.walkButtonPressed)): turn(.yellow)
        case (.yellow, .stateTimeout): turn(.red)
        default: .keep
        }
    }

    private func turn(_ next: State) -> Transition<Self> {
        usesEnterCalls ? .goto(next) : .goto(next, .stateTimeout(Self.duration(of: next)))
    }
}

@Suite("Semantics: traffic light on state timeouts")
struct SemanticsTrafficLightTests {
    /// Starts a light whose transitions are recorded as "<time> <from>-><to>".
    private static func startLight(
        usesEnterCalls: Bool, on runtime: Runtime
    ) throws -> (Server<CrossingLight>, EventLog) {
        let transitions = EventLog()
        let light = try runtime.start(
            CrossingLight(usesEnterCalls: usesEnterCalls),
            options: ServerOptions(observer: { observation in
                if case .transition(let from, let to) = observation.event {
                    transitions.append("\(observation.time.testLabel) \(from.rawValue)->\(to.rawValue)")
                }
            }))
        return (light, transitions)
    }

    @Test(arguments: [false, true])
    func trafficLightCyclesThroughItsColorsOnStateTimeoutsAlone(usesEnterCalls: Bool) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let (light, transitions) = try Self.startLight(usesEnterCalls: usesEnterCalls, on: runtime)
        #expect(try await light.call { .color($0) } == .red)

        var expected: [String] = []
        var now = RuntimeInstant.zero
        var color = CrossingLight.State.red
        for _ in 0..<3 {
            for next in [CrossingLight.State.green, .yellow, .red] {
                let deadline = now + CrossingLight.duration(of: color)
                #expect(clock.nextDeadline == deadline)
                #expect(clock.armedTimerCount == 1)
                clock.advance(to: deadline + .milliseconds(-1))
                #expect(try await light.call { .color($0) } == color, "still \(color) just before \(deadline)")
                clock.advance(to: deadline)
                #expect(try await light.call { .color($0) } == next, "\(next) at \(deadline)")
                expected.append("\(deadline.testLabel) \(color.rawValue)->\(next.rawValue)")
                #expect(transitions.entries == expected)
                now = deadline
                color = next
            }
        }
        #expect(clock.now == .zero + .seconds(180))
        #expect(transitions.entries == [
            "30s red->green", "55s green->yellow", "60s yellow->red",
            "90s red->green", "115s green->yellow", "120s yellow->red",
            "150s red->green", "175s green->yellow", "180s yellow->red",
        ])
    }

    @Test func eventsInTheSameStateDoNotDelayTheLight() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let (light, transitions) = try Self.startLight(usesEnterCalls: false, on: runtime)
        clock.advance(by: .seconds(31))
        for _ in 0..<5 {
            try light.cast(.carPassed)
            _ = try await light.call { .color($0) }
            clock.advance(by: .seconds(4))
        }
        clock.advance(to: .zero + .seconds(60))
        #expect(transitions.entries == ["30s red->green", "55s green->yellow", "60s yellow->red"])
    }

    @Test(arguments: [false, true])
    func theWalkButtonEndsGreenEarlyAndTheCycleContinuesFromThere(usesEnterCalls: Bool) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let (light, transitions) = try Self.startLight(usesEnterCalls: usesEnterCalls, on: runtime)
        try light.cast(.walkButtonPressed)  // red: ignored
        clock.advance(by: .seconds(40))
        try light.cast(.walkButtonPressed)  // green since 30 s: yellow now
        #expect(try await light.call { .color($0) } == .yellow)
        clock.advance(by: .seconds(60))
        #expect(transitions.entries == [
            "30s red->green", "40s green->yellow", "45s yellow->red", "75s red->green", "100s green->yellow",
        ])
    }
}
