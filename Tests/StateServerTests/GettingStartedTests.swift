import GettingStartedDoor
import StateServer
import Testing

@Suite struct GettingStartedTests {
    let clock = ManualClock()
    let door: Server<Door>

    init() throws {
        door = try Runtime(clock: clock).start(Door(code: "1234"))
    }

    @Test func wrongCodeKeepsTheDoorLocked() async throws {
        let result = try await door.call { .unlock(code: "0000", $0) }
        #expect(throws: Door.UnlockError.wrongCode) { try result.get() }
        #expect(try await door.call { .currentState($0) } == .locked)
    }

    @Test func rightCodeUnlocksTheDoor() async throws {
        try await door.call { .unlock(code: "1234", $0) }.get()
        #expect(try await door.call { .currentState($0) } == .closed)
    }

    @Test func unlockingAnUnlockedDoorIsRefused() async throws {
        try await door.call { .unlock(code: "1234", $0) }.get()
        let again = try await door.call { .unlock(code: "1234", $0) }
        #expect(throws: Door.UnlockError.notLocked) { try again.get() }
    }

    @Test func closedDoorRelocksAfterTenSeconds() async throws {
        try await door.call { .unlock(code: "1234", $0) }.get()
        clock.advance(by: .seconds(9))
        #expect(try await door.call { .currentState($0) } == .closed)
        clock.advance(by: .seconds(1))
        #expect(try await door.call { .currentState($0) } == .locked)
    }

    @Test func openDoorNeverRelocks() async throws {
        try await door.call { .unlock(code: "1234", $0) }.get()
        try door.cast(.open)
        clock.advance(by: .seconds(60))
        #expect(try await door.call { .currentState($0) } == .open)
    }

    @Test func demoPrintsTheGuideOutput() async throws {
        let demoClock = ManualClock()
        var lines: [String] = []
        try await runDoorDemo(runtime: Runtime(clock: demoClock), clock: demoClock) { lines.append($0) }
        #expect(lines == [
            "t=0.000s: locked (started)",
            "t=0.000s: locked (code 0000 refused: wrongCode)",
            "t=0.000s: closed (code 1234 accepted)",
            "t=0.000s: open (opened)",
            "t=30.000s: open (an open door never relocks)",
            "t=30.000s: closed (closed again)",
            "t=39.000s: closed (9 s after closing)",
            "t=40.000s: locked (10 s after closing: relocked)",
        ])
    }
}
