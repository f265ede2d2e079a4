import Testing
@testable import StateServer

/// The observer passed in ``ServerOptions``: it sees every step of the server, stamped with the runtime's time.
@Suite struct RuntimeObserverTests {
    private func observedProbe(
        on runtime: Runtime, _ machine: RuntimeProbe = RuntimeProbe()
    ) throws -> (Server<RuntimeProbe>, RuntimeRecording<Server<RuntimeProbe>.Observation>) {
        let observations = RuntimeRecording<Server<RuntimeProbe>.Observation>()
        let server = try runtime.start(machine, options: ServerOptions { observations.append($0) })
        return (server, observations)
    }

    @Test func observerSeesStartHandlingTransitionReplyTimeoutAndExit() async throws {
        let runtime = Runtime(clock: ManualClock())
        let (server, observations) = try observedProbe(on: runtime)
        #expect(try await server.call { .echo(5, $0) } == 5)
        try server.cast(.becomeBusy)
        try server.cast(.stateTimeout(.seconds(3)))
        try await server.stop(.shutdown)
        let labels = observations.elements.map { RuntimeExpect.label($0.event) }
        RuntimeExpect.subsequence([
            "started(idle)",
            "handling(call in idle)",
            "replied(5, delivered: true)",
            "handling(cast in idle)",
            "transition(idle->busy)",
            "handling(cast in busy)",
            "timeoutArmed(stateTimeout, \(TimeoutTime.after(.seconds(3))))",
            "stopping(shutdown in busy)",
            "exited(shutdown)",
        ], in: labels)
        #expect(labels.first == "started(idle)")
        #expect(labels.last == "exited(shutdown)")
        #expect(observations.elements.allSatisfy { $0.server == server.id })
    }

    @Test func observerSeesALateReplyAsNotDelivered() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let (server, observations) = try observedProbe(on: runtime)
        let pending = server.request(timeout: .seconds(1)) { .hold($0) }
        clock.advance(by: .seconds(1))
        RuntimeExpect.failure(pending, .callTimeout)
        try server.cast(.release(4))
        let labels = observations.elements.map { RuntimeExpect.label($0.event) }
        #expect(labels.contains("replied(4, delivered: false)"))
        #expect(!labels.contains("replied(4, delivered: true)"))
    }

    @Test func observationsCarryTheVirtualTime() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let (server, observations) = try observedProbe(on: runtime)
        try server.cast(.stateTimeout(.seconds(30)))
        clock.advance(by: .seconds(45))
        let timeout = observations.elements.first { RuntimeExpect.label($0.event) == "handling(stateTimeout in idle)" }
        #expect(timeout?.time == RuntimeInstant.zero + .seconds(30))
        #expect(observations.elements.first?.time == .zero)
        #expect(runtime.now == RuntimeInstant.zero + .seconds(45))
    }

    @Test func observerSeesTheCrashAndItsExit() async throws {
        let runtime = Runtime(clock: ManualClock())
        let (server, observations) = try observedProbe(on: runtime)
        try server.cast(.crash("boom"))
        let labels = observations.elements.map { RuntimeExpect.label($0.event) }
        RuntimeExpect.subsequence(["handling(cast in idle)", "stopping(error(boom) in idle)", "exited(error(boom))"], in: labels)
    }

    @Test
    func observerReportsMessageDroppedOnlyForMailboxOverflow() async throws {
        let runtime = Runtime(clock: ManualClock())
        let (server, observations) = try observedProbe(on: runtime)
        try await server.suspend()
        try server.cast(.note("left in the mailbox"))
        try server.cast(.note("also left"))
        try await server.stop()
        let labels = observations.elements.map { RuntimeExpect.label($0.event) }
        #expect(!labels.contains("messageDropped"), "\(labels)")
        #expect(labels.suffix(2) == ["2 queued message(s) discarded at exit", "exited(normal)"], "\(labels)")
    }
}
