/// A traffic light: a timed cycle red → green → yellow → red driven only by state timeouts, a walk button that
/// shortens green, and a fault mode that flashes yellow until reset.
///
/// ```swift
/// let light = try runtime.start(TrafficLight())
/// try light.cast(.walkButtonPressed)
/// let color = try await light.call { .currentState($0) }
/// ```
public struct TrafficLight: StateMachine {
    /// The light's states.
    public enum State: Hashable, Sendable, CaseIterable {
        /// Stop.
        case red
        /// Go.
        case green
        /// Prepare to stop.
        case yellow
        /// Out of order: the yellow lamp blinks until ``Cast/reset``.
        case flashing
    }

    /// Requests with replies.
    public enum Call: Sendable {
        /// The current state.
        case currentState(Reply<State>)
        /// How many full red → green → yellow cycles have completed.
        case completedCycles(Reply<Int>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// A pedestrian pressed the walk button: green ends after at most ``Configuration/walkGreen``.
        case walkButtonPressed
        /// A fault was detected: go to ``State/flashing``.
        case fault
        /// The fault was cleared: restart the cycle at red.
        case reset
    }

    /// Named timeouts.
    public enum Timer: Hashable, Sendable {
        /// Ends green early after the walk button.
        case walk
        /// Toggles the lamp while flashing.
        case blink
    }

    /// The light's data.
    public struct Data: Sendable, Equatable {
        /// Completed cycles.
        public var cycles = 0
        /// Whether a walk request is pending in green.
        public var isWalkRequested = false
        /// While flashing: whether the yellow lamp is lit.
        public var isLampLit = false
    }

    /// How long each phase lasts.
    public struct Configuration: Sendable {
        /// Time in red.
        public var red: Duration
        /// Time in green without a walk request.
        public var green: Duration
        /// Time in yellow.
        public var yellow: Duration
        /// The most green lasts after the walk button is pressed.
        public var walkGreen: Duration
        /// Half a blink period while flashing.
        public var blink: Duration

        /// Creates a configuration; the defaults are 30 s red, 25 s green, 5 s yellow, 5 s after walk, 0.5 s blink.
        public init(
            red: Duration = .seconds(30), green: Duration = .seconds(25), yellow: Duration = .seconds(5),
            walkGreen: Duration = .seconds(5), blink: Duration = .milliseconds(500)
        ) {
            self.red = red
            self.green = green
            self.yellow = yellow
            self.walkGreen = walkGreen
            self.blink = blink
        }

        /// Every duration divided by `factor` (for watching the light in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            func scale(_ duration: Duration) -> Duration { duration / factor }
            return Configuration(
                red: scale(red), green: scale(green), yellow: scale(yellow), walkGreen: scale(walkGreen),
                blink: scale(blink))
        }
    }

    /// The phase durations.
    public var configuration: Configuration

    /// Creates a light with `configuration`.
    public init(configuration: Configuration = Configuration()) { self.configuration = configuration }

    /// Starts in red with its state timeout armed.
    public func start() -> Start<Self> {
        .ok(.red, data: Data(), .stateTimeout(.after(configuration.red)))
    }

    /// The light's transitions.
    public func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch (state, event) {
        case (_, .call(.currentState(let reply))):
            return .keep(.reply(reply, state))
        case (_, .call(.completedCycles(let reply))):
            return .keep(.reply(reply, data.cycles))
        case (.flashing, .cast(.reset)):
            data.isLampLit = false
            return .goto(.red, .cancelTimeout(.blink), .stateTimeout(.after(configuration.red)))
        case (.flashing, .timeout(.blink, _)):
            data.isLampLit.toggle()
            return .keep(.timeout(.blink, .after(configuration.blink)))
        case (.flashing, _):
            return .keep
        case (_, .cast(.fault)):
            data.isWalkRequested = false
            data.isLampLit = true
            return .goto(.flashing, .cancelTimeout(.walk), .timeout(.blink, .after(configuration.blink)))
        case (.red, .stateTimeout):
            return .goto(.green, .stateTimeout(.after(configuration.green)))
        case (.green, .cast(.walkButtonPressed)) where !data.isWalkRequested:
            data.isWalkRequested = true
            return .keep(.timeout(.walk, .after(configuration.walkGreen)))
        case (.green, .stateTimeout), (.green, .timeout(.walk, _)):
            data.isWalkRequested = false
            return .goto(.yellow, .cancelTimeout(.walk), .stateTimeout(.after(configuration.yellow)))
        case (.yellow, .stateTimeout):
            data.cycles += 1
            return .goto(.red, .stateTimeout(.after(configuration.red)))
        default:
            return .keep
        }
    }
}
