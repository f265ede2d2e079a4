import Testing
@testable import StateServer

/// `{continue, C}`: `handle_continue` runs before any message already in the mailbox and may chain
/// (otp-semantics §2.2).
@Suite struct GenServerContinueTests {
    let harness = GenServerHarness()

    @Test func continueRunsBeforeMessagesAlreadyQueued() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try await server.suspend()
        try server.cast(.continueWith("a"))
        try server.cast(.note("b"))
        try server.send(.note("c"))
        try await server.resume()
        #expect(try await harness.log(server) == ["init", "cast:continueWith a", "continue:a", "cast:b", "info:c"])
    }

    @Test func continuesChainBeforeQueuedMessages() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try await server.suspend()
        try server.cast(.chain(3))
        try server.cast(.note("after"))
        try await server.resume()
        #expect(try await harness.log(server) == [
            "init", "cast:chain 3", "continue:chain 3", "continue:chain 2", "continue:chain 1", "cast:after",
        ])
    }

    @Test func replyWithContinueAnswersFirstThenContinuesBeforeQueuedMessages() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try await server.suspend()
        let answer = server.request { .replyWithContinue("work", $0) }
        try server.cast(.note("queued"))
        try await server.resume()
        #expect(try answer.result?.get() == "ok")
        #expect(try await harness.log(server) == ["init", "call:replyWithContinue", "continue:work", "cast:queued"])
    }

    @Test func initContinueRunsBeforeTheFirstMessage() async throws {
        let server = try harness.runtime.start(GenServerProbe(outcome: .okWithContinue("setup")))
        try server.cast(.note("first"))
        #expect(try await harness.log(server) == ["init", "continue:setup", "cast:first"])
    }
}
