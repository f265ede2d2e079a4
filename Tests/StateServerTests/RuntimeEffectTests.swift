import Testing
@testable import StateServer

/// A machine that runs async effects and sends itself messages, logging what arrives.
private struct RuntimeCourier: StateMachine {
    enum State: Hashable, Sendable { case waiting, elsewhere }
    typealias Data = [String]
    enum Call: Sendable { case log(Reply<[String]>) }
    enum Cast: Sendable {
        case compute(Int)
        case fail(String)
        /// Starts an effect that waits for `gate`, then reports whether it saw its task cancelled.
        case fetch(cancelOnStateExit: Bool)
        /// Moves to `elsewhere` and starts there an effect bound to that new state.
        case leaveAndFetch
        /// As `leaveAndFetch`, then an inserted event moves on to `waiting` in the same step.
        case leaveFetchAndMoveOn
        case leave
        case note(String)
        /// Logs, then sends itself `.echo` with no delay.
        case echoToSelf(String)
        case remind(after: Duration)
        case cancelReminder
    }
    enum Info: Sendable {
        case done(String)
        case echo(String)
        case reminder
        case moveOn
    }

    let gate: RuntimeGate
    let sawCancellation: RuntimeRecording<Bool>
    let reminder = SelfMessageReference()

    init(gate: RuntimeGate = RuntimeGate(), sawCancellation: RuntimeRecording<Bool> = RuntimeRecording()) {
        self.gate = gate
        self.sawCancellation = sawCancellation
    }

    func start() -> Start<Self> { .ok(.waiting, data: []) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch event {
        case .call(.log(let reply)):
            return .keep(.reply(reply, data))
        case .cast(.compute(let value)):
            return .keep(.run { value * 2 } then: { result in .done(Self.describe(result)) })
        case .cast(.fail(let tag)):
            return .keep(.run { () async throws -> Int in throw RuntimeTestError(tag: tag) } then: { .done(Self.describe($0)) })
        case .cast(.fetch(let cancelOnStateExit)):
            let gate = gate
            let sawCancellation = sawCancellation
            return .keep(.run(cancelOnStateExit: cancelOnStateExit) {
                await gate.wait()
                sawCancellation.append(Task.isCancelled)
                return 7
            } then: { .done(Self.describe($0)) })
        case .cast(.leaveAndFetch):
            let gate = gate
            let sawCancellation = sawCancellation
            return .goto(.elsewhere, .run(cancelOnStateExit: true) {
                await gate.wait()
                sawCancellation.append(Task.isCancelled)
                return 8
            } then: { .done(Self.describe($0)) })
        case .cast(.leaveFetchAndMoveOn):
            let gate = gate
            let sawCancellation = sawCancellation
            return .goto(.elsewhere, .run(cancelOnStateExit: true) {
                await gate.wait()
                sawCancellation.append(Task.isCancelled)
                return 9
            } then: { .done(Self.describe($0)) }, .next(.moveOn))
        case .internal(.moveOn):
            return .goto(.waiting)
        case .cast(.leave):
            return .goto(.elsewhere)
        case .cast(.note(let text)):
            data.append("cast:\(text)")
            return .keep
        case .cast(.echoToSelf(let text)):
            data.append("cast:\(text)")
            return .keep(.send(.echo(text)))
        case .cast(.remind(let delay)):
            return .keep(.send(.reminder, after: delay, reference: reminder))
        case .cast(.cancelReminder):
            return .keep(.cancelSend(reminder))
        case .info(.done(let text)):
            data.append("done:\(text) in \(state)")
            return .keep
        case .info(.echo(let text)):
            data.append("self:\(text)")
            return .keep
        case .info(.reminder):
            data.append("reminder")
            return .keep
        default:
            return .keep
        }
    }

    static func describe(_ result: Result<Int, any Error>) -> String {
        switch result {
        case .success(let value): "ok(\(value))"
        case .failure(let error as RuntimeTestError): "failed(\(error.tag))"
        case .failure(let error): "failed(\(error))"
        }
    }
}

/// Effects (`.run`) and messages a machine sends itself (`.send`, delayed and cancelled).
@Suite struct RuntimeEffectTests {
    // MARK: Effects

    @Test func effectResultIsDeliveredAsAnInfoEvent() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.compute(21))
        await runtime.waitForEffects()
        #expect(try await server.call { .log($0) } == ["done:ok(42) in waiting"])
    }

    @Test func effectFailureIsDeliveredAsAFailedResult() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.fail("offline"))
        await runtime.waitForEffects()
        #expect(try await server.call { .log($0) } == ["done:failed(offline) in waiting"])
        #expect(server.isAlive)
    }

    @Test func severalEffectsAllDeliverTheirResults() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier())
        for value in 1...5 { try server.cast(.compute(value)) }
        await runtime.waitForEffects()
        let log = try await server.call { .log($0) }
        #expect(Set(log) == Set((1...5).map { "done:ok(\($0 * 2)) in waiting" }))
        #expect(log.count == 5)
    }

    @Test func effectBoundToTheStateIsCancelledByAStateChangeAndItsResultIsNotDelivered() async throws {
        let gate = RuntimeGate()
        let sawCancellation = RuntimeRecording<Bool>()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate, sawCancellation: sawCancellation))
        try server.cast(.fetch(cancelOnStateExit: true))
        try server.cast(.leave)
        gate.open()
        await runtime.waitForEffects()
        #expect(sawCancellation.elements == [true])
        #expect(try await server.call { .log($0) } == [])
    }

    @Test func effectBoundToTheStateItEntersSurvivesTheTransitionThatStartsIt() async throws {
        let gate = RuntimeGate()
        let sawCancellation = RuntimeRecording<Bool>()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate, sawCancellation: sawCancellation))
        try server.cast(.leaveAndFetch)
        gate.open()
        await runtime.waitForEffects()
        #expect(sawCancellation.elements == [false])
        #expect(try await server.call { .log($0) } == ["done:ok(8) in elsewhere"])
    }

    @Test func effectBoundToAStateLeftByAnInsertedEventInTheSameStepIsCancelled() async throws {
        let gate = RuntimeGate()
        let sawCancellation = RuntimeRecording<Bool>()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate, sawCancellation: sawCancellation))
        try server.cast(.leaveFetchAndMoveOn)
        gate.open()
        await runtime.waitForEffects()
        #expect(sawCancellation.elements == [true])
        #expect(try await server.call { .log($0) } == [])
        #expect(try await server.getState().state == .waiting)
    }

    @Test func effectNotBoundToTheStateSurvivesAStateChange() async throws {
        let gate = RuntimeGate()
        let sawCancellation = RuntimeRecording<Bool>()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate, sawCancellation: sawCancellation))
        try server.cast(.fetch(cancelOnStateExit: false))
        try server.cast(.leave)
        gate.open()
        await runtime.waitForEffects()
        #expect(sawCancellation.elements == [false])
        #expect(try await server.call { .log($0) } == ["done:ok(7) in elsewhere"])
    }

    @Test func effectBoundToTheStateSurvivesEventsThatKeepTheState() async throws {
        let gate = RuntimeGate()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate))
        try server.cast(.fetch(cancelOnStateExit: true))
        try server.cast(.note("stays"))
        gate.open()
        await runtime.waitForEffects()
        #expect(try await server.call { .log($0) } == ["cast:stays", "done:ok(7) in waiting"])
    }

    @Test func effectsAreCancelledWhenTheServerStops() async throws {
        let gate = RuntimeGate()
        let sawCancellation = RuntimeRecording<Bool>()
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier(gate: gate, sawCancellation: sawCancellation))
        try server.cast(.fetch(cancelOnStateExit: false))
        try await server.stop()
        gate.open()
        await runtime.waitForEffects()
        #expect(sawCancellation.elements == [true])
        #expect(!server.isAlive)
    }

    // MARK: Messages to self

    @Test func messageToSelfIsQueuedBehindMessagesAlreadyWaiting() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeCourier())
        try await server.suspend()
        try server.cast(.echoToSelf("a"))
        try server.cast(.note("b"))
        try server.cast(.note("c"))
        try await server.resume()
        #expect(try await server.call { .log($0) } == ["cast:a", "cast:b", "cast:c", "self:a"])
    }

    @Test func delayedMessageToSelfArrivesAfterItsDelay() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.remind(after: .seconds(2)))
        #expect(clock.nextDeadline == RuntimeInstant.zero + .seconds(2))
        clock.advance(by: .milliseconds(1_999))
        #expect(try await server.call { .log($0) } == [])
        clock.advance(by: .milliseconds(1))
        #expect(try await server.call { .log($0) } == ["reminder"])
        #expect(clock.armedTimerCount == 0)
    }

    @Test func cancelledDelayedMessageToSelfIsNeverDelivered() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.remind(after: .seconds(2)))
        clock.advance(by: .seconds(1))
        try server.cast(.cancelReminder)
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(60))
        #expect(try await server.call { .log($0) } == [])
    }

    @Test func cancellingAnAlreadyDeliveredMessageToSelfDoesNothing() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.remind(after: .seconds(1)))
        clock.advance(by: .seconds(1))
        try server.cast(.cancelReminder)
        #expect(server.isAlive)
        #expect(try await server.call { .log($0) } == ["reminder"])
    }

    @Test func delayedMessagesToSelfAreDisarmedWhenTheServerEnds() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let server = try runtime.start(RuntimeCourier())
        try server.cast(.remind(after: .seconds(5)))
        #expect(clock.armedTimerCount == 1)
        try await server.stop()
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(10))
        #expect(!server.isAlive)
    }
}
