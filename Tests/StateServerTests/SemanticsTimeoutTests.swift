import Testing
import StateServer

// otp-semantics §1.7 (time-outs) and the timeout lines of §6. Every machine here stamps its log with the virtual
// clock, so `log.timeline` shows when each event was handled.

/// The three kinds of timeout, as a test argument.
enum ProbeTimeoutKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case event, state, named

    var testDescription: String { rawValue }

    /// Sets this kind of timeout; named timeouts use the name "n".
    func set(_ time: TimeoutTime, _ content: String) -> Action<Probe> {
        switch self {
        case .event: .eventTimeout(time, content)
        case .state: .stateTimeout(time, content)
        case .named: .timeout("n", time, content)
        }
    }

    func update(_ content: String) -> Action<Probe> {
        switch self {
        case .event: .updateEventTimeout(content)
        case .state: .updateStateTimeout(content)
        case .named: .updateTimeout("n", content)
        }
    }

    var cancel: Action<Probe> {
        switch self {
        case .event: .cancelEventTimeout
        case .state: .cancelStateTimeout
        case .named: .cancelTimeout("n")
        }
    }

    /// How the log shows this kind's timeout event carrying `content`.
    func fired(_ content: String) -> String {
        switch self {
        case .event: "eventTimeout:\(content)"
        case .state: "stateTimeout:\(content)"
        case .named: "timeout(n):\(content)"
        }
    }
}

@Suite("Semantics: timeouts")
struct SemanticsTimeoutTests {
    // MARK: Event timeout

    @Test func eventTimeoutFiresWhenNoEventArrivesForItsDuration() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        _ = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "idle")) }
        ) { _, _, _ in .keep })
        clock.advance(by: .milliseconds(4999))
        #expect(log.timeline.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(log.timeline == ["5s a eventTimeout:idle"])
    }

    @Test func eventTimeoutIsCancelledByAnExternalEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "idle")) }
        ) { _, _, _ in .keep })
        clock.advance(by: .seconds(3))
        try server.cast("poke")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["3s a cast:poke"])
        #expect(clock.armedTimerCount == 0)
    }

    @Test func eventTimeoutSetAgainByEachEventRestartsItsClock() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "first")) }
        ) { event, _, _ in
            if case .cast = event { return .keep(.eventTimeout(.after(.seconds(5)), "again")) }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("poke")
        clock.advance(by: .seconds(4))
        try server.cast("poke")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["3s a cast:poke", "7s a cast:poke", "12s a eventTimeout:again"])
    }

    @Test func eventTimeoutIsCancelledByAnInsertedEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            if case .cast("arm") = event { return .keep(.eventTimeout(.after(.seconds(5)), "x"), .next("inner")) }
            return .keep
        })
        try server.cast("arm")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a cast:arm", "0s a internal:inner"])
    }

    @Test func eventTimeoutIsCancelledEvenByAnEventThatIsPostponed() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "x")) }
        ) { event, _, _ in
            if case .cast("later") = event { return .keep(.postpone) }
            return .keep
        })
        clock.advance(by: .seconds(1))
        try server.cast("later")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["1s a cast:later"])
        #expect(try await server.status().postponedEvents == 1)
    }

    @Test func eventTimeoutIsCancelledByARetriedPostponedEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("p")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b", .eventTimeout(.after(.seconds(5)), "x"))
            default: .keep
            }
        })
        try server.cast("p")
        try server.cast("go")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a cast:p", "0s a cast:go", "0s b cast:p"])
    }

    @Test func eventTimeoutIsCancelledByAZeroTimeoutDeliveredBeforeIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            if case .cast("arm") = event {
                return .keep(.eventTimeout(.after(.seconds(5)), "x"), .stateTimeout(.zero, "z"))
            }
            return .keep
        })
        try server.cast("arm")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a cast:arm", "0s a stateTimeout:z"])
    }

    @Test func eventTimeoutIsCancelledByAnotherTimeoutFiringFirst() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        _ = try runtime.start(Probe(
            log: log, clock: clock,
            start: {
                .ok("a", data: ProbeData(),
                    .eventTimeout(.after(.seconds(10)), "e"), .timeout("n", .after(.seconds(4)), "n"))
            }
        ) { _, _, _ in .keep })
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["4s a timeout(n):n"])
    }

    @Test func eventTimeoutIsNotCancelledBySystemRequests() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(5)), "x")) }
        ) { _, _, _ in .keep })
        clock.advance(by: .seconds(2))
        _ = try await server.status()
        _ = try await server.getState()
        try await server.replaceState { _, data in data.count = 1 }
        try await server.suspend()
        try await server.resume()
        clock.advance(by: .seconds(3))
        #expect(log.timeline == ["5s a eventTimeout:x"])
    }

    @Test func eventTimeoutSetWithAStateChangeIsNotCancelledByTheEnterCall() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true, clock: clock) { event, state, _ in
            if state == "a", case .cast("go") = event { return .goto("b", .eventTimeout(.after(.seconds(5)), "x")) }
            return .keep
        })
        try server.cast("go")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a enter:a", "0s a cast:go", "0s b enter:a", "5s b eventTimeout:x"])
    }

    @Test func zeroEventTimeoutFiresOnlyWhenNoEventIsQueued() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("with-inserted"): .keep(.eventTimeout(.zero, "x"), .next("inner"))
            case .cast("alone"): .keep(.eventTimeout(.zero, "y"))
            default: .keep
            }
        })
        try server.cast("with-inserted")
        try server.cast("alone")
        #expect(log.entries == ["a cast:with-inserted", "a internal:inner", "a cast:alone", "a eventTimeout:y"])
    }

    // MARK: State timeout

    @Test func stateTimeoutIsNotCancelledByEventsInTheSameState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "t")) }
        ) { _, _, _ in .keep })
        clock.advance(by: .seconds(3))
        try server.cast("one")
        clock.advance(by: .seconds(3))
        try server.send("two")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["3s a cast:one", "6s a info:two", "10s a stateTimeout:t"])
    }

    @Test func stateTimeoutIsCancelledByStateChange() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "t")) }
        ) { event, _, _ in
            if case .cast("go") = event { return .goto("b") }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("go")
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["3s a cast:go"])
    }

    @Test(arguments: ["keep", "repeat", "same"])
    func stateTimeoutSurvivesTransitionsThatDoNotChangeState(transition: String) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "t")) }
        ) { event, state, _ in
            guard case .cast = event else { return .keep }
            switch transition {
            case "keep": return .keep
            case "repeat": return .repeatState
            default: return .goto(state)
            }
        })
        clock.advance(by: .seconds(4))
        try server.cast(transition)
        clock.advance(by: .seconds(10))
        let reentered = transition == "repeat" ? ["4s a enter:a"] : []
        #expect(log.timeline == ["0s a enter:a", "4s a cast:\(transition)"] + reentered + ["10s a stateTimeout:t"])
    }

    @Test func stateTimeoutSetDuringAStateChangeBelongsToTheNewState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "old")) }
        ) { event, state, _ in
            if state == "a", case .cast("go") = event { return .goto("b", .stateTimeout(.after(.seconds(5)), "new")) }
            return .keep
        })
        clock.advance(by: .seconds(2))
        try server.cast("go")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["2s a cast:go", "7s b stateTimeout:new"])
    }

    @Test func settingTheStateTimeoutAgainRestartsIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "first")) }
        ) { event, _, _ in
            if case .cast("restart") = event { return .keep(.stateTimeout(.after(.seconds(10)), "second")) }
            return .keep
        })
        clock.advance(by: .seconds(4))
        try server.cast("restart")
        clock.advance(by: .seconds(30))
        #expect(log.timeline == ["4s a cast:restart", "14s a stateTimeout:second"])
    }

    @Test func aPendingZeroStateTimeoutIsCancelledByStateChange() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("arm")): .keep(.stateTimeout(.zero, "z"), .next("go"))
            case ("a", .internal("go")): .goto("b")
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a internal:go"])
    }

    // MARK: Named timeouts

    @Test func namedTimeoutSurvivesStateChanges() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true, clock: clock,
            start: { .ok("a", data: ProbeData(), .timeout("n", .after(.seconds(10)), "c")) }
        ) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b")
            case ("b", .cast("go")): .goto("c")
            default: .keep
            }
        })
        clock.advance(by: .seconds(2))
        try server.cast("go")
        clock.advance(by: .seconds(2))
        try server.cast("go")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == [
            "0s a enter:a", "2s a cast:go", "2s b enter:a", "4s b cast:go", "4s c enter:b", "10s c timeout(n):c",
        ])
    }

    @Test func namedTimeoutsRunIndependentlyPerName() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: {
                .ok("a", data: ProbeData(),
                    .timeout("one", .after(.seconds(5)), "1"), .timeout("two", .after(.seconds(8)), "2"))
            }
        ) { event, _, _ in
            if case .cast("restart-one") = event { return .keep(.timeout("one", .after(.seconds(10)), "1b")) }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("restart-one")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["3s a cast:restart-one", "8s a timeout(two):2", "13s a timeout(one):1b"])
    }

    @Test(arguments: [ProbeTimeoutKind.state, .named], ["cancel", "infinity"])
    func cancelOrInfinityStopsARunningTimeout(kind: ProbeTimeoutKind, operation: String) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), kind.set(.after(.seconds(10)), "t")) }
        ) { event, _, _ in
            guard case .cast = event else { return .keep }
            return .keep(operation == "cancel" ? kind.cancel : kind.set(.infinity, "never"))
        })
        clock.advance(by: .seconds(2))
        try server.cast(operation)
        #expect(clock.armedTimerCount == 0)
        #expect(try await server.status().timeouts.isEmpty)
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["2s a cast:\(operation)"])
    }

    @Test func infinityStartsNoTimer() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: {
                .ok("a", data: ProbeData(),
                    .eventTimeout(.infinity, "e"), .stateTimeout(.infinity, "s"), .timeout("n", .infinity, "t"))
            }
        ) { _, _, _ in .keep })
        #expect(clock.armedTimerCount == 0)
        #expect(try await server.status().timeouts.isEmpty)
        clock.runAllTimers()
        #expect(log.entries.isEmpty)
    }

    // MARK: Update

    @Test(arguments: [ProbeTimeoutKind.state, .named])
    func updateChangesTheContentOfARunningTimerButNotItsDeadline(kind: ProbeTimeoutKind) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), kind.set(.after(.seconds(10)), "old")) }
        ) { event, _, _ in
            if case .cast("update") = event { return .keep(kind.update("new")) }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("update")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["3s a cast:update", "10s a \(kind.fired("new"))"])
    }

    @Test func updatingTheEventTimeoutFromAnEventIsImmediateBecauseThatEventCancelledIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(10)), "old")) }
        ) { event, _, _ in
            if case .cast("update") = event { return .keep(.updateEventTimeout("new")) }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("update")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["3s a cast:update", "3s a eventTimeout:new"])
    }

    @Test(arguments: [ProbeTimeoutKind.state, .named])
    func updateRewritesTheContentOfATimerThatFiredButWasNotHandledYet(kind: ProbeTimeoutKind) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), kind.set(.after(.seconds(10)), "original")) }
        ) { event, _, _ in
            if case .cast("update") = event { return .keep(kind.update("updated")) }
            return .keep
        })
        try await server.suspend()
        try server.cast("update")
        clock.advance(by: .seconds(10))
        // The timer has fired: its event waits in the mailbox behind the cast.
        #expect(try await server.status().queuedMessages == 2)
        #expect(log.timeline.isEmpty)
        try await server.resume()
        #expect(log.timeline == ["10s a cast:update", "10s a \(kind.fired("updated"))"])
    }

    @Test(arguments: ProbeTimeoutKind.allCases)
    func updateWithNoTimerDeliversAnImmediateTimeoutEvent(kind: ProbeTimeoutKind) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("update") = event { return .keep(kind.update("u")) }
            return .keep
        })
        try server.cast("update")
        #expect(log.entries == ["a cast:update", "a \(kind.fired("u"))"])
        #expect(clock.armedTimerCount == 0)
    }

    @Test func updatingTheStateTimeoutInAStateChangeDeliversItAtOnceInTheNewState() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "old")) }
        ) { event, state, _ in
            if state == "a", case .cast("go") = event { return .goto("b", .updateStateTimeout("new")) }
            return .keep
        })
        clock.advance(by: .seconds(1))
        try server.cast("go")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["1s a cast:go", "1s b stateTimeout:new"])
    }

    @Test(arguments: [ProbeTimeoutKind.state, .named])
    func cancellingATimerThatFiredButWasNotHandledDropsItsEvent(kind: ProbeTimeoutKind) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), kind.set(.after(.seconds(10)), "t")) }
        ) { event, _, _ in
            if case .cast("cancel") = event { return .keep(kind.cancel) }
            return .keep
        })
        try await server.suspend()
        try server.cast("cancel")
        clock.advance(by: .seconds(10))
        try await server.resume()
        try server.cast("after")
        #expect(log.timeline == ["10s a cast:cancel", "10s a cast:after"])
    }

    @Test func restartingATimerThatFiredButWasNotHandledDropsTheStaleFire() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "stale")) }
        ) { event, _, _ in
            if case .cast("restart") = event { return .keep(.stateTimeout(.after(.seconds(5)), "fresh")) }
            return .keep
        })
        try await server.suspend()
        try server.cast("restart")
        clock.advance(by: .seconds(10))
        try await server.resume()
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["10s a cast:restart", "15s a stateTimeout:fresh"])
    }

    @Test func aMessageQueuedBeforeAFiredEventTimeoutCancelsIt() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .eventTimeout(.after(.seconds(10)), "x")) }
        ) { _, _, _ in .keep })
        try await server.suspend()
        try server.cast("m")
        clock.advance(by: .seconds(10))
        try await server.resume()
        #expect(log.timeline == ["10s a cast:m"])
    }

    @Test func theContentOfATimeoutEventIsTheLastOneSetOrUpdated() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .timeout("n", .after(.seconds(10)), "v1")) }
        ) { event, _, _ in
            switch event {
            case .cast("u2"): .keep(.updateTimeout("n", "v2"))
            case .cast("u3"): .keep(.updateTimeout("n", "v3"))
            default: .keep
            }
        })
        clock.advance(by: .seconds(1))
        try server.cast("u2")
        try server.cast("u3")
        clock.advance(by: .seconds(10))
        #expect(log.timeline.last == "10s a timeout(n):v3")
    }

    @Test func statusListsEveryRegisteredTimeoutIncludingOneThatFiredButWasNotHandled() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(Probe(
            log: EventLog(),
            start: {
                .ok("a", data: ProbeData(),
                    .eventTimeout(.after(.seconds(9)), "e"), .stateTimeout(.after(.seconds(1)), "s"),
                    .timeout("n", .after(.seconds(9)), "t"))
            }
        ) { _, _, _ in .keep })
        try await server.suspend()
        clock.advance(by: .seconds(1))
        let status = try await server.status()
        #expect(status.queuedMessages == 1)
        #expect(Set(status.timeouts) == [.event, .state, .named("n")])
        try await server.resume()
        // Handling the state timeout cancelled the event timeout; the named one still runs.
        #expect(try await server.status().timeouts == [.named("n")])
    }

    // MARK: Absolute timeouts

    @Test func absoluteTimeoutFiresAtTheGivenInstant() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            if case .cast("arm") = event { return .keep(.timeout("n", .at(.zero + .seconds(7)), "abs")) }
            return .keep
        })
        clock.advance(by: .seconds(3))
        try server.cast("arm")
        #expect(clock.nextDeadline == .zero + .seconds(7))
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["3s a cast:arm", "7s a timeout(n):abs"])
    }

    @Test func absoluteTimeoutInThePastFiresAsSoonAsPossibleBehindQueuedMessages() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            if case .cast("arm") = event {
                return .keep(.stateTimeout(.at(.zero + .seconds(2)), "late"), .send("already-queued"))
            }
            return .keep
        })
        clock.advance(by: .seconds(10))
        try server.cast("arm")
        clock.advance(by: .zero)
        #expect(clock.now == .zero + .seconds(10))
        #expect(log.timeline == ["10s a cast:arm", "10s a info:already-queued", "10s a stateTimeout:late"])
    }

    // MARK: Invalid timeouts

    @Test(arguments: ProbeTimeoutKind.allCases)
    func aNegativeRelativeTimeoutStopsTheServerWithInvalidAction(kind: ProbeTimeoutKind) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event { return .keep(kind.set(.after(.seconds(-1)), "bad")) }
            return .keep
        })
        try server.cast("arm")
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["a cast:arm", "terminate error(invalidAction) in a"])
    }

    @Test func aNegativeTimeoutStopsTheServerBeforeTheActionsAfterItAndTheEnterCall() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            if state == "a", case .call(.ask(_, let reply)) = event {
                return .goto("b", .stateTimeout(.after(.milliseconds(-1)), "bad"), .reply(reply, "too late"))
            }
            return .keep
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        expectErrorExit(server, code: .invalidAction)
        expectFailure(pending, code: .serverExited, reason: "error(invalidAction)")
        #expect(log.entries == ["a enter:a", "a call:q", "terminate error(invalidAction) in b"])
    }

    @Test func aNegativeSendDelayStopsTheServerWithInvalidAction() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event { return .keep(.send("never", after: .seconds(-2))) }
            return .keep
        })
        try server.cast("arm")
        expectErrorExit(server, code: .invalidAction)
    }

    // MARK: Last one wins

    @Test func aLaterTimeoutActionOfTheSameKindOverridesAnEarlierOne() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            switch event {
            case .cast("twice"): .keep(.stateTimeout(.after(.seconds(5)), "first"), .stateTimeout(.after(.seconds(3)), "second"))
            case .cast("set-then-cancel"): .keep(.timeout("n", .after(.seconds(1)), "x"), .cancelTimeout("n"))
            case .cast("cancel-then-set"): .keep(.cancelTimeout("m"), .timeout("m", .after(.seconds(4)), "y"))
            default: .keep
            }
        })
        try server.cast("twice")
        try server.cast("set-then-cancel")
        try server.cast("cancel-then-set")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == [
            "0s a cast:twice", "0s a cast:set-then-cancel", "0s a cast:cancel-then-set",
            "3s a stateTimeout:second", "4s a timeout(m):y",
        ])
    }

    @Test func anUpdateAfterASetOfTheSameKindActsOnThePreviouslyRunningTimer() throws {
        // Per kind only the last timeout action counts: the set before the update is ignored.
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "old")) }
        ) { event, _, _ in
            if case .cast("x") = event {
                return .keep(.stateTimeout(.after(.seconds(2)), "ignored"), .updateStateTimeout("new"))
            }
            return .keep
        })
        clock.advance(by: .seconds(1))
        try server.cast("x")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["1s a cast:x", "10s a stateTimeout:new"])
    }

    @Test func anUpdateAfterACancelOfTheSameKindKeepsTheTimerRunning() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .timeout("n", .after(.seconds(10)), "old")) }
        ) { event, _, _ in
            if case .cast("x") = event { return .keep(.cancelTimeout("n"), .updateTimeout("n", "new")) }
            return .keep
        })
        clock.advance(by: .seconds(1))
        try server.cast("x")
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["1s a cast:x", "10s a timeout(n):new"])
    }

    // MARK: Timeout events are ordinary events

    @Test func aTimeoutEventCanBePostponedAndIsRetriedAfterTheStateChange() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .timeout("n", .after(.seconds(2)), "c"), .stateTimeout(.after(.seconds(3)), "s")) }
        ) { event, state, _ in
            switch (state, event) {
            case ("a", .timeout), ("a", .stateTimeout): .keep(.postpone)
            case ("a", .cast("go")): .goto("b")
            default: .keep
            }
        })
        clock.advance(by: .seconds(5))
        try server.cast("go")
        #expect(log.timeline == [
            "2s a timeout(n):c", "3s a stateTimeout:s", "5s a cast:go", "5s b timeout(n):c", "5s b stateTimeout:s",
        ])
    }

    @Test func timeoutKindsAreEqualByKindAndName() {
        let kinds: [TimeoutKind<String>] = [.event, .state, .named("a"), .named("b")]
        for (i, lhs) in kinds.enumerated() {
            for (j, rhs) in kinds.enumerated() {
                #expect((lhs == rhs) == (i == j), "\(lhs) == \(rhs)")
                if lhs == rhs { #expect(lhs.hashValue == rhs.hashValue) }
            }
        }
        #expect(TimeoutKind<String>.named("a") == .named("a"))
        #expect(Set(kinds + kinds).count == 4)
    }
}
