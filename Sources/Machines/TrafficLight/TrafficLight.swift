/// A traffic light: a timed cycle red → green → yellow → red driven by state timeouts, a walk button that
/// shortens green, and a fault mode that blinks the yellow lamp until reset.
///
/// ```swift
/// let light = try runtime.start(TrafficLight())
/// try light.cast(.walkButtonPressed)
/// let color = try await light.call { .currentState($0) }
/// ```
///
/// The light is a ``TableMachine``: its logic is ``table``, which `statem diagram traffic-light` draws.
///
/// - Each color is a state with a timeout cell (``Configuration/red``, ``Configuration/green``,
///   ``Configuration/yellow``); a completed yellow counts a cycle.
/// - The first ``Cast/walkButtonPressed`` in green arms the named timeout ``Timer/walk``, so green ends at the
///   latest ``Configuration/walkGreen`` later (or earlier, at its own timeout). Further presses change nothing;
///   presses in other states are ignored.
/// - ``Cast/fault`` from any state goes to ``State/flashing``, where the named timeout ``Timer/blink`` toggles
///   ``Data/isLampLit`` every ``Configuration/blink``, until ``Cast/reset`` restarts the cycle at red.
///
/// Concurrency: a `Sendable` value; each server runs its handler one event at a time.
public struct TrafficLight: TableMachine {
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
    public enum Cast: Hashable, Sendable, CaseIterable {
        /// A pedestrian pressed the walk button: green ends after at most ``Configuration/walkGreen``.
        case walkButtonPressed
        /// A fault was detected: go to ``State/flashing``.
        case fault
        /// The fault was cleared: restart the cycle at red.
        case reset
    }

    /// Named timeouts.
    public enum Timer: Hashable, Sendable, CaseIterable {
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

        /// Creates data; the defaults are the light's data at start.
        public init(cycles: Int = 0, isWalkRequested: Bool = false, isLampLit: Bool = false) {
            self.cycles = cycles
            self.isWalkRequested = isWalkRequested
            self.isLampLit = isLampLit
        }
    }

    /// How long each phase lasts.
    public struct Configuration: Hashable, Sendable {
        /// Time in red.
        public var red: Duration
        /// Time in green without a walk request.
        public var green: Duration
        /// Time in yellow.
        public var yellow: Duration
        /// The most green lasts after the walk button is pressed.
        public var walkGreen: Duration
        /// Half a blink period while flashing: the lamp toggles this often.
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

    /// Starts with no completed cycle, no walk request and the lamp off.
    public func initialData() -> Data { Data() }

    /// The table depends on the durations: one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }

    /// The light's transitions (drawn in `Docs/Machines/TrafficLight.md`).
    public var table: TransitionTable<Self> {
        let walkGreen = configuration.walkGreen
        let blink = configuration.blink
        When(.red, timeout: configuration.red) {
            On(.stateTimeout, goto: .green)
            Self.answersCurrentState(.red)
        }
        When(.green, timeout: configuration.green) {
            On(.stateTimeout, goto: .yellow)
            On(timeout: .walk, goto: .yellow)
            On(cast: .walkButtonPressed)
                .guard("isFirstPress") { data in !data.isWalkRequested }
                .action("armWalk") { data in
                    data.isWalkRequested = true
                    return [.timeout(.walk, walkGreen)]
                }
            Self.answersCurrentState(.green)
        }
        .onExit("clearWalk") { data in
            data.isWalkRequested = false
            return [.cancelTimeout(.walk)]
        }
        When(.yellow, timeout: configuration.yellow) {
            On(.stateTimeout, goto: .red).action("countCycle") { data in data.cycles += 1 }
            Self.answersCurrentState(.yellow)
        }
        When(.flashing) {
            On(timeout: .blink).action("toggleLamp") { data in
                data.isLampLit.toggle()
                return [.timeout(.blink, blink)]
            }
            On(cast: .reset, goto: .red)
            Self.answersCurrentState(.flashing)
        }
        .onEnter("startBlinking") { data in
            data.isLampLit = true
            return [.timeout(.blink, blink)]
        }
        .onExit("stopBlinking") { data in
            data.isLampLit = false
            return [.cancelTimeout(.blink)]
        }
        Always {
            On(cast: .fault, goto: .flashing)
            On(call: "completedCycles", match: { if case .completedCycles(let reply) = $0 { reply } else { nil } },
               reply: { data in data.cycles })
        }
    }

    /// The row answering ``Call/currentState(_:)`` in `state` (a reply can't read the state, so each state has
    /// its own row).
    static func answersCurrentState(_ state: State) -> On<Self, Void> {
        On(call: "currentState", match: { if case .currentState(let reply) = $0 { reply } else { nil } },
           reply: { _ in state })
    }
}
