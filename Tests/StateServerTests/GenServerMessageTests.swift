import ClassicServers
import Testing
@testable import StateServer

/// Casts, infos, messages to self (`Process.send_after`), and the default handlers (otp-semantics §2.1).
@Suite struct GenServerMessageTests {
    let harness = GenServerHarness()

    @Test func castsAndInfosAreHandledInOrder() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.note("one"))
        try server.send(.note("two"))
        try server.cast(.note("three"))
        #expect(try await harness.log(server) == ["init", "cast:one", "info:two", "cast:three"])
    }

    @Test func aMessageSentToSelfArrivesAfterItsDelay() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.sendAfter("ping", .seconds(5)))
        harness.clock.advance(by: .milliseconds(4_999))
        #expect(try await harness.log(server) == ["init"])
        harness.clock.advance(by: .milliseconds(1))
        #expect(try await harness.log(server) == ["init", "info:ping"])
    }

    @Test func aCancelledMessageToSelfNeverArrives() async throws {
        let server = try harness.runtime.start(GenServerProbe())
        try server.cast(.sendAfter("ping", .seconds(5)))
        harness.clock.advance(by: .seconds(4))
        try server.cast(.cancelSend)
        harness.clock.advance(by: .seconds(60))
        #expect(try await harness.log(server) == ["init"])
        #expect(harness.clock.armedTimerCount == 0)
    }

    @Test func anUnhandledInfoIsReportedNotACrash() async throws {
        let server = try harness.runtime.start(GenServerWithDefaults())
        try server.send(.surprise(7))
        #expect(server.isAlive)
        #expect(try await server.call { .count($0) } == 0)
        #expect(harness.warnings == [
            "unexpected info surprise(7) for GenServerWithDefaults, which does not implement handleInfo",
        ])
    }

    @Test func anUnhandledDownIsReportedNotACrash() async throws {
        let watcher = try harness.runtime.start(GenServerWithDefaults())
        let watched = try harness.runtime.start(GenServerProbe())
        let monitor = watched.monitor(by: watcher)
        try await watched.stop(.shutdown)
        #expect(watcher.isAlive)
        #expect(harness.warnings == [
            "unexpected down(\(monitor), shutdown) for GenServerWithDefaults, which does not implement handleDown",
        ])
    }

    @Test func aTrappedExitWithoutHandleExitIsReportedNotACrash() async throws {
        let watcher = try harness.runtime.start(GenServerWithDefaults(), options: ServerOptions(trapsExits: true))
        let linked = try harness.runtime.start(GenServerProbe())
        watcher.link(linked)
        try await linked.stop(.shutdown("done"))
        #expect(watcher.isAlive)
        #expect(harness.warnings == [
            "unexpected exit(\(linked.id), shutdown(done)) for GenServerWithDefaults, "
                + "which does not implement handleExit",
        ])
    }

    @Test func statusShowsTheRunningPhaseAndTheServerState() async throws {
        let server = try harness.runtime.start(Counter(initialValue: 5))
        let status = try await server.status()
        #expect(status.state == .running)
        #expect(status.state.description == "running")
        #expect(status.data == 5)
    }

    @Test func replaceStateChangesTheServerState() async throws {
        let server = try harness.runtime.start(Counter(initialValue: 5))
        try await server.replaceState { _, count in count = 40 }
        #expect(try await server.call { .increment($0) } == 41)
    }
}
