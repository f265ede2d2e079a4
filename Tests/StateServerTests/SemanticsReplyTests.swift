import Testing
import StateServer

// otp-semantics §1.5 step 1, §1.6 (reply), §1.10 and the first line of §6: replies are sent while the actions are
// processed, before enter calls and before terminate; deferred replies; duplicate and late replies are dropped.

@Suite("Semantics: replies")
struct SemanticsReplyTests {
    @Test func aReplyIsSentWhileActionsAreProcessedBeforeTheEnterCall() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, state, data in
            switch (state, event) {
            case ("a", .call(.ask(_, let reply))):
                data.held = [reply]
                return .goto("b", .reply(reply, "done"))
            case ("b", .enter):
                log.append("answered before enter: \(data.held.first?.isAnswered ?? false)")
                return .keep
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        #expect(pending.answer == "done")
        #expect(log.entries == ["a enter:a", "a call:q", "b enter:a", "answered before enter: true"])
    }

    @Test func aReplyIsSentBeforeTerminateWhenTheEnterCallStops() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true,
            terminate: { _, _, data in log.append("answered before terminate: \(data.held.first?.isAnswered ?? false)") }
        ) { event, state, data in
            switch (state, event) {
            case ("a", .call(.ask(_, let reply))):
                data.held = [reply]
                return .goto("b", .reply(reply, "done"))
            case ("b", .enter):
                return .stop
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        #expect(pending.answer == "done")
        #expect(log.entries == [
            "a enter:a", "a call:q", "b enter:a", "terminate normal in b", "answered before terminate: true",
        ])
    }

    @Test func stopAndReplyAnswersEveryCallerInOrderBeforeTerminate() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let order = EventLog()
        let server = try runtime.start(
            Probe(
                log: log,
                terminate: { _, _, data in
                    log.append("at terminate: \(data.held.map(\.isAnswered))")
                }
            ) { event, _, data in
                switch event {
                case .call(.ask("first", let reply)):
                    data.held.append(reply)
                    return .keep
                case .call(.ask("second", let reply)):
                    data.held.append(reply)
                    return .stopAndReply(.shutdown("done"), .reply(data.held[0], "one"), .reply(reply, "two"))
                default:
                    return .keep
                }
            },
            options: ServerOptions(observer: { observation in
                switch observation.event {
                case .replied(let value, let delivered): order.append("replied \(value) \(delivered)")
                case .stopping(let reason, _): order.append("stopping \(reason.label)")
                case .exited(let reason): order.append("exited \(reason.label)")
                default: break
                }
            }))
        let first = server.request(timeout: nil) { .ask("first", $0) }
        let second = server.request(timeout: nil) { .ask("second", $0) }
        #expect(first.answer == "one")
        #expect(second.answer == "two")
        #expect(log.entries == ["a call:first", "a call:second", "terminate shutdown(done) in a", "at terminate: [true, true]"])
        #expect(order.entries == ["replied one true", "replied two true", "stopping shutdown(done)", "exited shutdown(done)"])
    }

    @Test func repliesInOneActionListAreSentLeftToRight() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let order = EventLog()
        let server = try runtime.start(
            Probe(log: EventLog()) { event, _, data in
                guard case .call(.ask(let tag, let reply)) = event else { return .keep }
                data.held.append(reply)
                guard tag == "last" else { return .keep }
                return .keep(actions: data.held.reversed().map { .reply($0, "to \($0 == reply ? "last" : "earlier")") })
            },
            options: ServerOptions(observer: { observation in
                if case .replied(let value, _) = observation.event { order.append("\(value)") }
            }))
        let earlier = server.request(timeout: nil) { .ask("earlier", $0) }
        let last = server.request(timeout: nil) { .ask("last", $0) }
        #expect(earlier.answer == "to earlier")
        #expect(last.answer == "to last")
        #expect(order.entries == ["to last", "to earlier"])
    }

    @Test func aCallCanBeAnsweredLaterFromAnotherEvent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, data in
            switch event {
            case .call(.ask(_, let reply)):
                data.held.append(reply)
                return .keep(.timeout("work", .after(.seconds(3)), "finished"))
            case .timeout("work", let result):
                let replies = data.held.map { Action<Probe>.reply($0, result) }
                data.held = []
                return .keep(actions: replies)
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("job", $0) }
        clock.advance(by: .seconds(2))
        #expect(!pending.isResolved)
        clock.advance(by: .seconds(1))
        #expect(pending.answer == "finished")
    }

    @Test func aDeferredReplyCanBeSentFromOutsideTheServer() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, data in
            if case .call(.ask(_, let reply)) = event { data.held.append(reply) }
            return .keep
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        let handle = try #require(try await server.getState().data.held.first)
        #expect(handle.send("from outside"))
        #expect(pending.answer == "from outside")
        #expect(handle.send("twice") == false)
        #expect(handle.value == "from outside")
    }

    @Test func aSecondReplyThroughTheSameHandleIsDropped() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let delivered = EventLog()
        let server = try runtime.start(
            Probe(log: EventLog()) { event, _, _ in
                if case .call(.ask(_, let reply)) = event { return .keep(.reply(reply, "first"), .reply(reply, "second")) }
                return .keep
            },
            options: ServerOptions(observer: { observation in
                if case .replied(let value, let wasDelivered) = observation.event { delivered.append("\(value) \(wasDelivered)") }
            }))
        #expect(try await server.call { .ask("q", $0) } == "first")
        #expect(server.isAlive)
        #expect(delivered.entries == ["first true", "second false"])
        #expect(try await server.call { .ask("again", $0) } == "first")
    }

    @Test func aReplyAfterTheCallerTimedOutIsDroppedAndTheServerCarriesOn() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, data in
            switch event {
            case .call(.ask(_, let reply)):
                data.held.append(reply)
                return .keep
            case .cast("answer"):
                return .keep(actions: data.held.map { .reply($0, "late") })
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: .seconds(1)) { .ask("q", $0) }
        clock.advance(by: .seconds(2))
        expectFailure(pending, code: .callTimeout)
        try server.cast("answer")
        #expect(server.isAlive)
        expectFailure(pending, code: .callTimeout)
    }

    @Test func aReplyThroughAnotherServersHandleStopsTheServerWithInvalidAction() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let stolen = SharedBox<Reply<String>?>(nil)
        let owner = try runtime.start(Probe(log: EventLog()) { event, _, _ in
            if case .call(.ask(_, let reply)) = event { stolen.value = reply }
            return .keep
        })
        let thiefLog = EventLog()
        let thief = try runtime.start(Probe(log: thiefLog) { event, _, _ in
            guard case .cast("answer") = event, let reply = stolen.value else { return .keep }
            return .keep(.reply(reply, "not mine"))
        })
        let pending = owner.request(timeout: nil) { .ask("q", $0) }
        try thief.cast("answer")
        expectErrorExit(thief, code: .invalidAction)
        #expect(!pending.isResolved)
        #expect(owner.isAlive)
        #expect(thiefLog.entries == ["a cast:answer", "terminate error(invalidAction) in a"])
    }

    @Test func aReplyActionInStartIsSent() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let handle = Reply<String>()
        _ = try runtime.start(Probe(
            log: EventLog(),
            start: { .ok("a", data: ProbeData(), .reply(handle, "started")) }
        ) { _, _, _ in .keep })
        #expect(handle.value == "started")
    }
}
