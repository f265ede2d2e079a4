import Testing
import StateServer

// otp-semantics §1.8 (postpone) and the order line of §6: after a transition, next events (list order) →
// postponed (oldest first, only if the state changed) → remaining queue → zero timeouts → mailbox.

@Suite("Semantics: postpone and event order")
struct SemanticsPostponeTests {
    /// Postpones casts named "p…" in state "a", moves to "b" on "go", and keeps everything else.
    private static func postponer(log: EventLog, enter: Bool = false) -> Probe {
        Probe(log: log, enter: enter) { event, state, _ in
            switch (state, event) {
            case ("a", .cast(let name)) where name.hasPrefix("p"): .keep(.postpone)
            case ("a", .cast("go")): .goto("b")
            default: .keep
            }
        }
    }

    @Test func postponedEventsAreRetriedOldestFirstAfterStateChange() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Self.postponer(log: log))
        for name in ["p1", "p2", "p3"] { try server.cast(name) }
        #expect(try await server.status().postponedEvents == 3)
        try server.cast("go")
        #expect(log.entries == ["a cast:p1", "a cast:p2", "a cast:p3", "a cast:go", "b cast:p1", "b cast:p2", "b cast:p3"])
        #expect(try await server.status().postponedEvents == 0)
    }

    @Test(arguments: ["keep", "repeat", "same"])
    func postponedEventsAreNotRetriedWithoutAStateChange(transition: String) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch event {
            case .cast("p"): return .keep(.postpone)
            case .cast("x"):
                switch transition {
                case "keep": return .keep
                case "repeat": return .repeatState
                default: return .goto(state)
                }
            default: return .keep
            }
        })
        try server.cast("p")
        try server.cast("x")
        let reentered = transition == "repeat" ? ["a enter:a"] : []
        #expect(log.entries == ["a enter:a", "a cast:p", "a cast:x"] + reentered)
        #expect(try await server.status().postponedEvents == 1)
    }

    @Test func dataChangesNeverRetryPostponedEvents() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, data in
            switch event {
            case .cast("work") where data.count == 0: return .keep(.postpone)
            case .cast("work"): return .keep
            case .cast("open"):
                data.count = 1
                return .keep
            default: return .keep
            }
        })
        try server.cast("work")
        try server.cast("open")
        try server.cast("other")
        #expect(log.entries == ["a cast:work", "a cast:open", "a cast:other"])
        let status = try await server.status()
        #expect(status.postponedEvents == 1)
        #expect(status.data.count == 1)
    }

    @Test func theEventThatChangesStateCanPostponeItselfAndIsRetriedAfterTheEarlierOnes() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("p")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b", .postpone)
            default: .keep
            }
        })
        try server.cast("p")
        try server.cast("go")
        #expect(log.entries == ["a cast:p", "a cast:go", "b cast:p", "b cast:go"])
    }

    @Test func aRetriedEventPostponedAgainWaitsForTheNextStateChange() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("p")), ("b", .cast("p")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b")
            case ("b", .cast("go")): .goto("c")
            default: .keep
            }
        })
        try server.cast("p")
        try server.cast("go")
        try server.cast("x")
        try server.cast("go")
        #expect(log.entries == ["a cast:p", "a cast:go", "b cast:p", "b cast:x", "b cast:go", "c cast:p"])
    }

    @Test func orderAfterAStateChangeIsInsertedThenPostponedThenQueuedThenZeroTimeoutsThenMailbox() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast(let name)) where name.hasPrefix("p"): .keep(.postpone)
            // Leaves "q1" in the queue behind "go".
            case ("a", .cast("kick")): .keep(.next("go"), .next("q1"))
            case ("a", .internal("go")):
                .goto("b", .stateTimeout(.zero, "z"), .next("n1"), .timeout("n", .zero, "zn"), .next("n2"))
            default: .keep
            }
        })
        try await server.suspend()
        for name in ["p1", "p2", "kick", "m1"] { try server.cast(name) }
        try await server.resume()
        #expect(log.entries == [
            "a cast:p1", "a cast:p2", "a cast:kick", "a internal:go",
            "b internal:n1", "b internal:n2",  // inserted by the transition, in action order
            "b cast:p1", "b cast:p2",  // postponed, oldest first
            "b internal:q1",  // the rest of the queue
            "b stateTimeout:z", "b timeout(n):zn",  // zero timeouts, in action order
            "b cast:m1",  // the mailbox
        ])
    }

    @Test func orderAfterAStateChangePutsMessagesSentToSelfLast() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("p")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b", .send("self"), .timeout("n", .zero, "z"), .next("inserted"))
            default: .keep
            }
        })
        try server.cast("p")
        try server.cast("go")
        #expect(log.entries == ["a cast:p", "a cast:go", "b internal:inserted", "b cast:p", "b timeout(n):z", "b info:self"])
    }

    @Test func aPostponedCallIsAnsweredAfterTheStateChange() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, start: { .ok("connecting", data: ProbeData()) }) { event, state, _ in
            switch (state, event) {
            case ("connecting", .call): return .keep(.postpone)
            case ("connecting", .cast("connected")): return .goto("ready")
            case ("ready", .call(.ask(let tag, let reply))): return .keep(.reply(reply, "\(tag) sent"))
            default: return .keep
            }
        })
        let first = server.request(timeout: nil) { .ask("hello", $0) }
        let second = server.request(timeout: nil) { .ask("world", $0) }
        #expect(!first.isResolved && !second.isResolved)
        try server.cast("connected")
        #expect(first.answer == "hello sent")
        #expect(second.answer == "world sent")
        #expect(try await server.call { .ask("direct", $0) } == "direct sent")
    }

    @Test func postponedEventsAreDiscardedWhenTheServerStopsAndTheirCallersAreTold() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .call: .keep(.postpone)
            case .cast("quit"): .stop(.shutdown("closing"))
            default: .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        try server.cast("quit")
        expectFailure(pending, code: .serverExited, reason: "shutdown(closing)")
        #expect(log.entries == ["a call:q", "a cast:quit", "terminate shutdown(closing) in a"])
    }

    @Test func postponeFalseInTheEnterCallOverridesTheEventsPostpone() async throws {
        // The enter call's actions go into the same accumulators as the event's: the last postpone wins.
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("go")): .goto("b", .postpone)
            case ("b", .enter): .keep(.postpone(false))
            default: .keep
            }
        })
        try server.cast("go")
        #expect(log.entries == ["a enter:a", "a cast:go", "b enter:a"])
        #expect(try await server.status().postponedEvents == 0)
    }

    @Test func aReplaceStateIsNotAStateChangeAndRetriesNothing() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Self.postponer(log: log, enter: true))
        try server.cast("p1")
        try await server.replaceState { state, _ in state = "b" }
        try server.cast("x")
        #expect(log.entries == ["a enter:a", "a cast:p1", "b cast:x"])
        #expect(try await server.status().postponedEvents == 1)
    }
}
