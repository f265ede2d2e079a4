import Machines

/// A machine the tool can run: how to start it and how to turn typed words into its messages.
struct CatalogEntry: Sendable {
    let name: String
    let summary: String
    /// The words accepted as events, with what each does.
    let events: [(name: String, summary: String)]
    /// Starts the machine on `runtime` (durations divided by `speed`), printing its trace with `trace`,
    /// and returns a session to feed it events.
    let start: @Sendable (Runtime, Double, @escaping @Sendable (String) -> Void) throws -> any MachineSession
}

/// A running machine driven by the tool.
protocol MachineSession: Sendable {
    /// Sends the event named `name`; returns a line to print (a reply), or throws `UsageError` for an unknown word.
    func send(_ name: String) async throws -> String?
    /// A one-line description of the state, printed after each step in interactive mode.
    func describeState() async throws -> String
    /// Stops the machine.
    func stop() async throws
}

enum Catalog {
    static let entries: [CatalogEntry] = [trafficLight]

    static func entry(named name: String) -> CatalogEntry? { entries.first { $0.name == name } }

    static let trafficLight = CatalogEntry(
        name: "traffic-light",
        summary: "red → green → yellow on state timeouts; walk button shortens green; fault → flashing",
        events: [
            ("walk", "press the walk button (green ends within 5 s)"),
            ("fault", "report a fault: the light flashes until reset"),
            ("reset", "clear the fault: restart at red"),
            ("state", "ask for the current state (a call)"),
        ],
        start: { runtime, speed, trace in
            let configuration = TrafficLight.Configuration().speeded(up: speed)
            let light = try runtime.start(
                TrafficLight(configuration: configuration),
                options: ServerOptions(observer: { observation in
                    trace(Trace.line(observation.time, observation.event))
                }))
            return TrafficLightSession(light: light)
        })
}

struct TrafficLightSession: MachineSession {
    let light: Server<TrafficLight>

    func send(_ name: String) async throws -> String? {
        switch name {
        case "walk": try light.cast(.walkButtonPressed)
        case "fault": try light.cast(.fault)
        case "reset": try light.cast(.reset)
        case "state": return "state: \(try await light.call { .currentState($0) })"
        default: throw UsageError("unknown event '\(name)' for traffic-light", help: "Events: walk, fault, reset, state")
        }
        return nil
    }

    func describeState() async throws -> String {
        "state: \(try await light.call { .currentState($0) })"
    }

    func stop() async throws { try await light.stop() }
}

enum Trace {
    /// `t=30.000s   red → green`, the time padded so events line up.
    static func line(_ time: RuntimeInstant, _ event: some CustomStringConvertible) -> String {
        let stamp = time.description
        return stamp + String(repeating: " ", count: max(2, 13 - stamp.count)) + event.description
    }
}
