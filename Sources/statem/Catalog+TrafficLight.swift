import Machines

extension CatalogEntry {
    static let trafficLight = CatalogEntry.machine(
        name: "traffic-light",
        summary: "red → green → yellow on state timeouts; walk button shortens green; fault → flashing",
        words: [
            .cast("walk", "press the walk button (green ends within 5 s)", .walkButtonPressed),
            .cast("fault", "report a fault: the light flashes until reset", .fault),
            .cast("reset", "clear the fault: restart at red", .reset),
            .call("state", "ask for the current state (a call)") { .currentState($0) },
            .call("cycles", "ask how many full cycles have completed (a call)") { .completedCycles($0) },
        ],
        make: { speed in TrafficLight(configuration: TrafficLight.Configuration().speeded(up: speed)) })
}
