import StateServer
import StateServerTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The code of Docs/Testing.md, verbatim, so the guide never rots. Keep the two in step.

// MARK: The machine under test

/// A kettle: switched on, it heats for 90 seconds, then keeps the water hot for 10 minutes and switches off.
struct Kettle: StateMachine {
    enum State: Hashable, Sendable { case off, heating, boiled }
    enum Cast: Sendable { case switchOn, switchOff }
    enum Call: Sendable {
        case temperature(Reply<Int>)             // answered at once
        case waitUntilBoiled(Reply<Int>)         // answered when the water boils: a deferred reply
    }
    enum Info: Sendable { case announced(Result<Void, any Error>) }
    struct Data: Sendable {
        var temperature = 20
        var waiting: [Reply<Int>] = []
        var announcements = 0
    }

    /// Tells the world the water boiled (a push notification, say): async work, run off the server.
    var announce: @Sendable () async throws -> Void = {}

    func start() -> Start<Self> { .ok(.off, data: Data()) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch (state, event) {
        case (_, .call(.temperature(let reply))):
            return .keep(.reply(reply, data.temperature))
        case (.off, .cast(.switchOn)):
            return .goto(.heating, .stateTimeout(.seconds(90)))
        case (.heating, .call(.waitUntilBoiled(let reply))):
            data.waiting.append(reply)           // kept, answered when the water boils
            return .keep
        case (.boiled, .call(.waitUntilBoiled(let reply))):
            return .keep(.reply(reply, data.temperature))
        case (.heating, .stateTimeout):
            data.temperature = 100
            let replies = data.waiting.map { Action<Self>.reply($0, 100) }
            data.waiting = []
            return .goto(.boiled, actions: replies + [
                .stateTimeout(.seconds(600)),
                .run(announce, then: { .announced($0) }),
            ])
        case (.boiled, .stateTimeout), (_, .cast(.switchOff)):
            let replies = data.waiting.map { Action<Self>.reply($0, data.temperature) }
            data.waiting = []
            data.temperature = 20
            return .goto(.off, actions: replies)
        case (_, .info(.announced(.success))):
            data.announcements += 1
            return .keep
        default:
            return .keep
        }
    }
}

/// Records what effects did, from any task.
final class EffectLog: Sendable {
    private let lines = Locked<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var entries: [String] { lines.withLock { $0 } }
}

@Suite struct TestingGuideTests {
    // MARK: Virtual time

    @Test func kettleBoilsAfterNinetySeconds() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle())

        try kettle.cast(.switchOn)                               // handled before cast returns
        #expect(try await kettle.getState().state == .heating)
        clock.advance(by: .seconds(90))                          // the state timeout fires, at t = 90 s
        #expect(try await kettle.getState().state == .boiled)
        #expect(try await kettle.call { .temperature($0) } == 100)
        #expect(runtime.now == .zero + .seconds(90))
    }

    @Test func aDeferredReplyIsReadOnceTimeHasMoved() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle())
        try kettle.cast(.switchOn)

        let boiled = kettle.request(timeout: nil) { .waitUntilBoiled($0) }    // sent, not awaited
        #expect(!boiled.isResolved)
        clock.advance(by: .seconds(90))
        #expect(boiled.isResolved)
        #expect(try boiled.result?.get() == 100)
    }

    @Test func aCallerTimeoutRunsOnTheVirtualClockToo() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle())
        try kettle.cast(.switchOn)

        let boiled = kettle.request(timeout: .seconds(5)) { .waitUntilBoiled($0) }
        clock.advance(by: .seconds(5))
        #expect(throws: StateServerError.self) { try boiled.result?.get() }
        #expect(boiled.result.map { if case .failure(let error) = $0 { error.code == .callTimeout } else { false } } == true)
    }

    @Test func statusShowsStateDataAndArmedTimeouts() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle())
        try kettle.cast(.switchOn)
        _ = kettle.request(timeout: nil) { .waitUntilBoiled($0) }

        let status = try await kettle.status()
        #expect(status.state == .heating)
        #expect(status.data.waiting.count == 1)
        #expect(status.timeouts == [.state])
        #expect(clock.nextDeadline == .zero + .seconds(90))
    }

    // MARK: The exhaustive tester

    @Test func kettleStepByStep() async throws {
        let tester = try MachineTester(Kettle())
        try tester.cast(.switchOn)
        tester.expectTransition(from: .off, to: .heating)
        let boiled = tester.call(timeout: nil) { .waitUntilBoiled($0) }
        tester.advance(by: .seconds(90))
        tester.expectTimeout(.state)
        tester.expectReply(100)
        tester.expectTransition(from: .heating, to: .boiled)
        #expect(try boiled.result?.get() == 100)
        tester.finish()
    }

    @Test func aWrongExpectationShowsExpectedAndActual() async throws {
        let tester = try MachineTester(Kettle())
        try tester.cast(.switchOn)
        withKnownIssue {
            tester.expectTransition(from: .off, to: .boiled)
        } matching: { issue in
            issue.comments.map(\.rawValue).joined() == """
                expected: transition off → boiled
                  actual: transition off → heating
                """
        }
        tester.finish()
    }

    @Test func finishReportsTheStepsNobodyAsserted() async throws {
        let tester = try MachineTester(Kettle())
        try tester.cast(.switchOn)
        tester.advance(by: .seconds(90))
        tester.expectTransition(from: .off, to: .heating)
        withKnownIssue {
            tester.finish()
        } matching: { issue in
            issue.comments.map(\.rawValue).joined() == """
                2 step(s) not asserted:
                  - timeout stateTimeout
                  - transition heating → boiled
                """
        }
    }

    @Test func nonExhaustiveTesterChecksOnlyWhatTheTestNames() async throws {
        let tester = try MachineTester(Kettle(), exhaustive: false)
        try tester.cast(.switchOn)
        tester.advance(by: .seconds(90 + 600))
        tester.expectTransition(from: .boiled, to: .off)     // skips the steps before it
        tester.expectState(.off)
        #expect(tester.data?.temperature == 20)
        tester.finish()                                      // leftovers are not reported
    }

    // MARK: Timeouts, to the nanosecond

    @Test func kettleBoilsAtNinetySecondsAndNotBefore() async throws {
        let tester = try MachineTester(Kettle())
        try tester.cast(.switchOn)
        tester.expectTransition(from: .off, to: .heating)

        tester.advance(by: .seconds(90) - .nanoseconds(1))      // 1 ns before the deadline: nothing
        tester.expectState(.heating)
        tester.expectNoMoreSteps()

        tester.advance(by: .nanoseconds(1))                      // the deadline: the timeout fires
        tester.expectTimeout(.state)
        tester.expectTransition(from: .heating, to: .boiled)
        tester.finish()
    }

    @Test func switchingOffCancelsTheHeatingTimeout() async throws {
        let tester = try MachineTester(Kettle())
        try tester.cast(.switchOn)
        tester.advance(by: .seconds(60))
        try tester.cast(.switchOff)                              // leaving heating cancels its state timeout
        tester.advance(by: .seconds(3600))
        tester.expectTransition(from: .off, to: .heating)
        tester.expectTransition(from: .heating, to: .off)
        tester.expectNoMoreSteps()                               // nothing fired at t = 90 s
        #expect(tester.clock.armedTimerCount == 0)
        tester.finish()
    }

    // MARK: Effects

    @Test func kettleAnnouncesOnceItBoils() async throws {
        let log = EffectLog()
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle(announce: { log.append("boiled") }))
        try kettle.cast(.switchOn)
        clock.advance(by: .seconds(90))                          // starts the effect

        await runtime.waitForEffects()                           // it ran, and its result was handled
        #expect(log.entries == ["boiled"])
        #expect(try await kettle.getState().data.announcements == 1)
    }

    @Test func aFailedAnnouncementIsNotCounted() async throws {
        struct Offline: Error {}
        let tester = try MachineTester(Kettle(announce: { throw Offline() }), exhaustive: false)
        try tester.cast(.switchOn)
        tester.advance(by: .seconds(90))
        await tester.runtime.waitForEffects()
        #expect(tester.data?.announcements == 0)
        tester.finish()
    }

    // MARK: Supervised servers

    @Test func theSupervisorRestartsACrashedKettle() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(children: [
            .worker(id: "kettle") { Kettle() },
        ]).start(on: runtime)
        let first = try #require(try await supervisor.child("kettle", as: Kettle.self))
        try first.cast(.switchOn)

        first.kill()                                             // an abnormal exit: the child is restarted

        #expect(first.exitReason?.description == "killed")
        let second = try #require(try await supervisor.child("kettle", as: Kettle.self))
        #expect(second != first)
        #expect(try await second.getState().state == .off)      // a restart starts from scratch
    }

    @Test func backoffDelaysTheRestartUntilTheClockMoves() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(
            backoff: RestartBackoff(initialDelay: .seconds(1)),
            children: [.worker(id: "kettle") { Kettle() }]
        ).start(on: runtime)

        try #require(try await supervisor.child("kettle", as: Kettle.self)).kill()
        #expect(try await supervisor.whichChildren().map(\.status.description) == ["restarting"])

        clock.advance(by: .seconds(1) - .nanoseconds(1))
        #expect(try await supervisor.child("kettle", as: Kettle.self) == nil)
        clock.advance(by: .nanoseconds(1))
        #expect(try await supervisor.child("kettle", as: Kettle.self) != nil)
    }

    @Test func tooManyCrashesStopTheSupervisor() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let supervisor = try SupervisorSpec(intensity: 1, period: .seconds(5), children: [
            .worker(id: "kettle") { Kettle() },
        ]).start(on: runtime)
        let exits = EffectLog()
        _ = supervisor.monitor { reason in exits.append("\(reason)") }

        try #require(try await supervisor.child("kettle", as: Kettle.self)).kill()
        clock.advance(by: .seconds(4))                           // still inside the 5 s period
        try #require(try await supervisor.child("kettle", as: Kettle.self)).kill()

        #expect(!supervisor.isAlive)
        #expect(exits.entries.count == 1 && exits.entries[0].hasPrefix("shutdown"))
    }

    @Test func aMonitorSeesTheExitReason() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let kettle = try runtime.start(Kettle())
        let exits = EffectLog()
        _ = kettle.monitor { reason in exits.append("\(reason)") }

        try await kettle.stop(.shutdown("unplugged"))
        #expect(exits.entries == ["shutdown(unplugged)"])
        #expect(try await kettle.waitForExit().description == "shutdown(unplugged)")
    }
}

// MARK: The guide and this file stay in step

extension TestingGuideTests {
    @Test func everyCodeBlockOfTheGuideIsCompiledInThisFile() throws {
        let guide = try #require(Self.packageFile("Docs/Testing.md"))
        let source = try #require(Self.packageFile("Tests/StateServerTests/TestingGuideTests.swift"))
        let sourceLines = Self.lines(of: source).map(Self.withoutIndentation)
        let blocks = Self.swiftBlocks(in: guide)
        #expect(blocks.count >= 15)
        for block in blocks {
            let blockLines = Self.lines(of: block).map(Self.withoutIndentation)
            let isHere = sourceLines.indices.contains { start in
                sourceLines[start...].starts(with: blockLines)
            }
            #expect(isHere, "this block of Docs/Testing.md is not in TestingGuideTests.swift:\n\(block)")
        }
    }

    /// The contents of `path`, relative to the package's root.
    static func packageFile(_ path: String) -> String? {
        var root = #filePath
        for _ in 0..<3 { root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)]) }
        guard let file = fopen(root + "/" + path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func lines(of text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func withoutIndentation(_ line: String) -> String { String(line.drop { $0 == " " }) }

    /// The bodies of the guide's ```swift blocks.
    static func swiftBlocks(in guide: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in lines(of: guide) {
            if current == nil, line == "```swift" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}
