import Testing
import StateServer

// otp-semantics §1.4 (return values), §1.5 (the transition algorithm), §1.6 (actions), §1.10 (termination).

@Suite("Semantics: transitions and termination")
struct SemanticsTransitionTests {
    // MARK: §1.4 — what counts as a state change

    @Test func gotoTheCurrentStateIsNotAStateChange() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "t")) }
        ) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("hold")): .keep(.postpone)
            case ("a", .cast("same")): .goto("a")
            default: .keep
            }
        })
        try server.cast("hold")
        try server.cast("same")
        clock.advance(by: .seconds(10))
        // No enter call, the postponed event stays postponed, and the state timeout still fires.
        #expect(log.entries == ["a enter:a", "a cast:hold", "a cast:same", "a stateTimeout:t"])
        #expect(try await server.status().postponedEvents == 1)
    }

    @Test func gotoAnotherStateIsAStateChange() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log, enter: true,
            start: { .ok("a", data: ProbeData(), .stateTimeout(.after(.seconds(10)), "t")) }
        ) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("hold")): .keep(.postpone)
            case ("a", .cast("go")): .goto("b")
            default: .keep
            }
        })
        try server.cast("hold")
        try server.cast("go")
        clock.advance(by: .seconds(10))
        // An enter call from the old state, the postponed event retried, the old state timeout cancelled.
        #expect(log.entries == ["a enter:a", "a cast:hold", "a cast:go", "b enter:a", "b cast:hold"])
        let status = try await server.status()
        #expect(status.state == "b")
        #expect(status.postponedEvents == 0)
    }

    @Test func keepStaysInTheStateAndKeepsDataChanges() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, enter: true) { event, _, data in
            if case .cast("add") = event { data.count += 5 }
            return .keep
        })
        try server.cast("add")
        try server.cast("add")
        let snapshot = try await server.getState()
        #expect(snapshot.state == "a")
        #expect(snapshot.data.count == 10)
        #expect(log.entries == ["a enter:a", "a cast:add", "a cast:add"])
    }

    // MARK: §1.4 — stop

    @Test func stopEndsTheServerNormallyAfterCallingTerminateWithTheCurrentData() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let seen = SharedBox<Int?>(nil)
        let server = try runtime.start(Probe(
            log: log,
            terminate: { _, _, data in seen.value = data.count }
        ) { event, _, data in
            guard case .cast("stop") = event else { return .keep }
            data.count = 7
            return .stop
        })
        try server.cast("stop")
        #expect(!server.isAlive)
        #expect(server.exitReason?.label == "normal")
        #expect(log.entries == ["a cast:stop", "terminate normal in a"])
        #expect(seen.value == 7)
    }

    @Test(arguments: [ExitReason.normal, .shutdown, .shutdown("maintenance")])
    func stopWithAReasonEndsWithThatReasonAndPassesItToTerminate(reason: ExitReason) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("stop") = event { return .stop(reason) }
            return .keep
        })
        try server.cast("stop")
        #expect(server.exitReason?.label == reason.label)
        #expect(log.entries == ["a cast:stop", "terminate \(reason.label) in a"])
    }

    @Test func stopAndReplyWithANonReplyActionStopsWithInvalidActionAfterTheEarlierReplies() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            guard case .call(.ask(_, let reply)) = event else { return .keep }
            return .stopAndReply(.normal, .reply(reply, "sent"), .postpone)
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        #expect(pending.answer == "sent")
        expectErrorExit(server, code: .invalidAction)
        #expect(log.entries == ["a call:q", "terminate error(invalidAction) in a"])
    }

    // MARK: §1.5 — inserted events

    @Test func insertedEventsAreHandledInActionOrderBeforeMessagesInTheMailbox() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("x") = event { return .keep(.next("1"), .next("2"), .next("3")) }
            return .keep
        })
        try await server.suspend()
        try server.cast("x")
        try server.cast("m")
        try await server.resume()
        #expect(log.entries == ["a cast:x", "a internal:1", "a internal:2", "a internal:3", "a cast:m"])
    }

    /// A transition keeps its first two actions inline and the rest in a list: every count, in every form, takes
    /// all of them in order.
    @Test(arguments: 0...4)
    func everyFormOfATransitionTakesAllItsActionsInOrder(count: Int) throws {
        let names = (0..<count).map { "n\($0)" }
        let actions = names.map { Action<Probe>.next($0) }
        let variadic: (String) -> Transition<Probe> = { form in
            switch (form, count) {
            case ("goto", 0): .goto("b")
            case ("goto", 1): .goto("b", actions[0])
            case ("goto", 2): .goto("b", actions[0], actions[1])
            case ("goto", 3): .goto("b", actions[0], actions[1], actions[2])
            case ("goto", _): .goto("b", actions[0], actions[1], actions[2], actions[3])
            case (_, 0): .keep
            case (_, 1): .keep(actions[0])
            case (_, 2): .keep(actions[0], actions[1])
            case (_, 3): .keep(actions[0], actions[1], actions[2])
            default: .keep(actions[0], actions[1], actions[2], actions[3])
            }
        }
        let forms: [(String, Transition<Probe>)] = [
            ("goto", variadic("goto")), ("goto", .goto("b", actions: actions)),
            ("keep", variadic("keep")), ("keep", .keep(actions: actions)),
        ]
        for (form, transition) in forms {
            let log = EventLog()
            let runtime = Runtime(clock: ManualClock())
            let server = try runtime.start(Probe(log: log) { event, _, _ in
                if case .cast("x") = event { return transition }
                return .keep
            })
            try server.cast("x")
            let state = form == "goto" ? "b" : "a"
            #expect(log.entries == ["a cast:x"] + names.map { "\(state) internal:\($0)" }, "\(form), \(count) actions")
        }
    }

    @Test func eventsInsertedWhileHandlingAnInsertedEventGoAheadOfTheRestOfTheQueue() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            switch event {
            case .cast("x"): .keep(.next("1"), .next("2"))
            case .internal("1"): .keep(.next("1a"), .next("1b"))
            default: .keep
            }
        })
        try server.cast("x")
        #expect(log.entries == ["a cast:x", "a internal:1", "a internal:1a", "a internal:1b", "a internal:2"])
    }

    @Test func anyKindOfEventCanBeInserted() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let injected = Reply<String>()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch event {
            case .cast("inject"):
                return .keep(
                    .nextEvent(.cast("c")), .nextEvent(.info("i")), .nextEvent(.internal("n")),
                    .nextEvent(.eventTimeout("e")), .nextEvent(.stateTimeout("s")), .nextEvent(.timeout("t", "x")),
                    .nextEvent(.call(.ask("q", injected))))
            case .call(.ask(_, let reply)):
                return .keep(.reply(reply, "answered in \(state)"))
            default:
                return .keep
            }
        })
        try server.cast("inject")
        #expect(log.entries == [
            "a cast:inject", "a cast:c", "a info:i", "a internal:n", "a eventTimeout:e", "a stateTimeout:s",
            "a timeout(t):x", "a call:q",
        ])
        #expect(injected.value == "answered in a")
        #expect(clock.armedTimerCount == 0)
    }

    @Test func anInsertedEventThatStopsTheServerEndsTheLoopBeforeTheEventsBehindIt() throws {
        // The loop over inserted and retried events ends on the engine's dropped queues: nothing behind the event
        // that stopped is handled — neither the other inserted event nor the postponed call, retried behind the
        // inserted ones — and the call's caller is answered with the exit.
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .call): return .keep(.postpone)
            case ("a", .cast("go")): return .goto("b", .nextEvent(.internal("stop")), .nextEvent(.internal("after")))
            case ("b", .internal("stop")): return .stop(.shutdown("inserted"))
            default: return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        try server.cast("go")
        #expect(log.entries == ["a call:q", "a cast:go", "b internal:stop", "terminate shutdown(inserted) in b"])
        expectFailure(pending, code: .serverExited, reason: "shutdown(inserted)")
    }

    @Test func anInsertedCallWithADetachedReplyHandleIsAnsweredThroughIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let handle = Reply<String>()
        let server = try runtime.start(Probe(log: log) { event, state, data in
            switch (state, event) {
            case ("a", .cast("inject")): return .goto("b", .nextEvent(.call(.ask("inner", handle))))
            case (_, .call(.ask(let tag, let reply))):
                data.count += 1
                return .keep(.reply(reply, "\(tag) in \(state)"))
            default: return .keep
            }
        })
        #expect(!handle.isAnswered)
        try server.cast("inject")
        #expect(handle.value == "inner in b")
        #expect(handle.send("again") == false)
        #expect(server.isAlive)
    }

    @Test func sendToSelfGoesBehindQueuedMessagesUnlikeAnInsertedEvent() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("x") = event { return .keep(.send("mine"), .next("inserted")) }
            return .keep
        })
        try await server.suspend()
        try server.cast("x")
        try server.cast("m")
        try await server.resume()
        #expect(log.entries == ["a cast:x", "a internal:inserted", "a cast:m", "a info:mine"])
    }

    // MARK: §1.5 step 1 / §1.6 — options: the last one wins

    @Test(arguments: [
        ([Action<Probe>.postpone, .postpone(false)], false),
        ([Action<Probe>.postpone(false), .postpone], true),
        ([Action<Probe>.postpone, .postpone(false), .postpone(true)], true),
    ])
    func theLastPostponeActionWins(actions: [Action<Probe>], isPostponed: Bool) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, state, _ in
            switch (state, event) {
            case ("a", .cast("x")): .keep(actions: actions)
            case ("a", .cast("go")): .goto("b")
            default: .keep
            }
        })
        try server.cast("x")
        #expect(try await server.status().postponedEvents == (isPostponed ? 1 : 0))
        try server.cast("go")
        let expected = ["a cast:x", "a cast:go"] + (isPostponed ? ["b cast:x"] : [])
        #expect(log.entries == expected)
    }

    // MARK: §1.10 — termination

    @Test func aThrowingHandlerStopsTheServerWithItsErrorAndTerminateGetsIt() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let seen = SharedBox<String?>(nil)
        let server = try runtime.start(Probe(
            log: log,
            terminate: { reason, _, _ in seen.value = (reason.thrownError as? Boom)?.tag }
        ) { event, _, _ in
            if case .cast("explode") = event { throw Boom("bad") }
            return .keep
        })
        try server.cast("explode")
        #expect(!server.isAlive)
        #expect(server.exitReason?.thrownError as? Boom == Boom("bad"))
        #expect(log.entries == ["a cast:explode", "terminate error(Boom(bad)) in a"])
        #expect(seen.value == "bad")
    }

    @Test func aThrowingTerminateReplacesTheExitReason() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            terminate: { _, _, _ in throw Boom("in terminate") }
        ) { event, _, _ in
            if case .cast("stop") = event { return .stop(.shutdown("asked")) }
            return .keep
        })
        try server.cast("stop")
        #expect(log.entries == ["a cast:stop", "terminate shutdown(asked) in a"])
        #expect(server.exitReason?.thrownError as? Boom == Boom("in terminate"))
    }

    @Test func terminateSeesTheStateAndDataAtTheMomentOfStopping() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let seen = SharedBox<[String]>([])
        let server = try runtime.start(Probe(
            log: log,
            terminate: { _, state, data in seen.value = [state, "\(data.count)"] + data.notes }
        ) { event, state, data in
            switch (state, event) {
            case ("a", .cast("go")):
                data.count = 1
                return .goto("b")
            case ("b", .cast("stop")):
                data.count += 10
                data.notes.append("last")
                return .stop(.shutdown)
            default:
                return .keep
            }
        })
        try server.cast("go")
        try server.cast("stop")
        #expect(seen.value == ["b", "11", "last"])
        #expect(log.entries.last == "terminate shutdown in b")
    }

    @Test func pendingCallersGetServerExitedWithTheExitReason() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, data in
            switch event {
            case .call(.ask(_, let reply)):
                data.held.append(reply)
                return .keep
            case .cast("quit"):
                return .stop(.shutdown("bye"))
            default:
                return .keep
            }
        })
        let first = server.request(timeout: nil) { .ask("1", $0) }
        let second = server.request(timeout: nil) { .ask("2", $0) }
        #expect(!first.isResolved && !second.isResolved)
        try server.cast("quit")
        expectFailure(first, code: .serverExited, reason: "shutdown(bye)")
        expectFailure(second, code: .serverExited, reason: "shutdown(bye)")
        let late = server.request(timeout: nil) { .ask("3", $0) }
        expectFailure(late, code: .noSuchServer)
    }

    @Test func anExternalStopCallsTerminateWithItsReason() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { event, _, _ in
            if case .cast("go") = event { return .goto("b") }
            return .keep
        })
        try server.cast("go")
        try await server.stop(.shutdown("operator"))
        #expect(log.entries == ["a cast:go", "terminate shutdown(operator) in b"])
        #expect(server.exitReason?.label == "shutdown(operator)")
    }

    @Test func terminationCancelsEveryTimeoutAndDelayedMessage() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(
            log: log,
            start: {
                .ok("a", data: ProbeData(),
                    .eventTimeout(.after(.seconds(1)), "e"), .stateTimeout(.after(.seconds(2)), "s"),
                    .timeout("n", .after(.seconds(3)), "t"), .send("late", after: .seconds(4)))
            }
        ) { _, _, _ in .keep })
        #expect(clock.armedTimerCount == 4)
        try await server.stop()
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(10))
        #expect(log.entries == ["terminate normal in a"])
    }

    @Test func aThrowingTerminateDuringAnExternalStopBecomesTheExitReason() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log, terminate: { _, _, _ in throw Boom("cleanup") }) { _, _, _ in .keep })
        // As gen_statem:stop/3: the stop fails with the error terminate threw.
        await #expect {
            try await server.stop(.shutdown)
        } throws: { error in
            let error = error as? StateServerError
            return error?.code == .serverExited && error?.exitReason?.thrownError as? Boom == Boom("cleanup")
        }
        #expect(log.entries == ["terminate shutdown in a"])
        #expect(server.exitReason?.thrownError as? Boom == Boom("cleanup"))
        #expect(try await server.waitForExit().thrownError as? Boom == Boom("cleanup"))
    }

    @Test func stoppingAServerThatHasEndedThrowsNoSuchServer() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let log = EventLog()
        let server = try runtime.start(Probe(log: log) { _, _, _ in .keep })
        try await server.stop()
        await #expect {
            try await server.stop()
        } throws: { error in
            (error as? StateServerError)?.code == .noSuchServer
        }
        #expect(log.entries == ["terminate normal in a"])
    }

    @Test func aRequestToAServerThatHasEndedReportsNoSuchServerInItsHandle() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(Probe(log: EventLog()) { event, _, _ in
            if case .cast("quit") = event { return .stop }
            return .keep
        })
        try server.cast("quit")
        let pending = server.request { .ask("late", $0) }
        expectFailure(pending, code: .noSuchServer)
    }

    @Test func aCallWithoutTimeoutWaitsAsLongAsItTakes() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(Probe(log: EventLog()) { event, _, data in
            switch event {
            case .call(.ask(_, let reply)):
                data.held.append(reply)
                return .keep
            case .cast("answer"):
                return .keep(actions: data.held.map { .reply($0, "eventually") })
            default:
                return .keep
            }
        })
        let pending = server.request(timeout: nil) { .ask("q", $0) }
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(3600))
        #expect(!pending.isResolved)
        try server.cast("answer")
        #expect(pending.answer == "eventually")
    }
}
