import Testing
@testable import StateServer

/// `handle_call` results, deferred replies and stops (otp-semantics §2.1, §2.3, §2.4).
@Suite struct GenServerCallTests {
    let harness = GenServerHarness()

    @Test func replyAnswersTheCaller() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        #expect(try await server.call { .echo(42, $0) } == 42)
        #expect(try await harness.log(server) == ["init", "call:echo 42"])
    }

    @Test func noreplyLeavesTheCallerWaitingUntilReplySend() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        let held = server.request { .hold($0) }
        #expect(!held.isResolved)
        try server.cast(.release("later"))
        #expect(try held.result?.get() == "later")
    }

    @Test func aKeptHandleCanBeAnsweredWithAReplyAction() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        let held = server.request { .hold($0) }
        try server.cast(.releaseWithAction("by action"))
        #expect(try held.result?.get() == "by action")
    }

    @Test func otherCallsAreServedWhileAReplyIsDeferred() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        let held = server.request { .hold($0) }
        #expect(try await server.call { .echo(7, $0) } == 7)
        #expect(!held.isResolved)
    }

    @Test func stopWithReplyRunsTerminateBeforeTheReplyIsSent() async throws {
        let probe = GenServerProbe()
        let server = try harness.runtime.start(probe)
        let reply = try await server.call { .stopWithReply(.normal, $0) }
        probe.terminations.append("caller got \(reply)")
        #expect(probe.terminations.elements == ["terminate(normal) held answered: [false]", "caller got bye"])
        #expect(server.exitReason?.description == "normal")
    }

    @Test func stopWithReplyStillAnswersWhenTerminateThrows() async throws {
        let probe = GenServerProbe(terminateThrows: true)
        let server = try harness.runtime.start(probe)
        #expect(try await server.call { .stopWithReply(.normal, $0) } == "bye")
        #expect(probe.terminations.elements == ["terminate(normal) held answered: [false]"])
        #expect(server.exitReason?.description == "error(GenServerTestError(terminate))")
    }

    @Test func stopWithReplyEndsWithTheGivenReason() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        #expect(try await server.call { .stopWithReply(.shutdown("done"), $0) } == "bye")
        #expect(server.exitReason?.description == "shutdown(done)")
        #expect(!server.isAlive)
    }

    @Test func stopWithoutReplyFailsTheCallerWithTheExitReason() async throws {
        let probe = GenServerProbe()
        let server = try harness.runtime.start(probe)
        let error = await #expect(throws: StateServerError.self) {
            try await server.call { .stopWithoutReply(.shutdown("bye"), $0) }
        }
        #expect(error?.code == .serverExited)
        #expect(error?.exitReason?.description == "shutdown(bye)")
        #expect(probe.terminations.elements == ["terminate(shutdown(bye)) held answered: []"])
    }

    @Test func pendingDeferredCallersGetTheExitReasonWhenTheServerStops() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        let held = server.request { .hold($0) }
        try server.cast(.stop(.shutdown))
        guard case .failure(let error)? = held.result else {
            Issue.record("expected the held call to fail, got \(String(describing: held.result))")
            return
        }
        #expect(error.code == .serverExited)
        #expect(error.exitReason?.description == "shutdown")
    }

    @Test func aThrowingCallbackStopsTheServerAndCallsTerminate() async throws {
        let probe = GenServerProbe()
        let server = try harness.runtime.start(probe)
        let error = await #expect(throws: StateServerError.self) { try await server.call { .crash($0) } }
        #expect(error?.code == .serverExited)
        #expect(server.exitReason?.description == "error(GenServerTestError(crash))")
        #expect(probe.terminations.elements == ["terminate(error(GenServerTestError(crash))) held answered: []"])
        #expect(harness.reports.elements.count == 1)
    }

    @Test func anExternalStopCallsTerminateWithTheFinalState() async throws {
        let probe = GenServerProbe()
        let server = try harness.runtime.start(probe)
        _ = server.request { .hold($0) }
        try await server.stop(.shutdown)
        #expect(probe.terminations.elements == ["terminate(shutdown) held answered: [false]"])
    }

    @Test func postponeStopsTheServerWithAnInvalidActionError() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        await #expect(throws: StateServerError.self) { try await server.call { .postpone($0) } }
        guard case .error(let cause as StateServerError)? = server.exitReason else {
            Issue.record("expected an invalidAction exit, got \(String(describing: server.exitReason))")
            return
        }
        #expect(cause.code == .invalidAction)
    }
}
