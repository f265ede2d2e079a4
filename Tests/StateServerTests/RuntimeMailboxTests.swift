import Testing
@testable import StateServer

/// Bounded mailboxes and their overflow policies. A suspended server handles no messages, so suspending it is
/// how these tests fill its mailbox.
@Suite struct RuntimeMailboxTests {
    @Test func rejectPolicyThrowsMailboxFullForCastsBeyondCapacity() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe(), options: ServerOptions(mailboxCapacity: 2, overflowPolicy: .reject))
        try await server.suspend()
        try server.cast(.note("1"))
        try server.send(.note("2"))
        RuntimeExpect.throwsCodeNow(.mailboxFull) { try server.cast(.note("3")) }
        RuntimeExpect.throwsCodeNow(.mailboxFull) { try server.send(.note("4")) }
        let status = try await server.status()
        #expect(status.queuedMessages == 2)
        #expect(status.droppedMessages == 0)
        try await server.resume()
        #expect(try await server.getState().data.log == ["cast:1", "info:2"])
        // Room again once drained.
        try server.cast(.note("5"))
    }

    @Test func rejectPolicyFailsACallWithMailboxFull() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe(), options: ServerOptions(mailboxCapacity: 1))
        try await server.suspend()
        try server.cast(.note("fills it"))
        RuntimeExpect.failure(server.request { .echo(1, $0) }, .mailboxFull)
        await RuntimeExpect.throwsCode(.mailboxFull) { try await server.call { .echo(2, $0) } }
        try await server.resume()
        #expect(try await server.call { .echo(3, $0) } == 3)
    }

    @Test func dropNewestDropsCastsBeyondCapacityAndCountsThem() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(
            RuntimeProbe(), options: ServerOptions(mailboxCapacity: 2, overflowPolicy: .dropNewest))
        try await server.suspend()
        for index in 0..<5 { try server.cast(.note("\(index)")) }
        try server.send(.note("info"))
        let status = try await server.status()
        #expect(status.queuedMessages == 2)
        #expect(status.droppedMessages == 4)
        #expect(status.mailboxHighWaterMark == 2)
        try await server.resume()
        #expect(try await server.getState().data.log == ["cast:0", "cast:1"])
    }

    @Test func dropNewestReportsEveryDropToTheObserver() async throws {
        let runtime = Runtime(clock: ManualClock())
        let observed = RuntimeRecording<String>()
        let options = ServerOptions<RuntimeProbe>(mailboxCapacity: 1, overflowPolicy: .dropNewest) { observation in
            observed.append(RuntimeExpect.label(observation.event))
        }
        let server = try runtime.start(RuntimeProbe(), options: options)
        try await server.suspend()
        for index in 0..<4 { try server.cast(.note("\(index)")) }
        #expect(observed.elements.filter { $0 == "messageDropped" }.count == 3)
    }

    @Test func dropNewestStillFailsACallWithMailboxFull() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(
            RuntimeProbe(), options: ServerOptions(mailboxCapacity: 1, overflowPolicy: .dropNewest))
        try await server.suspend()
        try server.cast(.note("fills it"))
        RuntimeExpect.failure(server.request(timeout: nil) { .echo(1, $0) }, .mailboxFull)
        await RuntimeExpect.throwsCode(.mailboxFull) { try await server.call { .echo(2, $0) } }
    }

    @Test func systemRequestsAreAnsweredWhenTheMailboxIsFull() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe(), options: ServerOptions(mailboxCapacity: 1))
        try await server.suspend()
        try server.cast(.note("fills it"))
        #expect(try await server.status().queuedMessages == 1)
        #expect(try await server.getState().state == .idle)
        try await server.stop()
        #expect(!server.isAlive)
    }

    @Test func timerFiresBypassTheMailboxCapacity() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe(), options: ServerOptions(mailboxCapacity: 1))
        try server.cast(.stateTimeout(.seconds(1)))
        try await server.suspend()
        try server.cast(.note("fills it"))
        clock.advance(by: .seconds(1))
        #expect(try await server.status().queuedMessages == 2)
        try await server.resume()
        #expect(try await server.getState().data.log == ["cast:fills it", "stateTimeout in idle"])
    }

    @Test
    func dropNewestCountsOnlyDroppedCastsNotRejectedCalls() async throws {
        let runtime = Runtime(clock: ManualClock())
        let observed = RuntimeRecording<String>()
        let options = ServerOptions<RuntimeProbe>(mailboxCapacity: 1, overflowPolicy: .dropNewest) { observation in
            observed.append(RuntimeExpect.label(observation.event))
        }
        let server = try runtime.start(RuntimeProbe(), options: options)
        try await server.suspend()
        try server.cast(.note("fills it"))
        try server.cast(.note("dropped"))
        RuntimeExpect.failure(server.request { .echo(1, $0) }, .mailboxFull)
        // The call was refused with an error, not silently dropped.
        #expect(try await server.status().droppedMessages == 1)
        #expect(observed.elements.filter { $0 == "messageDropped" }.count == 1)
    }
}
