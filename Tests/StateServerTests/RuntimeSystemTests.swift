import Testing
@testable import StateServer

/// A turnstile with state-enter calls and a state timeout, for the `replaceState` tests.
private struct RuntimeTurnstile: StateMachine {
    enum State: Hashable, Sendable { case locked, unlocked }
    struct Data: Sendable {
        var journal: [String] = []
        var passes = 0
    }
    enum Call: Sendable { case pass(Reply<Int>) }
    enum Cast: Sendable { case coin }

    var callsStateEnter: Bool { true }

    func start() -> Start<Self> { .ok(.locked, data: Data(), .stateTimeout(.seconds(10))) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch (state, event) {
        case (_, .enter(let from)):
            data.journal.append("enter \(from)->\(state)")
            return .keep
        case (.locked, .call(.pass)):
            return .keep(.postpone)
        case (.unlocked, .call(.pass(let reply))):
            data.passes += 1
            return .keep(.reply(reply, data.passes))
        case (.locked, .cast(.coin)):
            return .goto(.unlocked)
        case (_, .stateTimeout):
            data.journal.append("stateTimeout in \(state)")
            return .keep
        default:
            return .keep
        }
    }
}

/// System requests (otp-semantics §1.12): status, getState, replaceState, suspend and resume.
@Suite struct RuntimeSystemTests {
    // MARK: Status

    @Test func statusReportsStateDataAndHandledEvents() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("a"))
        try server.send(.note("b"))
        try server.cast(.becomeBusy)
        let status = try await server.status()
        #expect(status.id == server.id)
        #expect(status.state == .busy)
        #expect(status.data.log == ["cast:a", "info:b"])
        #expect(status.handledEvents == 3)
        #expect(!status.isSuspended)
        #expect(status.queuedMessages == 0)
        #expect(status.postponedEvents == 0)
        #expect(status.timeouts.isEmpty)
        #expect(status.droppedMessages == 0)
    }

    @Test func statusCountsQueuedMessagesWhileSuspended() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        for index in 0..<3 { try server.cast(.note("\(index)")) }
        let status = try await server.status()
        #expect(status.isSuspended)
        #expect(status.queuedMessages == 3)
        #expect(status.mailboxHighWaterMark == 3)
        #expect(status.handledEvents == 0)
        try await server.resume()
        let resumed = try await server.status()
        #expect(!resumed.isSuspended)
        #expect(resumed.queuedMessages == 0)
        #expect(resumed.handledEvents == 3)
    }

    @Test func statusCountsPostponedEvents() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.becomeBusy)
        let first = server.request(timeout: nil) { .whenIdle($0) }
        let second = server.request(timeout: nil) { .whenIdle($0) }
        #expect(try await server.status().postponedEvents == 2)
        try server.cast(.becomeIdle)
        #expect(try await server.status().postponedEvents == 0)
        RuntimeExpect.reply(first, "idle")
        RuntimeExpect.reply(second, "idle")
    }

    @Test func statusListsTheRegisteredTimeouts() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.stateTimeout(.seconds(5)))
        try server.cast(.namedTimeout("poll", .seconds(2)))
        #expect(Set(try await server.status().timeouts) == [.state, .named("poll")])
        clock.advance(by: .seconds(2))
        #expect(try await server.status().timeouts == [.state])
        clock.advance(by: .seconds(3))
        #expect(try await server.status().timeouts.isEmpty)
        #expect(try await server.getState().data.log == ["timeout(poll)", "stateTimeout in idle"])
    }

    // MARK: getState and replaceState

    @Test func getStateReturnsTheStateAndData() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("x"))
        try server.cast(.becomeBusy)
        let snapshot = try await server.getState()
        #expect(snapshot.state == .busy)
        #expect(snapshot.data.log == ["cast:x"])
    }

    @Test func getStateIsAnsweredWhileSuspended() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        try server.cast(.becomeBusy)
        #expect(try await server.getState().state == .idle)
    }

    @Test func replaceStateIsARenameWithoutEnterCallOrPostponedRetry() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeTurnstile())
        let pass = server.request(timeout: nil) { .pass($0) }
        #expect(try await server.status().postponedEvents == 1)

        let replaced = try await server.replaceState { state, data in
            state = .unlocked
            data.passes = 10
        }
        #expect(replaced.state == .unlocked)
        #expect(replaced.data.passes == 10)
        let status = try await server.status()
        #expect(status.state == .unlocked)
        #expect(status.postponedEvents == 1)
        #expect(status.data.journal == ["enter locked->locked"])
        #expect(!pass.isResolved)

        // A real state change later retries the postponed call and makes the enter call.
        try await server.replaceState { state, _ in state = .locked }
        try server.cast(.coin)
        RuntimeExpect.reply(pass, 11)
        #expect(try await server.getState().data.journal == ["enter locked->locked", "enter locked->unlocked"])
    }

    @Test func replaceStateKeepsTheRunningStateTimeout() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeTurnstile())
        try await server.replaceState { state, _ in state = .unlocked }
        #expect(try await server.status().timeouts == [.state])
        clock.advance(by: .seconds(10))
        #expect(try await server.getState().data.journal == ["enter locked->locked", "stateTimeout in unlocked"])
    }

    @Test func replaceStateWithAThrowingTransformLeavesTheStateUnchanged() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.note("kept"))
        await RuntimeExpect.throwsCode(.invalidArgument) {
            try await server.replaceState { state, data in
                state = .busy
                data.log = []
                throw RuntimeTestError(tag: "transform")
            }
        }
        let snapshot = try await server.getState()
        #expect(snapshot.state == .idle)
        #expect(snapshot.data.log == ["cast:kept"])
        #expect(server.isAlive)
    }

    // MARK: Suspend and resume

    @Test func castsQueueWhileSuspendedAndAreHandledInOrderAfterResume() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        for index in 0..<5 { try server.cast(.note("\(index)")) }
        try server.send(.note("last"))
        #expect(try await server.getState().data.log == [])
        try await server.resume()
        #expect(try await server.getState().data.log == ["cast:0", "cast:1", "cast:2", "cast:3", "cast:4", "info:last"])
    }

    @Test func callMadeWhileSuspendedResolvesAfterResume() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        let pending = server.request(timeout: nil) { .echo(9, $0) }
        #expect(!pending.isResolved)
        try await server.resume()
        RuntimeExpect.reply(pending, 9)
    }

    @Test func callMadeWhileSuspendedStillTimesOut() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        let pending = server.request(timeout: .seconds(1)) { .echo(9, $0) }
        clock.advance(by: .seconds(1))
        RuntimeExpect.failure(pending, .callTimeout)
        try await server.resume()
        RuntimeExpect.failure(pending, .callTimeout)
        #expect(try await server.status().handledEvents == 1)
    }

    @Test func timeoutFiringWhileSuspendedIsHandledAfterResume() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.stateTimeout(.seconds(1)))
        try await server.suspend()
        clock.advance(by: .seconds(2))
        #expect(try await server.getState().data.log == [])
        #expect(try await server.status().queuedMessages == 1)
        try await server.resume()
        #expect(try await server.getState().data.log == ["stateTimeout in idle"])
    }

    @Test func systemRequestsDoNotCancelTheEventTimeout() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.eventTimeout(.seconds(2)))
        clock.advance(by: .seconds(1))
        _ = try await server.status()
        _ = try await server.getState()
        try await server.suspend()
        try await server.resume()
        #expect(try await server.status().timeouts == [.event])
        clock.advance(by: .seconds(1))
        #expect(try await server.getState().data.log == ["eventTimeout in idle"])
    }
}
