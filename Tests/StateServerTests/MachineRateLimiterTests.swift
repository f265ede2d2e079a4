import Machines
import StateServerTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Every row of RateLimiter's table (Sources/Machines/RateLimiter/RateLimiter+Table.swift), its refill timeout in
// both rows, configuration variants, and the guide Docs/Machines/RateLimiter.md kept true.

private typealias Limiter = RateLimiter

/// 5 tokens, 2 more every second.
private let smallBucket = Limiter.Configuration(capacity: 5, refillAmount: 2, every: .seconds(1))

@Suite struct MachineRateLimiterTests {
    // MARK: Helpers

    /// A limiter with `spent` of its 5 tokens taken (so refilling when `spent > 0`), every step asserted.
    private func limiter(
        spent: Int = 0, _ configuration: Limiter.Configuration = smallBucket,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MachineTester<Limiter> {
        let tester = try MachineTester(Limiter(configuration: configuration), sourceLocation: sourceLocation)
        if spent > 0 {
            tester.call { .acquire(spent, $0) }
            tester.expectReply(Limiter.Decision.allowed(remaining: configuration.capacity - spent), sourceLocation: sourceLocation)
            tester.expectTransition(from: .full, to: .refilling, sourceLocation: sourceLocation)
        }
        return tester
    }

    private func statistics(_ tester: MachineTester<Limiter>) throws -> Limiter.Statistics? {
        let reply = tester.call { .statistics($0) }
        tester.skipRecordedSteps()
        return try reply.result?.get()
    }

    // MARK: The table

    @Test func tableIsValid() {
        let report = Limiter(configuration: smallBucket).validateTable()
        #expect(report.isValid, "\(report)")
        #expect(Limiter().validateTable().isValid)
        #expect(Limiter().table.initialState == .full)
    }

    // MARK: full

    @Test func fullBucketRunsNoTimer() throws {
        let tester = try limiter()
        #expect(tester.clock.armedTimerCount == 0)
        tester.advance(by: .seconds(3600))
        tester.expectState(.full)
        tester.finish()
    }

    @Test func acquireFromAFullBucketTakesTokensAndStartsRefilling() throws {
        let tester = try limiter()
        let reply = tester.call { .acquire(3, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: 2))
        tester.expectTransition(from: .full, to: .refilling)
        #expect(try reply.result?.get() == .allowed(remaining: 2))
        #expect(tester.clock.armedTimerCount == 1)
        tester.finish()
    }

    @Test(arguments: [0, -1, 6])
    func acquireThatCanNeverBeGrantedIsInvalidWhenFull(_ tokens: Int) throws {
        let tester = try limiter()
        let reply = tester.call { .acquire(tokens, $0) }
        tester.expectReply(Limiter.Decision.invalid(requested: tokens, capacity: 5))
        #expect(try reply.result?.get() == .invalid(requested: tokens, capacity: 5))
        tester.expectState(.full)
        #expect(try statistics(tester)?.invalid == 1)
        tester.finish()
    }

    @Test func acquireWhenAvailableFromAFullBucketIsAnsweredAtOnce() throws {
        let tester = try limiter()
        let reply = tester.call { .acquireWhenAvailable(5, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        tester.expectTransition(from: .full, to: .refilling)
        #expect(try reply.result?.get() == .allowed(remaining: 0))
        tester.finish()
    }

    @Test(arguments: [0, 6])
    func acquireWhenAvailableThatCanNeverBeGrantedIsInvalidWhenFull(_ tokens: Int) throws {
        let tester = try limiter()
        let reply = tester.call { .acquireWhenAvailable(tokens, $0) }
        tester.expectReply(Limiter.Decision.invalid(requested: tokens, capacity: 5))
        #expect(try reply.result?.get() == .invalid(requested: tokens, capacity: 5))
        tester.expectState(.full)
        tester.finish()
    }

    // MARK: refilling: requests

    @Test func acquireTakesAvailableTokensWhileRefilling() throws {
        let tester = try limiter(spent: 2)
        let reply = tester.call { .acquire(3, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        #expect(try reply.result?.get() == .allowed(remaining: 0))
        tester.expectState(.refilling)
        tester.finish()
    }

    @Test(arguments: [(needed: 1, retryAfter: 1), (2, 1), (3, 2), (4, 2)])
    func acquireWithoutEnoughTokensIsDeniedWithARetryEstimate(needed: Int, retryAfter: Int) throws {
        let tester = try limiter(spent: 5)
        let reply = tester.call { .acquire(needed, $0) }
        tester.expectReply(Limiter.Decision.denied(retryAfter: .seconds(retryAfter)))
        #expect(try reply.result?.get() == .denied(retryAfter: .seconds(retryAfter)))
        tester.advance(by: .seconds(retryAfter))                       // the estimate holds
        for _ in 0..<retryAfter { tester.expectTimeout(.state) }
        tester.call { .acquire(needed, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: min(5, 2 * retryAfter) - needed))
        tester.finish()
    }

    @Test func retryEstimateCountsTheCallersWaitingAhead() throws {
        let tester = try limiter(spent: 5)
        tester.call { .acquireWhenAvailable(4, $0) }
        let reply = tester.call { .acquire(2, $0) }                      // 4 + 2 missing: 3 refills
        tester.expectReply(Limiter.Decision.denied(retryAfter: .seconds(3)))
        #expect(try reply.result?.get() == .denied(retryAfter: .seconds(3)))
        tester.finish()
    }

    @Test func acquireDoesNotOvertakeWaitingCallers() throws {
        let tester = try limiter(spent: 5)
        tester.call { .acquireWhenAvailable(3, $0) }
        tester.advance(by: .seconds(1))                                 // 2 tokens, the waiter needs 3
        tester.expectTimeout(.state)
        let reply = tester.call { .acquire(1, $0) }                      // would fit, but someone waits
        tester.expectReply(Limiter.Decision.denied(retryAfter: .seconds(1)))
        #expect(try reply.result?.get() == .denied(retryAfter: .seconds(1)))
        tester.finish()
    }

    @Test(arguments: [0, 6])
    func acquireThatCanNeverBeGrantedIsInvalidWhileRefilling(_ tokens: Int) throws {
        let tester = try limiter(spent: 1)
        let reply = tester.call { .acquire(tokens, $0) }
        tester.expectReply(Limiter.Decision.invalid(requested: tokens, capacity: 5))
        #expect(try reply.result?.get() == .invalid(requested: tokens, capacity: 5))
        tester.finish()
    }

    @Test func acquireWhenAvailableIsAnsweredAtOnceWhenTokensAreThere() throws {
        let tester = try limiter(spent: 1)
        let reply = tester.call { .acquireWhenAvailable(4, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        #expect(try reply.result?.get() == .allowed(remaining: 0))
        tester.finish()
    }

    @Test func acquireWhenAvailableWaitsForRefillsThenIsAnswered() throws {
        let tester = try limiter(spent: 5)
        let reply = tester.call { .acquireWhenAvailable(3, $0) }
        #expect(!reply.isResolved)                                      // a deferred reply
        #expect(try statistics(tester)?.waiting == 1)
        tester.advance(by: .seconds(1))                                 // 2 tokens
        tester.expectTimeout(.state)
        #expect(!reply.isResolved)
        tester.advance(by: .seconds(1))                                 // 4 tokens: served
        tester.expectTimeout(.state)
        tester.expectReply(Limiter.Decision.allowed(remaining: 1))
        #expect(try reply.result?.get() == .allowed(remaining: 1))
        let stats = try statistics(tester)
        #expect(stats?.waiting == 0)
        #expect(stats?.waited == 1)
        tester.finish()
    }

    @Test func waitingCallersAreServedFirstInFirstOut() throws {
        let tester = try limiter(spent: 5)
        let first = tester.call { .acquireWhenAvailable(3, $0) }
        let second = tester.call { .acquireWhenAvailable(1, $0) }       // fits sooner, but waits its turn
        let third = tester.call { .acquireWhenAvailable(2, $0) }
        tester.advance(by: .seconds(1))                                 // 2 tokens: the head needs 3
        tester.expectTimeout(.state)
        #expect(!first.isResolved && !second.isResolved && !third.isResolved)
        tester.advance(by: .seconds(1))                                 // 4: first (3), then second (1)
        tester.expectTimeout(.state)
        tester.expectReply(Limiter.Decision.allowed(remaining: 1))
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        #expect(try first.result?.get() == .allowed(remaining: 1))
        #expect(try second.result?.get() == .allowed(remaining: 0))
        #expect(!third.isResolved)
        tester.advance(by: .seconds(1))                                 // 2: third
        tester.expectTimeout(.state)
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        #expect(try third.result?.get() == .allowed(remaining: 0))
        tester.finish()
    }

    @Test func callerWhoGaveUpIsSkipped() throws {
        let tester = try limiter(spent: 5)
        let impatient = tester.call(timeout: .milliseconds(1500)) { .acquireWhenAvailable(4, $0) }
        let patient = tester.call { .acquireWhenAvailable(2, $0) }
        tester.advance(by: .seconds(1))                                 // 2 tokens: the head needs 4
        tester.expectTimeout(.state)
        tester.advance(by: .milliseconds(500))                          // the head's call times out
        guard case .failure(let error)? = impatient.result else {
            Issue.record("expected the impatient call to time out, got \(String(describing: impatient.result))")
            return
        }
        #expect(error.code == .callTimeout)
        tester.advance(by: .milliseconds(500))                          // 4 tokens: the head is skipped
        tester.expectTimeout(.state)
        tester.expectReply(Limiter.Decision.allowed(remaining: 2))
        #expect(try patient.result?.get() == .allowed(remaining: 2))
        let stats = try statistics(tester)
        #expect(stats?.abandoned == 1)
        #expect(stats?.waited == 1)
        tester.finish()
    }

    @Test func callerWhoGaveUpNoLongerBlocksAcquire() throws {
        let tester = try limiter(spent: 4)
        tester.call(timeout: .milliseconds(500)) { .acquireWhenAvailable(5, $0) }
        tester.advance(by: .milliseconds(500))
        let reply = tester.call { .acquire(1, $0) }
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        #expect(try reply.result?.get() == .allowed(remaining: 0))
        #expect(try statistics(tester)?.abandoned == 1)
        tester.finish()
    }

    @Test(arguments: [0, 6])
    func acquireWhenAvailableThatCanNeverBeGrantedIsInvalidWhileRefilling(_ tokens: Int) throws {
        let tester = try limiter(spent: 5)
        let reply = tester.call { .acquireWhenAvailable(tokens, $0) }
        tester.expectReply(Limiter.Decision.invalid(requested: tokens, capacity: 5))
        #expect(try reply.result?.get() == .invalid(requested: tokens, capacity: 5))
        #expect(try statistics(tester)?.waiting == 0)
        tester.finish()
    }

    // MARK: refilling: the refill timeout

    @Test func refillAddsTokensEveryIntervalAndKeepsItsPhase() throws {
        let tester = try limiter(spent: 5)
        tester.advance(by: .milliseconds(500))
        tester.call { .acquire(1, $0) }                                 // does not restart the timer
        tester.expectReply(Limiter.Decision.denied(retryAfter: .seconds(1)))
        tester.advance(by: .milliseconds(500))
        tester.expectTimeout(.state)
        #expect(tester.data?.tokens == 2)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        #expect(tester.data?.tokens == 4)
        tester.expectState(.refilling)
        tester.finish()
    }

    @Test func refillThatFillsTheBucketStopsTheTimer() throws {
        let tester = try limiter(spent: 5)
        tester.advance(by: .seconds(2))                                 // 4 tokens
        tester.expectTimeout(.state)
        tester.expectTimeout(.state)
        tester.advance(by: .seconds(1))                                 // 6, capped at 5: full
        tester.expectTimeout(.state)
        tester.expectTransition(from: .refilling, to: .full)
        #expect(tester.data?.tokens == 5)
        #expect(tester.clock.armedTimerCount == 0)
        tester.advance(by: .seconds(60))
        tester.finish()
    }

    @Test func bucketDoesNotStopRefillingWhileSomeoneWaits() throws {
        let tester = try limiter(spent: 5)
        tester.call { .acquireWhenAvailable(5, $0) }
        tester.advance(by: .seconds(2))                                 // 4 tokens: not yet
        tester.expectTimeout(.state)
        tester.expectTimeout(.state)
        tester.advance(by: .seconds(1))                                 // 5: served, not full
        tester.expectTimeout(.state)
        tester.expectReply(Limiter.Decision.allowed(remaining: 0))
        tester.expectState(.refilling)
        tester.finish()
    }

    // MARK: Always

    @Test func statisticsAreAnsweredInBothStates() throws {
        let tester = try limiter()
        #expect(try statistics(tester) == Limiter.Statistics(tokens: 5, capacity: 5))
        tester.call { .acquire(4, $0) }
        tester.call { .acquire(4, $0) }
        tester.call { .acquire(9, $0) }
        tester.call { .acquireWhenAvailable(3, $0) }
        tester.skipRecordedSteps()
        #expect(try statistics(tester) == Limiter.Statistics(
            tokens: 1, capacity: 5, waiting: 1, allowed: 1, denied: 1, invalid: 1))
        tester.finish()
    }

    // MARK: Configuration

    @Test(arguments: [
        Limiter.Configuration(capacity: 1, refillAmount: 1, every: .milliseconds(100)),
        Limiter.Configuration(capacity: 100, refillAmount: 10, every: .seconds(1)),
        Limiter.Configuration(capacity: 3, refillAmount: 5, every: .seconds(60)),
    ])
    func bucketRefillsToCapacityInTheConfiguredTime(_ configuration: RateLimiter.Configuration) throws {
        let tester = try MachineTester(Limiter(configuration: configuration), exhaustive: false)
        tester.call { .acquire(configuration.capacity, $0) }
        let refills = (configuration.capacity + configuration.refillAmount - 1) / configuration.refillAmount
        tester.advance(by: configuration.refillInterval * (refills - 1))
        tester.expectState(.refilling)
        tester.advance(by: configuration.refillInterval)
        tester.expectState(.full)
        #expect(tester.data?.tokens == configuration.capacity)
        tester.finish()
    }

    @Test func defaultConfigurationHoldsTenTokensRefilledOnePerSecond() throws {
        let tester = try MachineTester(Limiter(), exhaustive: false)
        tester.call { .acquire(10, $0) }
        let reply = tester.call { .acquire(3, $0) }
        #expect(try reply.result?.get() == .denied(retryAfter: .seconds(3)))
        tester.advance(by: .seconds(10))
        tester.expectState(.full)
        tester.finish()
    }

    @Test func speededUpConfigurationDividesTheInterval() {
        let fast = Limiter.Configuration(capacity: 4, refillAmount: 2, every: .seconds(10)).speeded(up: 10)
        #expect(fast == Limiter.Configuration(capacity: 4, refillAmount: 2, every: .seconds(1)))
    }

    @Test(arguments: [
        Limiter.Configuration(capacity: 0),
        Limiter.Configuration(refillAmount: 0),
        Limiter.Configuration(every: .zero),
    ])
    func invalidConfigurationDoesNotStart(_ configuration: RateLimiter.Configuration) throws {
        let runtime = Runtime(clock: ManualClock())
        let error = #expect(throws: StateServerError.self) { try runtime.start(Limiter(configuration: configuration)) }
        #expect(error?.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error?.exitReason else {
            Issue.record("expected an invalidArgument exit reason, got \(String(describing: error?.exitReason))")
            return
        }
        #expect(cause.code == .invalidArgument)
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/RateLimiter.md"))
        let diagram = Limiter().table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/RateLimiter.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/RateLimiter/RateLimiter+Table.swift"))
        let table = try #require(MachineGuide.declaration(in: source, startingWith: "@TransitionTableBuilder<Self> public var table:"))
        #expect(guide.contains(table), "paste this table:\n\(table)")
    }

    @Test func guideShowsTheUsageOfThisFile() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/RateLimiter.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        // usage:begin
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)                             // virtual time here; Runtime() in an app
        let limiter = try runtime.start(RateLimiter(
            configuration: RateLimiter.Configuration(capacity: 10, refillAmount: 2, every: .seconds(1))))

        #expect(try await limiter.call { .acquire(8, $0) } == .allowed(remaining: 2))
        #expect(try await limiter.call { .acquire(5, $0) } == .denied(retryAfter: .seconds(2)))

        // Waiting: answered once refills have added enough, unless the call times out first.
        let turn = limiter.request(timeout: .seconds(10)) { .acquireWhenAvailable(5, $0) }
        clock.advance(by: .seconds(2))                                  // 2 + 2 + 2 tokens
        #expect(try await turn.value() == .allowed(remaining: 1))

        let statistics = try await limiter.call { .statistics($0) }
        #expect(statistics.allowed == 1 && statistics.denied == 1 && statistics.waited == 1)
        // usage:end
    }
}
