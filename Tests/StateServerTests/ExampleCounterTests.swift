import ClassicServers
import StateServer
import Testing

@Suite struct ExampleCounterTests {
    let runtime = Runtime(clock: ManualClock())

    @Test func demoPrintsItsOutput() async throws {
        var lines: [String] = []
        try await runCounterDemo(runtime: runtime) { lines.append($0) }
        #expect(lines == [
            "increment -> 1",
            "increment -> 2",
            "increment -> 3",
            "value -> 3",
            "reset",
            "value -> 0",
            "increment -> 1",
            "stopped: normal",
        ])
    }

    @Test func incrementCountsFromTheInitialValue() async throws {
        let counter = try runtime.start(Counter(initialValue: 10))
        #expect(try await counter.increment() == 11)
        #expect(try await counter.increment() == 12)
        #expect(try await counter.value() == 12)
    }

    @Test func resetIsACastHandledInOrder() async throws {
        let counter = try runtime.start(Counter())
        _ = try await counter.increment()
        try counter.reset()
        #expect(try await counter.value() == 0)
    }
}
