import Machines
import StateServerTesting
import Synchronization
import Testing

// Every row of CircuitBreaker's table, including every timeout, in virtual time; the failure-rate window; the
// client that runs operations under the breaker; and the guide, checked against the code. Rows are named as in
// the table (`halfOpen: failed [isCurrent] / open → open`).

@Suite struct MachineCircuitBreakerTests {
    typealias Breaker = CircuitBreaker
    typealias Permit = CircuitBreaker.Permit

    /// Three failures in a row open it for 30 s; one trial call at a time, two successes close it.
    static let configuration = Breaker.Configuration(
        failureThreshold: .consecutiveFailures(3), openDuration: .seconds(30), trialCalls: 1, successThreshold: 2)

    func tester(
        _ configuration: Breaker.Configuration = Self.configuration, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MachineTester<Breaker> {
        try MachineTester(Breaker(configuration: configuration), sourceLocation: sourceLocation)
    }

    /// Asks for permission now and claims the reply.
    @discardableResult
    func ask(
        _ tester: MachineTester<Breaker>, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Breaker.Permission {
        let now = tester.clock.now
        let permission = try #require(
            try tester.call { .requestPermission(at: now, $0) }.result?.get(), sourceLocation: sourceLocation)
        tester.expectReply(permission, sourceLocation: sourceLocation)
        return permission
    }

    /// Asks for permission now, which must be granted.
    func permit(_ tester: MachineTester<Breaker>, sourceLocation: SourceLocation = #_sourceLocation) throws -> Permit {
        let permission = try ask(tester, sourceLocation: sourceLocation)
        guard case .granted(let permit) = permission else {
            Issue.record("expected a permit, got \(permission)", sourceLocation: sourceLocation)
            throw CircuitBreakerError.open(remaining: nil)
        }
        return permit
    }

    func succeed(_ permit: Permit, _ tester: MachineTester<Breaker>) throws {
        try tester.cast(.succeeded(permit, at: tester.clock.now))
    }

    func fail(_ permit: Permit, _ tester: MachineTester<Breaker>) throws {
        try tester.cast(.failed(permit, at: tester.clock.now))
    }

    /// Opens the breaker with three failed calls (claiming the steps).
    func open(_ tester: MachineTester<Breaker>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for _ in 0..<3 { try fail(try permit(tester, sourceLocation: sourceLocation), tester) }
        tester.expectTransition(from: .closed, to: .open, sourceLocation: sourceLocation)
    }

    /// Opens the breaker, then waits for it to half-open.
    func halfOpen(_ tester: MachineTester<Breaker>, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try open(tester, sourceLocation: sourceLocation)
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state, sourceLocation: sourceLocation)
        tester.expectTransition(from: .open, to: .halfOpen, sourceLocation: sourceLocation)
    }

    // MARK: The table

    @Test(arguments: [
        Self.configuration,
        Breaker.Configuration(),
        Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 4, window: .seconds(10)), halfOpenTimeout: .seconds(20)),
    ])
    func tableIsValid(_ configuration: Breaker.Configuration) throws {
        try Breaker(configuration: configuration).validateTable().check()
    }

    @Test func diagramShowsEveryStateAndTimeout() {
        #expect(Breaker(configuration: Self.configuration).table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> closed
                closed --> open : failed [isCurrent && reachesThreshold] / open
                open --> halfOpen : after 30s
                open --> closed : reset
                halfOpen --> closed : succeeded [isCurrent && reachesSuccessThreshold]
                halfOpen --> open : failed [isCurrent] / open
                halfOpen --> closed : reset

            """)
    }

    @Test func diagramShowsTheHalfOpenTimeoutWhenThereIsOne() {
        let configuration = Breaker.Configuration(openDuration: .seconds(10), halfOpenTimeout: .seconds(45))
        let diagram = Breaker(configuration: configuration).table.mermaidDiagram()
        #expect(diagram.contains("halfOpen --> open : after 45s / open"))
    }

    @Test(arguments: [
        Breaker.Configuration(failureThreshold: .consecutiveFailures(0)),
        Breaker.Configuration(failureThreshold: .failureRate(0, minimumCalls: 5, window: .seconds(1))),
        Breaker.Configuration(failureThreshold: .failureRate(1.5, minimumCalls: 5, window: .seconds(1))),
        Breaker.Configuration(failureThreshold: .failureRate(0.5, minimumCalls: 0, window: .seconds(1))),
        Breaker.Configuration(failureThreshold: .failureRate(0.5, minimumCalls: 5, window: .zero)),
        Breaker.Configuration(openDuration: .seconds(-1)),
        Breaker.Configuration(trialCalls: 0),
        Breaker.Configuration(successThreshold: 0),
        Breaker.Configuration(halfOpenTimeout: .seconds(-1)),
    ])
    func invalidConfigurationFailsTheStart(_ configuration: Breaker.Configuration) throws {
        let error = try #require(throws: StateServerError.self) {
            try MachineTester(Breaker(configuration: configuration))
        }
        #expect(error.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error.exitReason else {
            Issue.record("unexpected exit reason \(String(describing: error.exitReason))")
            return
        }
        #expect(cause.code == .invalidArgument)
    }

    // MARK: closed

    @Test func closedGrantsEveryCall() async throws {
        let tester = try tester()
        #expect(try ask(tester) == .granted(Permit(generation: 1, isTrial: false)))
        #expect(try ask(tester) == .granted(Permit(generation: 1, isTrial: false)))
        tester.finish()
    }

    @Test func consecutiveFailuresOpenTheBreaker() async throws {
        let tester = try tester()
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)
        #expect(tester.data?.consecutiveFailures == 2)
        tester.expectState(.closed)
        tester.advance(by: .seconds(5))
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .closed, to: .open)
        #expect(tester.data?.openUntil == RuntimeInstant.zero + .seconds(35))
        tester.finish()
    }

    @Test func aSuccessStartsTheFailureCountAgain() async throws {
        let tester = try tester()
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)
        try succeed(try permit(tester), tester)
        #expect(tester.data?.consecutiveFailures == 0)
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)
        tester.expectState(.closed)
        tester.finish()
    }

    @Test func resetWhileClosedForgetsTheFailures() async throws {
        let tester = try tester()
        let inFlight = try permit(tester)
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)
        try tester.cast(.reset)
        #expect(tester.data?.consecutiveFailures == 0)
        #expect(tester.data?.generation == 2)
        try fail(inFlight, tester)                               // from before the reset: ignored
        #expect(tester.data?.consecutiveFailures == 0)
        tester.expectState(.closed)
        tester.finish()
    }

    @Test func outcomesOfAnEarlierPeriodAreIgnored() async throws {
        let tester = try tester()
        let slow = try permit(tester)                            // a call made while closed, reported much later
        try halfOpen(tester)
        try fail(slow, tester)                                   // not a trial: the breaker stays half-open
        try tester.cast(.released(slow))
        tester.expectState(.halfOpen)
        try succeed(try permit(tester), tester)
        try succeed(try permit(tester), tester)
        tester.expectTransition(from: .halfOpen, to: .closed)
        try fail(slow, tester)                                   // nor does it count in the new closed period
        #expect(tester.data?.consecutiveFailures == 0)
        tester.finish()
    }

    @Test(arguments: Breaker.State.allCases)
    func currentStateAnswersTheState(_ state: Breaker.State) async throws {
        let tester = try tester()
        switch state {
        case .closed: break
        case .open: try open(tester)
        case .halfOpen: try halfOpen(tester)
        }
        #expect(try tester.call { .currentState($0) }.result?.get() == state)
        tester.expectReply(state)
        tester.finish()
    }

    // MARK: Failure rate

    @Test func failureRateOpensOnceEnoughCallsFailInTheWindow() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 4, window: .seconds(10))))
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)
        try fail(try permit(tester), tester)                     // 3 of 3 failed, but fewer than 4 calls
        tester.expectState(.closed)
        try succeed(try permit(tester), tester)
        #expect(tester.data?.window?.calls == 4)
        #expect(tester.data?.window?.failures == 3)
        try fail(try permit(tester), tester)                     // 4 of 5
        tester.expectTransition(from: .closed, to: .open)
        tester.finish()
    }

    @Test func failureRateBelowTheThresholdKeepsTheBreakerClosed() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 2, window: .seconds(10))))
        for _ in 0..<10 {
            try succeed(try permit(tester), tester)
            try succeed(try permit(tester), tester)
            try fail(try permit(tester), tester)                 // one failure in three
            tester.advance(by: .seconds(1))
        }
        tester.expectState(.closed)
        #expect(tester.data?.consecutiveFailures == 1)           // counted, but not the threshold here
        tester.finish()
    }

    @Test func outcomesOlderThanTheWindowNoLongerCount() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 4, window: .seconds(10))))
        for _ in 0..<3 { try fail(try permit(tester), tester) }  // at 0 s
        tester.advance(by: .seconds(11))                         // they expire (their bucket ended at 1 s)
        try fail(try permit(tester), tester)
        #expect(tester.data?.window?.calls == 1)
        tester.advance(by: .seconds(5))
        try fail(try permit(tester), tester)
        try succeed(try permit(tester), tester)
        tester.expectState(.closed)                              // 2 of 3 at most, and fewer than 4 calls
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .closed, to: .open)        // 3 of 4 within 10 s
        tester.finish()
    }

    @Test func aLateOutcomeCountsInItsOwnBucket() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .failureRate(1, minimumCalls: 3, window: .seconds(10))))
        let early = try permit(tester)
        tester.advance(by: .seconds(5))
        try fail(try permit(tester), tester)                     // at 5 s
        try tester.cast(.failed(early, at: RuntimeInstant.zero + .seconds(1)))   // reported late, stamped 1 s
        #expect(tester.data?.window?.calls == 2)
        try tester.cast(.failed(early, at: RuntimeInstant.zero + .seconds(-20)))  // older than the window: dropped
        #expect(tester.data?.window?.calls == 2)
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .closed, to: .open)
        tester.finish()
    }

    // MARK: open

    @Test func openRejectsCallsWithTheTimeRemaining() async throws {
        let tester = try tester()
        try open(tester)
        #expect(try ask(tester) == .rejected(remaining: .seconds(30)))
        tester.advance(by: .seconds(12))
        #expect(try ask(tester) == .rejected(remaining: .seconds(18)))
        #expect(tester.data?.rejectedCalls == 2)
        tester.finish()
    }

    @Test func openTimeoutHalfOpensTheBreaker() async throws {
        let tester = try tester()
        try open(tester)
        tester.advance(by: .seconds(29))
        tester.expectNoMoreSteps()
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .open, to: .halfOpen)
        tester.finish()
    }

    @Test(arguments: [Breaker.State.open, .halfOpen])
    func resetClosesTheBreaker(_ state: Breaker.State) async throws {
        let tester = try tester()
        if state == .open { try open(tester) } else { try halfOpen(tester) }
        try tester.cast(.reset)
        tester.expectTransition(from: state, to: .closed)
        // A new period: 2 after closed → open, 3 after closed → open → halfOpen.
        #expect(try ask(tester) == .granted(Permit(generation: state == .open ? 2 : 3, isTrial: false)))
        tester.advance(by: .seconds(30))                         // the open timeout went with the state
        tester.finish()
    }

    // MARK: halfOpen

    @Test func halfOpenLetsOneTrialCallAtATime() async throws {
        let tester = try tester()
        try halfOpen(tester)
        let trial = try permit(tester)
        #expect(trial == Permit(generation: 2, isTrial: true))
        #expect(try ask(tester) == .rejected(remaining: nil))   // the trial slot is taken
        try succeed(trial, tester)                               // one success of two: still half-open
        #expect(tester.data?.trialSuccesses == 1)
        #expect(tester.data?.trialsInFlight == 0)
        let second = try permit(tester)
        try succeed(second, tester)
        tester.expectTransition(from: .halfOpen, to: .closed)
        #expect(tester.data?.rejectedCalls == 1)
        tester.finish()
    }

    @Test func aFailedTrialReopensTheBreaker() async throws {
        let tester = try tester()
        try halfOpen(tester)
        try succeed(try permit(tester), tester)
        tester.advance(by: .seconds(3))
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .halfOpen, to: .open)
        #expect(try ask(tester) == .rejected(remaining: .seconds(30)))
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .open, to: .halfOpen)
        #expect(tester.data?.trialSuccesses == 0)                // a new period
        tester.finish()
    }

    @Test func aReleasedTrialFreesItsSlot() async throws {
        let tester = try tester()
        try halfOpen(tester)
        let trial = try permit(tester)
        #expect(try ask(tester) == .rejected(remaining: nil))
        try tester.cast(.released(trial))
        #expect(tester.data?.trialsInFlight == 0)
        #expect(try ask(tester) == .granted(Permit(generation: 2, isTrial: true)))
        tester.finish()
    }

    @Test func severalTrialCallsMayRunAtOnce() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .consecutiveFailures(1), trialCalls: 3, successThreshold: 3))
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .closed, to: .open)
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .open, to: .halfOpen)
        let trials = try (0..<3).map { _ in try permit(tester) }
        #expect(try ask(tester) == .rejected(remaining: nil))
        for trial in trials { try succeed(trial, tester) }
        tester.expectTransition(from: .halfOpen, to: .closed)
        tester.finish()
    }

    @Test func halfOpenTimeoutReopensABreakerThatDidNotClose() async throws {
        let tester = try tester(Breaker.Configuration(
            failureThreshold: .consecutiveFailures(1), openDuration: .seconds(10), halfOpenTimeout: .seconds(5)))
        try fail(try permit(tester), tester)
        tester.expectTransition(from: .closed, to: .open)
        tester.advance(by: .seconds(10))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .open, to: .halfOpen)
        _ = try permit(tester)                                   // a trial whose outcome never comes
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .halfOpen, to: .open)
        #expect(tester.data?.openUntil == RuntimeInstant.zero + .seconds(25))
        tester.advance(by: .seconds(4))
        #expect(try ask(tester) == .rejected(remaining: .seconds(6)))
        tester.advance(by: .seconds(6))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .open, to: .halfOpen)
        try succeed(try permit(tester), tester)
        tester.expectTransition(from: .halfOpen, to: .closed)
        tester.finish()
    }

    // MARK: Configuration

    @Test func speededUpDividesEveryDuration() {
        let configuration = Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 5, window: .seconds(60)), openDuration: .seconds(30),
            halfOpenTimeout: .seconds(10))
        #expect(configuration.speeded(up: 10) == Breaker.Configuration(
            failureThreshold: .failureRate(0.5, minimumCalls: 5, window: .seconds(6)), openDuration: .seconds(3),
            halfOpenTimeout: .seconds(1)))
    }

    @Test func descriptionsReadWell() {
        #expect("\(Breaker.FailureThreshold.failureRate(0.5, minimumCalls: 10, window: .seconds(60)))"
            == "50% of at least 10 calls in 60.0 seconds")
        #expect("\(Breaker.Permission.granted(Permit(generation: 4, isTrial: true)))" == "granted trial permit #4")
        #expect("\(CircuitBreakerError.open(remaining: .seconds(12)))"
            == "circuit breaker is open (retry in 12.0 seconds)")
    }

    // MARK: The client

    /// A client on a virtual clock.
    func client(
        _ configuration: Breaker.Configuration = Self.configuration,
        isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true }
    ) throws -> (CircuitBreakerClient, ManualClock) {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        return (try CircuitBreakerClient(runtime: runtime, configuration: configuration, isFailure: isFailure), clock)
    }

    struct Outage: Error, Equatable {}
    struct BadRequest: Error, Equatable {}

    @Test func clientRunsTheOperationAndReturnsItsValue() async throws {
        let (breaker, _) = try client()
        #expect(try await breaker.run { 42 } == 42)
        #expect(try await breaker.state == .closed)
    }

    @Test func clientFailsFastWhileOpenWithoutRunningTheOperation() async throws {
        let (breaker, clock) = try client()
        for _ in 0..<3 {
            await #expect(throws: Outage()) { try await breaker.run { throw Outage() } }
        }
        #expect(try await breaker.state == .open)
        clock.advance(by: .seconds(10))
        let ran = Counter()
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(20))) {
            try await breaker.run { ran.increment() }
        }
        #expect(ran.value == 0)
        #expect(try await breaker.statistics.rejectedCalls == 1)
    }

    @Test func clientClosesTheBreakerAfterSuccessfulTrials() async throws {
        let (breaker, clock) = try client()
        for _ in 0..<3 { _ = try? await breaker.run { throw Outage() } }
        clock.advance(by: .seconds(30))
        #expect(try await breaker.state == .halfOpen)
        #expect(try await breaker.run { "first" } == "first")
        #expect(try await breaker.run { "second" } == "second")
        #expect(try await breaker.state == .closed)
    }

    @Test func errorsThatAreNotFailuresDoNotCount() async throws {
        let (breaker, _) = try client(isFailure: { !($0 is BadRequest) })
        for _ in 0..<5 {
            await #expect(throws: BadRequest()) { try await breaker.run { throw BadRequest() } }
        }
        #expect(try await breaker.state == .closed)
        #expect(try await breaker.statistics.consecutiveFailures == 0)
    }

    @Test func aCancelledTrialReleasesItsSlot() async throws {
        let (breaker, clock) = try client()
        for _ in 0..<3 { _ = try? await breaker.run { throw Outage() } }
        clock.advance(by: .seconds(30))
        await #expect(throws: CancellationError.self) { try await breaker.run { throw CancellationError() } }
        #expect(try await breaker.statistics.trialsInFlight == 0)
        #expect(try await breaker.run { true })
    }

    @Test func aCancelledTaskDoesNotRunTheOperation() async throws {
        let (breaker, _) = try client()
        let ran = Counter()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await breaker.run { ran.increment() }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ran.value == 0)
    }

    @Test func stateChangesAreStreamedToEverySubscriber() async throws {
        let (breaker, clock) = try client()
        let first = breaker.stateChanges()
        let second = breaker.stateChanges()
        for _ in 0..<3 { _ = try? await breaker.run { throw Outage() } }
        clock.advance(by: .seconds(30))
        try breaker.reset()
        try await breaker.stop()
        let expected = [
            Breaker.StateChange(from: .closed, to: .open, at: .zero),
            Breaker.StateChange(from: .open, to: .halfOpen, at: RuntimeInstant.zero + .seconds(30)),
            Breaker.StateChange(from: .halfOpen, to: .closed, at: RuntimeInstant.zero + .seconds(30)),
        ]
        var received: [Breaker.StateChange] = []
        for await change in first { received.append(change) }    // the stream ends with the server
        #expect(received == expected)
        received = []
        for await change in second { received.append(change) }
        #expect(received == expected)
        var late = breaker.stateChanges().makeAsyncIterator()
        #expect(await late.next() == nil)
    }

    @Test func clientRejectsAnInvalidConfiguration() {
        #expect(throws: StateServerError.self) {
            try CircuitBreakerClient(runtime: Runtime(clock: ManualClock()), configuration: .init(trialCalls: 0))
        }
    }

    @Test func clientOnTheDefaultRuntimeRunsOperations() async throws {
        let runtime = Runtime(workers: 2, reporter: nil)
        let breaker = try CircuitBreakerClient(runtime: runtime)
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 { group.addTask { try await breaker.run { index } } }
            return try await group.reduce(0, +)
        }
        #expect(values == 190)
        #expect(try await breaker.state == .closed)
        try await breaker.stop()
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/CircuitBreaker.md"))
        let diagram = Breaker(configuration: Self.configuration).table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/CircuitBreaker.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/CircuitBreaker/CircuitBreaker.swift"))
        for prefix in ["public var table:", "static func halfOpenRows("] {
            let code = try #require(MachineGuide.declaration(in: source, startingWith: prefix))
            #expect(guide.contains(code), "paste this code:\n\(code)")
        }
    }

    @Test func guideShowsTheUsageOfThisFile() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/CircuitBreaker.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        let paymentService = PaymentService()
        // usage:begin
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)                      // virtual time here; Runtime() in an app
        let breaker = try CircuitBreakerClient(runtime: runtime, configuration: .init(
            failureThreshold: .failureRate(0.5, minimumCalls: 4, window: .seconds(60)),
            openDuration: .seconds(30), trialCalls: 1, successThreshold: 2))
        let changes = breaker.stateChanges()                     // e.g. `for await change in changes { log(change) }`

        paymentService.isDown = true
        for _ in 0..<4 {
            await #expect(throws: PaymentService.Unavailable.self) {
                try await breaker.run { try paymentService.charge(100) }
            }
        }
        // Open: calls fail fast, without reaching the service.
        await #expect(throws: CircuitBreakerError.open(remaining: .seconds(30))) {
            try await breaker.run { try paymentService.charge(100) }
        }

        paymentService.isDown = false
        clock.advance(by: .seconds(30))                          // open → halfOpen: trial calls may go through
        _ = try await breaker.run { try paymentService.charge(100) }
        _ = try await breaker.run { try paymentService.charge(100) }
        #expect(try await breaker.state == .closed)             // two successful trials closed it

        try await breaker.stop()
        var log: [String] = []
        for await change in changes { log.append("\(change.from) → \(change.to)") }
        #expect(log == ["closed → open", "open → halfOpen", "halfOpen → closed"])
        // usage:end
        #expect(paymentService.charges == 2)
    }
}

/// A counter shared with `@Sendable` operations.
private final class Counter: Sendable {
    private let count = Locked(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A payment service that can be down.
private final class PaymentService: Sendable {
    struct Unavailable: Error {}
    private let state = Locked((isDown: false, charges: 0))

    var isDown: Bool {
        get { state.withLock { $0.isDown } }
        set { state.withLock { $0.isDown = newValue } }
    }

    var charges: Int { state.withLock { $0.charges } }

    func charge(_ cents: Int) throws -> Int {
        try state.withLock { state in
            if state.isDown { throw Unavailable() }
            state.charges += 1
            return cents
        }
    }
}
