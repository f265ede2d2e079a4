import Testing
@testable import StateServer

/// Starting and stopping servers in virtual time, crashes, and what callers of ended servers get.
@Suite struct RuntimeLifecycleTests {
    // MARK: Start outcomes

    @Test func startReturningIgnoreThrowsIgnored() {
        let runtime = Runtime(clock: ManualClock())
        RuntimeExpect.throwsCodeNow(.ignored) { try runtime.start(RuntimeProbe(startMode: .ignore)) }
    }

    @Test func startReturningStopThrowsStartFailedWithThatReason() {
        let runtime = Runtime(clock: ManualClock())
        let error = RuntimeExpect.throwsCodeNow(.startFailed) {
            try runtime.start(RuntimeProbe(startMode: .stop(.shutdown("no config"))))
        }
        #expect(RuntimeExpect.label(error?.exitReason) == "shutdown(no config)")
    }

    @Test func startThrowingThrowsStartFailedWithTheThrownError() {
        let runtime = Runtime(clock: ManualClock())
        let error = RuntimeExpect.throwsCodeNow(.startFailed) {
            try runtime.start(RuntimeProbe(startMode: .throwing(RuntimeTestError(tag: "bad start"))))
        }
        #expect(RuntimeExpect.label(error?.exitReason) == "error(bad start)")
    }

    @Test func startReturningErrorThrowsStartFailedWithTheError() {
        let runtime = Runtime(clock: ManualClock())
        let error = RuntimeExpect.throwsCodeNow(.startFailed) {
            try runtime.start(RuntimeProbe(startMode: .error(RuntimeTestError(tag: "quiet"))))
        }
        #expect(RuntimeExpect.label(error?.exitReason) == "error(quiet)")
    }

    @Test func startRunsTheInitialActionsBeforeReturning() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe(startActions: [.send(.note("hello")), .next(.note("first"))]))
        let snapshot = try await server.getState()
        #expect(snapshot.data.log == ["internal:first", "info:hello"])
    }

    @Test func serverThatStopsDuringItsInitialEventsIsReturnedAlreadyEnded() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let machine = RuntimeProbe(
            startActions: [.nextEvent(.cast(.stop(.shutdown("early"))))], terminations: terminations)
        let server = try runtime.start(machine)
        #expect(!server.isAlive)
        #expect(RuntimeExpect.label(server.exitReason) == "shutdown(early)")
        #expect(terminations.elements == ["shutdown(early) in idle"])
        RuntimeExpect.failure(server.request { .echo(1, $0) }, .noSuchServer)
    }

    // MARK: Stop

    @Test func stopRunsTerminateWithTheReasonAndReturnsAfterTheServerEnded() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try server.cast(.becomeBusy)
        try await server.stop(.shutdown("maintenance"))
        #expect(terminations.elements == ["shutdown(maintenance) in busy"])
        #expect(!server.isAlive)
        #expect(RuntimeExpect.label(server.exitReason) == "shutdown(maintenance)")
    }

    @Test func stopDefaultsToNormal() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try await server.stop()
        #expect(terminations.elements == ["normal in idle"])
        #expect(RuntimeExpect.label(server.exitReason) == "normal")
    }

    @Test func stopOfAnEndedServerThrowsNoSuchServer() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try await server.stop()
        let error = await RuntimeExpect.throwsCode(.noSuchServer) { try await server.stop(.shutdown) }
        #expect(RuntimeExpect.label(error?.exitReason) == "normal")
        #expect(terminations.elements.count == 1)
    }

    @Test func stopWithATimeoutWorksWhileTheServerIsSuspended() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try await server.suspend()
        try server.cast(.note("never handled"))
        try await server.stop(.shutdown, timeout: .seconds(1))
        #expect(!server.isAlive)
        #expect(terminations.elements == ["shutdown in idle"])
        #expect(clock.armedTimerCount == 0)
    }

    @Test func stopFailsCallersStillWaitingWithTheStopReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        let pending = server.request(timeout: nil) { .hold($0) }
        try await server.stop(.shutdown("bye"))
        let error = RuntimeExpect.failure(pending, .serverExited)
        #expect(RuntimeExpect.label(error?.exitReason) == "shutdown(bye)")
    }

    @Test func waitForExitReturnsTheExitReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        async let reason = server.waitForExit()
        try server.cast(.stop(.shutdown("done")))
        #expect(RuntimeExpect.label(try await reason) == "shutdown(done)")
        // Once ended, it answers at once.
        #expect(RuntimeExpect.label(try await server.waitForExit()) == "shutdown(done)")
    }

    @Test func machineStoppingItselfEndsWithItsReason() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try server.cast(.stop(.normal))
        #expect(!server.isAlive)
        #expect(terminations.elements == ["normal in idle"])
    }

    // MARK: Crashes

    @Test func throwingHandlerEndsTheServerWithTheThrownError() async throws {
        let runtime = Runtime(clock: ManualClock())
        let terminations = RuntimeRecording<String>()
        let server = try runtime.start(RuntimeProbe(terminations: terminations))
        try server.cast(.crash("boom"))
        #expect(!server.isAlive)
        #expect(RuntimeExpect.label(server.exitReason) == "error(boom)")
        #expect(terminations.elements == ["error(boom) in idle"])
        #expect(RuntimeExpect.label(try await server.waitForExit()) == "error(boom)")
    }

    @Test func crashFailsEveryDeferredPostponedAndQueuedCallerWithServerExited() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeProbe())
        let deferred = (0..<3).map { _ in server.request(timeout: nil) { .hold($0) } }
        try server.cast(.becomeBusy)
        let postponed = (0..<3).map { _ in server.request(timeout: .seconds(60)) { .whenIdle($0) } }
        #expect(try await server.status().postponedEvents == 3)
        try await server.suspend()
        try server.cast(.crash("boom"))
        let queued = (0..<3).map { index in server.request(timeout: .seconds(60)) { .echo(index, $0) } }
        let queuedText = server.request(timeout: nil) { .whenIdle($0) }
        #expect(deferred.allSatisfy { !$0.isResolved })
        #expect(postponed.allSatisfy { !$0.isResolved })
        #expect(queued.allSatisfy { !$0.isResolved } && !queuedText.isResolved)

        try await server.resume()

        #expect(RuntimeExpect.label(server.exitReason) == "error(boom)")
        var errors: [StateServerError?] = deferred.map { RuntimeExpect.failure($0, .serverExited) }
        errors += postponed.map { RuntimeExpect.failure($0, .serverExited) }
        errors += queued.map { RuntimeExpect.failure($0, .serverExited) }
        errors.append(RuntimeExpect.failure(queuedText, .serverExited))
        #expect(errors.count == 10)
        for error in errors { #expect(RuntimeExpect.label(error?.exitReason) == "error(boom)") }
        #expect(clock.armedTimerCount == 0)
    }

    // MARK: Requests to ended servers

    @Test func callToAStoppedServerFailsWithNoSuchServer() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.stop(.shutdown("closed"))
        let error = await RuntimeExpect.throwsCode(.noSuchServer) { try await server.call { .echo(1, $0) } }
        #expect(RuntimeExpect.label(error?.exitReason) == "shutdown(closed)")
        RuntimeExpect.failure(server.request { .echo(1, $0) }, .noSuchServer)
    }

    @Test func castAndSendToAStoppedServerThrowNoSuchServer() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try server.cast(.crash("gone"))
        RuntimeExpect.throwsCodeNow(.noSuchServer) { try server.cast(.note("late")) }
        RuntimeExpect.throwsCodeNow(.noSuchServer) { try server.send(.note("late")) }
    }

    @Test func systemRequestsToAStoppedServerThrowNoSuchServer() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.stop()
        await RuntimeExpect.throwsCode(.noSuchServer) { try await server.status() }
        await RuntimeExpect.throwsCode(.noSuchServer) { try await server.getState() }
        await RuntimeExpect.throwsCode(.noSuchServer) { try await server.suspend() }
        await RuntimeExpect.throwsCode(.noSuchServer) { try await server.replaceState { state, _ in state = .busy } }
    }
}
