import Testing
import StateServer

// otp-semantics §1.5 step 6/8 and §1.7: zero timeouts form a separate FIFO, delivered after the queued (inserted
// and retried) events and before any new message, in action order, and cancellable like real timers.

@Suite("Semantics: zero timeouts")
struct SemanticsZeroTimeoutTests {
    @Test func zeroEventTimeoutThenZeroStateTimeoutDeliversBothInActionOrder() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event { return .keep(.eventTimeout(.zero, "X"), .stateTimeout(.zero, "Y")) }
            return .keep
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a eventTimeout:X", "a stateTimeout:Y"])
    }

    @Test func zeroStateTimeoutThenZeroEventTimeoutDeliversOnlyTheStateTimeout() throws {
        // Delivering Y is an event, and every event cancels the event timeout X.
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event { return .keep(.stateTimeout(.zero, "Y"), .eventTimeout(.zero, "X")) }
            return .keep
        })
        try server.cast("arm")
        try server.cast("next")
        #expect(log.entries == ["a cast:arm", "a stateTimeout:Y", "a cast:next"])
    }

    @Test func zeroTimeoutsAreDeliveredInActionOrder() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event {
                return .keep(
                    .timeout("n3", .zero, "3"), .stateTimeout(.zero, "s"), .timeout("n1", .zero, "1"),
                    .timeout("n2", .zero, "2"))
            }
            return .keep
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a timeout(n3):3", "a stateTimeout:s", "a timeout(n1):1", "a timeout(n2):2"])
    }

    @Test func zeroTimeoutsRequestedLaterQueueBehindPendingOnes() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.timeout("first", .zero, "1"), .timeout("second", .zero, "2"))
            case .timeout("first", _): .keep(.timeout("third", .zero, "3"))
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a timeout(first):1", "a timeout(second):2", "a timeout(third):3"])
    }

    @Test func restartingAPendingZeroTimeoutMovesItToTheBack() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.timeout("a", .zero, "A"), .timeout("b", .zero, "B"), .timeout("c", .zero, "C"))
            case .timeout("a", _): .keep(.timeout("b", .zero, "B2"))
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a timeout(a):A", "a timeout(c):C", "a timeout(b):B2"])
    }

    @Test func updatingAPendingZeroTimeoutKeepsItsPlaceAndChangesItsContent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.timeout("a", .zero, "A"), .timeout("b", .zero, "B"), .timeout("c", .zero, "C"))
            case .timeout("a", _): .keep(.updateTimeout("b", "B2"))
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a timeout(a):A", "a timeout(b):B2", "a timeout(c):C"])
    }

    @Test func cancellingAPendingZeroTimeoutDropsIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.timeout("n", .zero, "z"), .stateTimeout(.zero, "s"), .next("cancel"))
            case .internal("cancel"): .keep(.cancelTimeout("n"), .stateTimeout(.infinity, "off"))
            default: .keep
            }
        })
        try server.cast("arm")
        try server.cast("next")
        #expect(log.entries == ["a cast:arm", "a internal:cancel", "a cast:next"])
    }

    @Test func aPendingZeroTimeoutRestartedAsARealTimerLeavesTheZeroQueue() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, clock: clock) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.timeout("n", .zero, "zero"), .next("restart"))
            case .internal("restart"): .keep(.timeout("n", .after(.seconds(5)), "real"))
            default: .keep
            }
        })
        try server.cast("arm")
        clock.advance(by: .seconds(10))
        #expect(log.timeline == ["0s a cast:arm", "0s a internal:restart", "5s a timeout(n):real"])
    }

    @Test func aRunningTimerRestartedWithZeroIsDeliveredAtOnce() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, clock: clock,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "real")) }
        ) { event, _, _ in
            if case .cast("now") = event { return .keep(.stateTimeout(.zero, "zero")) }
            return .keep
        })
        clock.advance(by: .seconds(2))
        try server.cast("now")
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(20))
        #expect(log.timeline == ["2s a cast:now", "2s a stateTimeout:zero"])
    }

    @Test func zeroTimeoutsComeAfterInsertedEvents() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("arm"): .keep(.stateTimeout(.zero, "z"), .next("1"), .next("2"))
            case .internal("1"): .keep(.next("1a"))
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a internal:1", "a internal:1a", "a internal:2", "a stateTimeout:z"])
    }

    @Test func zeroTimeoutsComeAfterRetriedPostponedEvents() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("p")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b", .timeout("n", .zero, "z"))
            default: .keep
            }
        })
        try server.cast("p")
        try server.cast("go")
        #expect(log.entries == ["a cast:p", "a cast:go", "b cast:p", "b timeout(n):z"])
    }

    @Test func zeroTimeoutsComeBeforeMessagesAlreadyWaitingInTheMailbox() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("m1") = event { return .keep(.stateTimeout(.zero, "z")) }
            return .keep
        })
        try await server.suspend()
        try server.cast("m1")
        try server.cast("m2")
        try server.send("m3")
        try await server.resume()
        #expect(log.entries == ["a cast:m1", "a stateTimeout:z", "a cast:m2", "a info:m3"])
    }

    @Test func zeroTimeoutsComeBeforeMessagesTheServerSentItself() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("arm") = event { return .keep(.send("mine"), .timeout("n", .zero, "z"), .next("inner")) }
            return .keep
        })
        try server.cast("arm")
        #expect(log.entries == ["a cast:arm", "a internal:inner", "a timeout(n):z", "a info:mine"])
    }

    @Test func aPendingZeroNamedTimeoutSurvivesAStateChange() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("arm")): .keep(.timeout("n", .zero, "named"), .stateTimeout(.zero, "state"), .next("go"))
            case ("a", .internal("go")): .goto("b")
            default: .keep
            }
        })
        try server.cast("arm")
        #expect(log.entries == ["a enter:a", "a cast:arm", "a internal:go", "b enter:a", "b timeout(n):named"])
    }

    @Test func aZeroTimeoutFromAnEnterCallIsDeliveredAfterTheEventsInsertedByTheTransition() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b", .next("inserted"))
            case ("b", .enter): .keep(.stateTimeout(.zero, "from-enter"))
            default: .keep
            }
        })
        try server.cast("go")
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a", "b internal:inserted", "b stateTimeout:from-enter"])
    }
}
