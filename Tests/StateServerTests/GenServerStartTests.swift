import Testing
@testable import StateServer

/// `init/1` outcomes (otp-semantics §2.1, §2.2).
@Suite struct GenServerStartTests {
    let harness = GenServerHarness()

    @Test func okStartsRunningWithTheInitialState() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        let status = try await server.status()
        #expect(status.state == .running)
        #expect(status.data.log == ["init"])
        #expect(server.isAlive)
    }

    @Test func okWithContinueRunsHandleContinueBeforeStartReturns() async throws {
        let server = try harness.runtime.start(GenServerProbe(outcome: .okWithContinue("setup")))
        #expect(try await harness.log(server) == ["init", "continue:setup"])
    }

    @Test func okWithTimeoutCallsHandleTimeoutWhenNoMessageArrives() async throws {
        let server = try harness.runtime.start(GenServerProbe(outcome: .okWithTimeout(.seconds(10))))
        harness.clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(try await harness.log(server) == ["init"])
        harness.clock.advance(by: .nanoseconds(1))
        #expect(try await harness.log(server) == ["init", "timeout"])
    }

    @Test func okWithActionsTakesThemAtStart() async throws {
        let probe = GenServerProbe(outcome: .okWithMessageToSelf("hello", after: .seconds(1)))
        let server = try harness.runtime.start(probe)
        harness.clock.advance(by: .seconds(1))
        #expect(try await harness.log(server) == ["init", "info:hello"])
    }

    @Test func ignoreFailsTheStartWithIgnored() {
        #expect {
            try harness.runtime.start(GenServerProbe(outcome: .ignore))
        } throws: { error in
            (error as? StateServerError)?.code == .ignored
        }
    }

    @Test func stopFailsTheStartWithTheReason() throws {
        let error = try #require(throws: StateServerError.self) {
            try harness.runtime.start(GenServerProbe(outcome: .stop(.shutdown("no config"))))
        }
        #expect(error.code == .startFailed)
        #expect(error.exitReason?.description == "shutdown(no config)")
    }

    @Test func errorFailsTheStartQuietly() throws {
        let error = try #require(throws: StateServerError.self) {
            try harness.runtime.start(GenServerProbe(outcome: .error(GenServerTestError(tag: "bad"))))
        }
        #expect(error.code == .startFailed)
        guard case .error(let cause)? = error.exitReason else {
            Issue.record("expected an error exit reason, got \(String(describing: error.exitReason))")
            return
        }
        #expect(cause as? GenServerTestError == GenServerTestError(tag: "bad"))
        #expect(harness.reports.elements.isEmpty)
    }

    @Test func throwingFromInitializeFailsTheStart() throws {
        let error = try #require(throws: StateServerError.self) {
            try harness.runtime.start(GenServerProbe(outcome: .throwing(GenServerTestError(tag: "boom"))))
        }
        #expect(error.code == .startFailed)
        #expect(error.exitReason?.description == "error(GenServerTestError(boom))")
    }

    @Test func postponeInTheInitialActionsFailsTheStart() throws {
        struct Postponing: GenServer {
            typealias ServerState = Int  // no callback names the state, so it cannot be inferred
            func initialize() -> GenServerStart<Self> { .ok(0, .postpone) }
        }
        let error = try #require(throws: StateServerError.self) { try harness.runtime.start(Postponing()) }
        #expect(error.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error.exitReason else {
            Issue.record("expected an invalidAction exit reason, got \(String(describing: error.exitReason))")
            return
        }
        #expect(cause.code == .invalidAction)
    }
}
