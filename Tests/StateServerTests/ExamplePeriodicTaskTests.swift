import ClassicServers
import StateServer
import Testing

@Suite struct ExamplePeriodicTaskTests {
    let clock = ManualClock()
    let runtime: Runtime
    let task: Server<PeriodicTask>

    init() throws {
        runtime = Runtime(clock: clock)
        task = try runtime.start(PeriodicTask(every: .seconds(2)))
    }

    private func count() async throws -> Int { try await task.call { .count($0) } }

    @Test func demoPrintsItsOutput() async throws {
        let demoClock = ManualClock()
        var lines: [String] = []
        try await runPeriodicTaskDemo(runtime: Runtime(clock: demoClock), clock: demoClock) { lines.append($0) }
        #expect(lines == [
            "t=0.000s: started, ticking every second",
            "t=3.500s: count -> 3",
            "t=3.500s: cancel -> true",
            "t=8.500s: count -> 3",
            "t=8.500s: cancel -> false",
        ])
    }

    @Test(arguments: [1, 2, 5, 100])
    func itTicksOncePerInterval(intervals: Int) async throws {
        clock.advance(by: .seconds(2 * intervals) - .nanoseconds(1))
        #expect(try await count() == intervals - 1)
        clock.advance(by: .nanoseconds(1))
        #expect(try await count() == intervals)
    }

    @Test func cancelStopsTheTicksAndDisarmsTheTimer() async throws {
        clock.advance(by: .seconds(3))
        #expect(try await task.call { .cancel($0) })
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(60))
        #expect(try await count() == 1)
        #expect(try await task.getState().data.isRunning == false)
    }

    @Test func callsBetweenTicksDoNotShiftTheSchedule() async throws {
        clock.advance(by: .seconds(1))
        _ = try await count()
        clock.advance(by: .seconds(1))
        #expect(try await count() == 1)
        #expect(clock.nextDeadline == RuntimeInstant.zero + .seconds(4))
    }
}
