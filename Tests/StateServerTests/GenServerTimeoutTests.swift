import Testing
@testable import StateServer

/// The inactivity timeout of a callback result (`{noreply, S, Timeout}`, otp-semantics §2.2).
@Suite struct GenServerTimeoutTests {
    let harness = GenServerHarness()

    /// A message of each kind, sent from outside or to self.
    enum Message: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case call, cast, info, messageToSelf
        var testDescription: String { rawValue }
    }

    @Test(arguments: Message.allCases)
    func anyMessageCancelsTheTimeout(_ message: Message) async throws {
        let server = try harness.runtime.start(GenServerProbe())
        // The message to self is scheduled before the timeout is armed: it arrives at 5 s on its own.
        if message == .messageToSelf { try server.cast(.sendAfter("x", .seconds(5))) }
        try server.cast(.noteWithTimeout("armed", .seconds(10)))
        harness.clock.advance(by: .seconds(5))
        switch message {
        case .call: _ = try await server.call { .echo(1, $0) }
        case .cast: try server.cast(.note("x"))
        case .info: try server.send(.note("x"))
        case .messageToSelf: break
        }
        harness.clock.advance(by: .seconds(60))
        let log = try await harness.log(server)
        #expect(log.count == 3)
        #expect(!log.contains("timeout"))
        #expect(try await server.status().timeouts.isEmpty)
    }

    @Test func theTimeoutFiresAfterThatLongWithoutMessages() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.noteWithTimeout("armed", .seconds(10)))
        harness.clock.advance(by: .milliseconds(9_999))
        #expect(try await harness.log(server) == ["init", "cast:armed"])
        harness.clock.advance(by: .milliseconds(1))
        #expect(try await harness.log(server) == ["init", "cast:armed", "timeout"])
        harness.clock.advance(by: .seconds(60))
        #expect(try await harness.log(server).filter { $0 == "timeout" }.count == 1)
    }

    @Test func aResultWithATimeoutRestartsIt() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.noteWithTimeout("armed", .seconds(10)))
        harness.clock.advance(by: .seconds(5))
        try server.send(.noteWithTimeout("again", .seconds(10)))
        harness.clock.advance(by: .seconds(10) - .nanoseconds(1))
        #expect(try await !harness.log(server).contains("timeout"))
        harness.clock.advance(by: .nanoseconds(1))
        #expect(try await harness.log(server).last == "timeout")
    }

    @Test func aReplyCanCarryATimeout() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        #expect(try await server.call { .replyWithTimeout(.seconds(3), $0) } == "ok")
        harness.clock.advance(by: .seconds(3))
        #expect(try await harness.log(server) == ["init", "call:replyWithTimeout", "timeout"])
    }

    @Test func systemRequestsDoNotCancelOrRestartTheTimeout() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.noteWithTimeout("armed", .seconds(10)))
        harness.clock.advance(by: .seconds(5))
        _ = try await server.status()
        _ = try await server.getState()
        harness.clock.advance(by: .seconds(5))
        #expect(try await harness.log(server).last == "timeout")
    }

    /// Documented difference from `gen_server`: a zero timeout is delivered before messages already waiting.
    @Test func aZeroTimeoutIsDeliveredBeforeMessagesAlreadyWaiting() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try await server.suspend()
        try server.cast(.noteWithTimeout("armed", .zero))
        try server.cast(.note("waiting"))
        try await server.resume()
        #expect(try await harness.log(server) == ["init", "cast:armed", "timeout", "cast:waiting"])
    }

    @Test func aNegativeTimeoutStopsTheServerWithAnInvalidActionError() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.noteWithTimeout("armed", .seconds(-1)))
        guard case .error(let cause as StateServerError)? = server.exitReason else {
            Issue.record("expected an invalidAction exit, got \(String(describing: server.exitReason))")
            return
        }
        #expect(cause.code == .invalidAction)
    }

    @Test func withoutHandleTimeoutTheTimeoutIsReportedNotACrash() async throws {
        let server = try harness.runtime.start(GenServerWithDefaults())
        try server.cast(.armTimeout(.seconds(1)))
        harness.clock.advance(by: .seconds(1))
        #expect(server.isAlive)
        #expect(harness.warnings == [
            "inactivity timeout for GenServerWithDefaults, which does not implement handleTimeout",
        ])
    }
}
