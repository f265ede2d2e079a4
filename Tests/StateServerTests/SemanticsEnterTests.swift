import Testing
import StateServer

// otp-semantics §1.9 (state enter calls) and §1.5 step 2: enter calls for the initial state, after each state
// change and on repeatState; their actions merge with the event's (last wins); they cannot postpone, insert
// events or change state.

@Suite("Semantics: state enter calls")
struct SemanticsEnterTests {
    @Test func theInitialStateGetsAnEnterCallFromItselfBeforeStartsInsertedEvents() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        _ = try runtime.start(Probe(
            log: log, enter: true,
            start: { .ok("a", data: ProbeData(), .next("first"), .next("second")) }
        ) { _, _, _ in .keep })
        #expect(log.entries == ["a enter:a", "a internal:first", "a internal:second"])
    }

    @Test func anEnterCallAfterAStateChangeSeesThePreviousState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .cast("go")): .goto("c")
            case ("c", .cast("go")): .goto("a")
            default: .keep
            }
        })
        for _ in 0..<3 { try server.cast("go") }
        #expect(log.entries == [
            "a enter:a", "a cast:go", "b enter:a", "b cast:go", "c enter:b", "c cast:go", "a enter:c",
        ])
    }

    @Test func theEnterCallSeesTheStateBeforeTheEventEvenWhenInsertedEventsChangeStateAgain() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b", .next("onward"))
            case ("b", .internal("onward")): .goto("c")
            default: .keep
            }
        })
        try server.cast("go")
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "b internal:onward", "c enter:b"])
    }

    @Test func repeatStateMakesTheEnterCallAgainFromTheCurrentState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .cast("again")): .repeatState
            default: .keep
            }
        })
        try server.cast("go")
        try server.cast("again")
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "b cast:again", "b enter:b"])
    }

    @Test func repeatStateFromAnEnterCallRepeatsItWithTheOriginalPreviousState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, data in
            switch (state, event) {
            case ("a", .cast("go")):
                return .goto("b")
            case ("b", .enter):
                data.count += 1
                return data.count < 3 ? .repeatState : .keep
            default:
                return .keep
            }
        })
        try server.cast("go")
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "b enter:a", "b enter:a"])
    }

    @Test func noEnterCallsAreMadeUnlessTheMachineOptsIn() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .cast("again")): .repeatState
            default: .keep
            }
        })
        try server.cast("go")
        try server.cast("again")
        #expect(log.entries == ["a cast:go", "b cast:again"])
    }

    @Test func anEnterCallsTimeoutOverridesTheEventHandlersTimeoutOfTheSameKind() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true, clock: clock) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b", .stateTimeout(.after(.seconds(5)), "from-event"), .timeout("n", .after(.seconds(2)), "kept"))
            case ("b", .enter): .keep(.stateTimeout(.after(.seconds(8)), "from-enter"))
            default: .keep
            }
        })
        try server.cast("go")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == [
            "0s a enter:a", "0s a cast:go", "0s b enter:a", "2s b timeout(n):kept", "8s b stateTimeout:from-enter",
        ])
    }

    @Test func anEnterCallCanSetTimeoutsForItsState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        _ = try runtime.start(Probe(log: log, enter: true, clock: clock) { event, state, _ in
            switch (state, event) {
            case ("a", .enter): .keep(.stateTimeout(.after(.seconds(3)), "leave"), .eventTimeout(.after(.seconds(1)), "idle"))
            case ("a", .stateTimeout): .goto("b")
            default: .keep
            }
        })
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a enter:a", "1s a eventTimeout:idle", "3s a stateTimeout:leave", "3s b enter:a"])
    }

    @Test func postponeInAnEnterCallStopsTheServerWithInvalidAction() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .enter): .keep(.postpone)
            default: .keep
            }
        })
        try server.cast("go")
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "terminate error(invalidAction) in b"])
    }

    @Test func nextEventInAnEnterCallStopsTheServerWithInvalidAction() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .enter): .keep(.next("forbidden"))
            default: .keep
            }
        })
        try server.cast("go")
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "terminate error(invalidAction) in b"])
    }

    @Test func gotoAnotherStateFromAnEnterCallStopsTheServerWithInvalidTransition() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .enter): .goto("c")
            default: .keep
            }
        })
        try server.cast("go")
        expectErrorExit(server, code: .invalidTransition)
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "terminate error(invalidTransition) in b"])
    }

    @Test func gotoTheSameStateAndPostponeFalseAreAllowedInAnEnterCall() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .enter): .goto("b", .postpone(false))
            default: .keep
            }
        })
        try server.cast("go")
        try server.cast("after")
        #expect(server.isAlive)
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "b cast:after"])
        #expect(try await server.getState().state == "b")
    }

    @Test func aForbiddenActionInTheInitialEnterCallEndsTheServerRightAfterItStarts() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, _, _ in
            if case .enter = event { return .keep(.postpone) }
            return .keep
        })
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["a enter:a", "terminate error(invalidAction) in a"])
    }

    @Test func anEnterCallCanChangeData() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, data in
            switch (state, event) {
            case (_, .enter(let from)):
                data.notes.append("\(from)->\(state)")
                return .keep
            case ("a", .cast("go")):
                return .goto("b")
            default:
                return .keep
            }
        })
        try server.cast("go")
        #expect(try await server.getState().data.notes == ["a->a", "a->b"])
    }

    @Test func anEnterCallCanStopTheServer() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("done", .next("never"))
            case ("done", .enter): .stop(.shutdown("finished"))
            default: .keep
            }
        })
        try server.cast("go")
        #expect(server.exitReason?.label == "shutdown(finished)")
        #expect(log.entries == ["a enter:a", "a cast:go", "done enter:a", "terminate shutdown(finished) in done"])
    }

    @Test func anEnterCallThatThrowsStopsTheServerWithTheError() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): return .goto("b")
            case ("b", .enter): throw Boom("entering")
            default: return .keep
            }
        })
        try server.cast("go")
        #expect(server.exitReason?.thrownError as? Boom == Boom("entering"))
        #expect(log.entries.last == "terminate error(Boom(entering)) in b")
    }

    @Test func anEnterCallCanAnswerACallDeferredByAnEarlierEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, data in
            switch (state, event) {
            case ("a", .call(.ask(_, let reply))):
                data.held.append(reply)
                return .keep
            case ("a", .cast("go")):
                return .goto("b")
            case ("b", .enter(let from)):
                let replies = data.held.map { Action<Probe>.reply($0, "entered b from \(from)") }
                data.held = []
                return .keep(actions: replies)
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("wait", $0) }
        #expect(!pending.isResolved)
        try server.cast("go")
        #expect(pending.answer == "entered b from a")
    }

    @Test func stopAndReplyFromAnEnterCallRepliesThenTerminates() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true,
            terminate: { _, _, data in log.append("answered at terminate: \(data.held.map(\.isAnswered))") }
        ) { event, state, data in
            switch (state, event) {
            case ("a", .call(.ask(_, let reply))):
                data.held.append(reply)
                return .goto("closing")
            case ("closing", .enter):
                return .stopAndReply(.normal, .reply(data.held[0], "bye"))
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("close", $0) }
        #expect(pending.answer == "bye")
        #expect(log.entries == [
            "a enter:a", "a call:close", "closing enter:a", "terminate normal in closing", "answered at terminate: [true]",
        ])
        #expect(server.exitReason?.label == "normal")
    }
}
