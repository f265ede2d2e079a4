import Testing
@testable import StateServer

/// Calls in virtual time: typed replies, caller timeouts, deferred replies, fan-out and concurrent callers.
@Suite struct RuntimeCallTests {
    // MARK: Typed replies

    @Test func callRepliesWithAnInteger() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        #expect(try await server.call { .echo(42, $0) } == 42)
        #expect(try await server.call { .echo(-7, $0) } == -7)
    }

    @Test func callRepliesWithAStringBuiltFromStateAndData() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("a"))
        try server.cast(.becomeBusy)
        #expect(try await server.call { .describe($0) } == "busy after 1 notes")
    }

    @Test func callRepliesWithABooleanAndAStruct() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        #expect(try await server.call { .isBusy($0) } == false)
        try server.cast(.becomeBusy)
        #expect(try await server.call { .isBusy($0) } == true)
        #expect(try await server.call { .point(3, 4, $0) } == RuntimeProbe.Point(x: 3, y: 4))
    }

    @Test func callWithAVoidReplyReturnsAfterTheHandlerRan() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try await server.call { .touch($0) }
        #expect(try await server.call { .log($0) } == ["touched"])
    }

    @Test func requestToAnIdleServerIsResolvedWhenItReturnsInVirtualTime() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request { .echo(5, $0) }
        #expect(pending.isResolved)
        RuntimeExpect.reply(pending, 5)
    }

    // MARK: Caller timeouts

    @Test func callerTimesOutAfterItsTimeoutAndTheLateReplyIsDropped() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: .seconds(1)) { .hold($0) }
        clock.advance(by: .milliseconds(999))
        #expect(!pending.isResolved)
        clock.advance(by: .milliseconds(1))
        RuntimeExpect.failure(pending, .callTimeout)

        // The server answers late, from outside and through an action: both are dropped, nothing crashes.
        let held = try await server.call { .heldReplies($0) }
        try #require(held.count == 1)
        #expect(held[0].send(99) == false)
        try server.cast(.release(100))
        RuntimeExpect.failure(pending, .callTimeout)
        #expect(server.isAlive)
        #expect(try await server.call { .echo(1, $0) } == 1)
    }

    @Test func callTimeoutIsDisarmedWhenTheReplyArrivesInTime() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: .seconds(1)) { .hold($0) }
        #expect(clock.armedTimerCount == 1)
        try server.cast(.release(8))
        RuntimeExpect.reply(pending, 8)
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(2))
        RuntimeExpect.reply(pending, 8)
    }

    @Test func defaultCallTimeoutIsFiveSeconds() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        #expect(Server<RuntimeProbe>.defaultCallTimeout == .seconds(5))
        let pending = server.request { .hold($0) }
        #expect(clock.nextDeadline == RuntimeInstant.zero + .seconds(5))
        clock.advance(by: .milliseconds(4_999))
        #expect(!pending.isResolved)
        clock.advance(by: .milliseconds(1))
        RuntimeExpect.failure(pending, .callTimeout)
    }

    @Test func nilTimeoutWaitsForever() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: nil) { .hold($0) }
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(3_600))
        #expect(!pending.isResolved)
        try server.cast(.release(3))
        RuntimeExpect.reply(pending, 3)
    }

    @Test func negativeCallTimeoutIsAnInvalidArgumentAndNothingIsSent() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        await RuntimeExpect.throwsCode(.invalidArgument) { try await server.call(timeout: .seconds(-1)) { .touch($0) } }
        let pending = server.request(timeout: .milliseconds(-1)) { .touch($0) }
        RuntimeExpect.failure(pending, .invalidArgument)
        #expect(try await server.call { .log($0) } == [])
        #expect(try await server.status().handledEvents == 1)
    }

    // MARK: Deferred replies

    @Test func deferredReplyIsAnsweredFromALaterEvent() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let first = server.request { .hold($0) }
        let second = server.request { .hold($0) }
        #expect(!first.isResolved && !second.isResolved)
        try server.cast(.release(21))
        RuntimeExpect.reply(first, 21)
        RuntimeExpect.reply(second, 21)
        #expect(try await first.value() == 21)
    }

    @Test func deferredReplyIsAnsweredFromOutsideWithReplySend() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: nil) { .hold($0) }
        let held = try await server.call { .heldReplies($0) }
        try #require(held.count == 1)
        #expect(!held[0].isAnswered)
        #expect(held[0].send(11) == true)
        #expect(held[0].isAnswered)
        #expect(held[0].value == 11)
        #expect(try await pending.value() == 11)
        // The first answer wins: a second one, from outside or from the server, is dropped.
        #expect(held[0].send(12) == false)
        try server.cast(.release(13))
        RuntimeExpect.reply(pending, 11)
    }

    @Test func pendingReplyCanBeAwaitedFromSeveralTasks() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: nil) { .hold($0) }
        async let first = pending.value()
        async let second = pending.value()
        try server.cast(.release(17))
        #expect(try await first == 17)
        #expect(try await second == 17)
    }

    @Test func cancelledRequestFailsWithCancelledAndItsLateReplyIsDropped() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: nil) { .hold($0) }
        pending.cancel()
        RuntimeExpect.failure(pending, .cancelled)
        let held = try await server.call { .heldReplies($0) }
        #expect(held.first?.send(1) == false)
        #expect(server.isAlive)
    }

    @Test func callWhoseTaskIsCancelledFailsWithCancelled() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let caller = Task { try await server.call(timeout: nil) { .hold($0) } }
        caller.cancel()
        let result = await caller.result
        switch result {
        case .success(let value): Issue.record("expected cancelled, got \(value)")
        case .failure(let error): #expect((error as? StateServerError)?.code == .cancelled, "\(error)")
        }
        for reply in try await server.call({ .heldReplies($0) }) { #expect(reply.send(1) == false) }
    }

    // MARK: Many requests

    @Test func fanOutToTenServersResolvesEveryRequestOnceTheyAreIdle() throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let servers = try (0..<10).map { _ in try runtime.start(RuntimeProbe()) }
        let echoes = servers.enumerated().map { index, server in server.request { .echo(index * 10, $0) } }
        let deferred = servers.map { server in server.request(timeout: .seconds(2)) { .hold($0) } }
        for (index, pending) in echoes.enumerated() { RuntimeExpect.reply(pending, index * 10) }
        #expect(deferred.allSatisfy { !$0.isResolved })
        for (index, server) in servers.enumerated() where index % 2 == 0 { try server.cast(.release(index)) }
        clock.advance(by: .seconds(2))
        for (index, pending) in deferred.enumerated() {
            if index % 2 == 0 {
                RuntimeExpect.reply(pending, index)
            } else {
                RuntimeExpect.failure(pending, .callTimeout)
            }
        }
    }

    @Test func manyConcurrentCallersToOneServerEachGetTheirOwnReply() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let replies = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for caller in 0..<200 {
                group.addTask { (caller, try await server.call(timeout: nil) { .echo(caller * 3, $0) }) }
            }
            var replies: [Int: Int] = [:]
            for try await (caller, reply) in group { replies[caller] = reply }
            return replies
        }
        #expect(replies.count == 200)
        #expect(replies.allSatisfy { caller, reply in reply == caller * 3 })
        #expect(try await server.status().handledEvents == 200)
    }
}
