import Testing
import StateServer

// otp-semantics §1.2 as far as the engine decides it: start outcomes, and the start actions executed as a
// transition into the initial state (postpone ignored, inserted events after the initial enter call, timeouts
// belonging to the initial state).

@Suite("Semantics: start")
struct SemanticsStartTests {
    @Test func startReturningIgnoreThrowsIgnoredAndRunsNothing() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        #expect {
            _ = try runtime.start(Probe(log: log, enter: true, start: { .ignore }) { _, _, _ in .keep })
        } throws: { error in
            (error as? StateServerError)?.code == .ignored
        }
        #expect(log.entries.isEmpty)
    }

    @Test func startReturningStopThrowsStartFailedWithTheReason() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        #expect {
            _ = try runtime.start(Probe(log: log, start: { .stop(.shutdown("no config")) }) { _, _, _ in .keep })
        } throws: { error in
            guard let error = error as? StateServerError else { return false }
            return error.code == .startFailed && error.exitReason?.label == "shutdown(no config)"
        }
        #expect(log.entries.isEmpty)
    }

    @Test func startReturningErrorThrowsStartFailedWithTheError() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        #expect {
            _ = try runtime.start(Probe(log: log, start: { .error(Boom("quiet")) }) { _, _, _ in .keep })
        } throws: { error in
            guard let error = error as? StateServerError else { return false }
            return error.code == .startFailed && error.exitReason?.thrownError as? Boom == Boom("quiet")
        }
        #expect(log.entries.isEmpty)
    }

    @Test func startThrowingThrowsStartFailedWithTheThrownError() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        #expect {
            _ = try runtime.start(Probe(log: log, start: { throw Boom("thrown") }) { _, _, _ in .keep })
        } throws: { error in
            guard let error = error as? StateServerError else { return false }
            return error.code == .startFailed && error.exitReason?.thrownError as? Boom == Boom("thrown")
        }
        #expect(log.entries.isEmpty)
    }

    @Test func postponeAmongStartActionsIsIgnored() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: { .ok("a", data: ProbeData(), .postpone, .next("first")) }
        ) { event, state, _ in
            if state == "a", case .cast("go") = event { return .goto("b") }
            return .keep
        })
        #expect(server.isAlive)
        #expect(try await server.status().postponedEvents == 0)
        try server.cast("go")
        #expect(log.entries == ["a internal:first", "a cast:go"])
    }

    @Test(arguments: [0, 1, 2, 3])
    func everyFormOfOkTakesItsActionsInOrder(count: Int) throws {
        let names = (1...3).prefix(count).map { "n\($0)" }
        let forms: [Start<Probe>] = switch count {
        case 0: [.ok("a", data: ProbeData()), .ok("a", data: ProbeData(), actions: [])]
        case 1: [.ok("a", data: ProbeData(), .next(names[0])), .ok("a", data: ProbeData(), actions: [.next(names[0])])]
        default:
            [
                count == 2
                    ? .ok("a", data: ProbeData(), .next(names[0]), .next(names[1]))
                    : .ok("a", data: ProbeData(), .next(names[0]), .next(names[1]), .next(names[2])),
                .ok("a", data: ProbeData(), actions: names.map { .next($0) }),
            ]
        }
        for start in forms {
            #expect(start.state == "a")
            #expect(start.data != nil)
            #expect(start.actions.count == count)
            let log = EventLog()
            let runtime = Runtime(clock: ManualClock())
            _ = try runtime.start(Probe(log: log, start: { start }) { _, _, _ in .keep })
            #expect(log.entries == names.map { "a internal:\($0)" })
        }
    }

    @Test func aStartThatDoesNotStartHasNoStateDataOrActions() {
        for start in [Start<Probe>.ignore, .stop(.normal), .error(Boom("no"))] {
            #expect(start.state == nil)
            #expect(start.data == nil)
            #expect(start.actions.isEmpty)
        }
    }

    @Test func startsInsertedEventsRunInOrderAfterTheInitialEnterCallBeforeStartReturns() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true,
            start: { .ok("a", data: ProbeData(), .next("1"), .nextEvent(.cast("2")), .next("3")) }
        ) { event, state, data in
            data.count += 1
            if state == "a", case .internal("3") = event { return .goto("b") }
            return .keep
        })
        #expect(log.entries == ["a enter:a", "a internal:1", "a cast:2", "a internal:3", "b enter:a"])
        let snapshot = try await server.getState()
        #expect(snapshot.state == "b")
        #expect(snapshot.data.count == 5)
    }

    @Test func aStateTimeoutSetInStartBelongsToTheInitialState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let stayLog = EventLog()
        _ = try runtime.start(Probe(
            log: stayLog, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(5)), "t")) }
        ) { _, _, _ in .keep })
        let leaveLog = EventLog()
        _ = try runtime.start(Probe(
            log: leaveLog, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(5)), "t"), .next("leave")) }
        ) { event, _, _ in
            if case .internal("leave") = event { return .goto("b") }
            return .keep
        })
        clock.advance(by: .seconds(10))
        #expect(stayLog.timeline == ["5s a stateTimeout:t"])
        #expect(leaveLog.timeline == ["0s a internal:leave"])
    }

    @Test func aStateTimeoutSetByTheInitialEnterCallOverridesTheOneFromStart() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        _ = try runtime.start(Probe(
            log: log, enter: true, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(5)), "from-start")) }
        ) { event, _, _ in
            if case .enter = event { return .keep(.stateTimeout(.after(.seconds(7)), "from-enter")) }
            return .keep
        })
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a enter:a", "7s a stateTimeout:from-enter"])
    }

    @Test func zeroTimeoutsInStartAreDeliveredBeforeStartReturnsAfterInsertedEvents() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: { .ok("a", data: ProbeData(), .timeout("n", .zero, "z"), .next("first")) }
        ) { _, _, _ in .keep })
        #expect(log.entries == ["a internal:first", "a timeout(n):z"])
        try server.cast("later")
        #expect(log.entries.last == "a cast:later")
    }

    @Test func anEventTimeoutSetInStartIsCancelledByTheFirstEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let quietLog = EventLog()
        _ = try runtime.start(Probe(
            log: quietLog, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "idle")) }
        ) { _, _, _ in .keep })
        let busyLog = EventLog()
        let busy = try runtime.start(Probe(
            log: busyLog, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "idle")) }
        ) { _, _, _ in .keep })
        clock.advance(by: .seconds(4))
        try busy.cast("hello")
        clock.advance(by: .seconds(10))
        #expect(quietLog.timeline == ["5s a eventTimeout:idle"])
        #expect(busyLog.timeline == ["4s a cast:hello"])
    }

    @Test func anInvalidStartActionEndsTheServerRightAfterItStarts() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(-1)), "bad"), .next("never")) }
        ) { _, _, _ in .keep })
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["terminate error(invalidAction) in a"])
        #expect(throws: StateServerError.self) { try server.cast("x") }
    }

    @Test func aStartActionsHandlerThatStopsEndsTheServerBeforeStartReturns() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: { .ok("a", data: ProbeData(), .next("quit")) }
        ) { event, _, _ in
            if case .internal("quit") = event { return .stop(.shutdown("at once")) }
            return .keep
        })
        #expect(!server.isAlive)
        #expect(server.exitReason?.label == "shutdown(at once)")
        #expect(log.entries == ["a internal:quit", "terminate shutdown(at once) in a"])
    }
}
