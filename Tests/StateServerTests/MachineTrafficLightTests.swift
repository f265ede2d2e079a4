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

// Every row of TrafficLight's table, including every timeout, in virtual time; its guide, checked against the
// code. Rows are named as in the table (`green: timeout(walk) → yellow`).

@Suite struct MachineTrafficLightTests {
    typealias Light = TrafficLight

    /// A tester whose light has reached `state` by the timed cycle (or a fault), with those steps claimed.
    func tester(
        in state: Light.State, configuration: Light.Configuration = Light.Configuration(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MachineTester<Light> {
        let tester = try MachineTester(Light(configuration: configuration), sourceLocation: sourceLocation)
        switch state {
        case .red:
            break
        case .green, .yellow:
            tester.advance(by: configuration.red)
            tester.expectTimeout(.state, sourceLocation: sourceLocation)
            tester.expectTransition(from: .red, to: .green, sourceLocation: sourceLocation)
            if state == .yellow {
                tester.advance(by: configuration.green)
                tester.expectTimeout(.state, sourceLocation: sourceLocation)
                tester.expectTransition(from: .green, to: .yellow, sourceLocation: sourceLocation)
            }
        case .flashing:
            try tester.cast(.fault)
            tester.expectTransition(from: .red, to: .flashing, sourceLocation: sourceLocation)
        }
        tester.expectState(state, sourceLocation: sourceLocation)
        return tester
    }

    // MARK: The table

    @Test func tableIsValid() async throws {
        try Light().validateTable().check()
        try Light(configuration: Light.Configuration(red: .seconds(1), green: .seconds(2), yellow: .seconds(3)))
            .validateTable().check()
    }

    @Test func diagramShowsEveryStateAndTimeout() {
        #expect(Light().table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> red
                red --> green : after 30s
                red --> flashing : fault
                green --> yellow : after 25s
                green --> yellow : timeout(walk)
                green --> flashing : fault
                yellow --> red : after 5s / countCycle
                yellow --> flashing : fault
                flashing --> red : reset

            """)
    }

    @Test func diagramFollowsTheConfiguration() {
        let diagram = Light(configuration: Light.Configuration().speeded(up: 10)).table.mermaidDiagram()
        #expect(diagram.contains("red --> green : after 3s"))
        #expect(diagram.contains("green --> yellow : after 2.5s"))
        #expect(diagram.contains("yellow --> red : after 500ms / countCycle"))
    }

    // MARK: red

    @Test func redTimeoutTurnsGreen() async throws {
        let tester = try tester(in: .red)
        tester.advance(by: .seconds(29))
        tester.expectNoMoreSteps()
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .red, to: .green)
        tester.finish()
    }

    @Test(arguments: Light.State.allCases)
    func currentStateAnswersTheState(_ state: Light.State) async throws {
        let tester = try tester(in: state)
        let reply = tester.call { .currentState($0) }
        #expect(try reply.result?.get() == state)
        tester.expectReply(state)
        tester.finish()
    }

    @Test(arguments: [Light.State.red, .yellow])
    func walkButtonOutsideGreenIsIgnored(_ state: Light.State) async throws {
        let tester = try tester(in: state)
        try tester.cast(.walkButtonPressed)
        #expect(tester.data?.isWalkRequested == false)
        #expect(try await tester.server.status().timeouts == [.state])
        tester.finish()
    }

    // MARK: green

    @Test func greenTimeoutWithoutWalkTurnsYellow() async throws {
        let tester = try tester(in: .green)
        tester.advance(by: .seconds(25))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .green, to: .yellow)
        tester.finish()
    }

    @Test func walkButtonEndsGreenWithinWalkGreen() async throws {
        let tester = try tester(in: .green)
        tester.advance(by: .seconds(3))
        try tester.cast(.walkButtonPressed)
        #expect(tester.data?.isWalkRequested == true)
        tester.advance(by: .seconds(4))
        tester.expectNoMoreSteps()
        tester.advance(by: .seconds(1))                          // 5 s after the press, 8 s into green
        tester.expectTimeout(.named(.walk))
        tester.expectTransition(from: .green, to: .yellow)
        #expect(tester.data?.isWalkRequested == false)
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .yellow, to: .red)
        tester.finish()
    }

    @Test func laterWalkPressesDoNotPostponeTheEndOfGreen() async throws {
        let tester = try tester(in: .green)
        try tester.cast(.walkButtonPressed)
        tester.advance(by: .seconds(3))
        try tester.cast(.walkButtonPressed)                      // the guard isFirstPress fails: no row fires
        tester.advance(by: .seconds(2))
        tester.expectTimeout(.named(.walk))
        tester.expectTransition(from: .green, to: .yellow)
        tester.finish()
    }

    @Test func walkPressedNearTheEndOfGreenIsCancelledWhenGreenEnds() async throws {
        let tester = try tester(in: .green)
        tester.advance(by: .seconds(23))
        try tester.cast(.walkButtonPressed)                      // walk would fire at 28 s; green ends at 25 s
        tester.advance(by: .seconds(2))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .green, to: .yellow)
        #expect(try await tester.server.status().timeouts == [.state])
        #expect(tester.data?.isWalkRequested == false)
        tester.advance(by: .seconds(5))                          // nothing fires at 28 s
        tester.expectTimeout(.state)
        tester.expectTransition(from: .yellow, to: .red)
        tester.finish()
    }

    // MARK: yellow

    @Test func yellowTimeoutTurnsRedAndCountsACycle() async throws {
        let tester = try tester(in: .yellow)
        #expect(try tester.call { .completedCycles($0) }.result?.get() == 0)
        tester.expectReply(0)
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .yellow, to: .red)
        #expect(try tester.call { .completedCycles($0) }.result?.get() == 1)
        tester.expectReply(1)
        tester.finish()
    }

    @Test func cyclesAreCountedOverManyCycles() async throws {
        let tester = try MachineTester(Light(), exhaustive: false)
        tester.advance(by: .seconds(60 * 3))                     // three 60 s cycles
        #expect(tester.data?.cycles == 3)
        #expect(tester.state == .red)
        tester.finish()
    }

    // MARK: fault and flashing

    @Test(arguments: [Light.State.red, .green, .yellow])
    func faultStartsFlashingFromAnyColor(_ state: Light.State) async throws {
        let tester = try tester(in: state)
        if state == .green { try tester.cast(.walkButtonPressed) }
        try tester.cast(.fault)
        tester.expectTransition(from: state, to: .flashing)
        #expect(tester.data == Light.Data(cycles: 0, isWalkRequested: false, isLampLit: true))
        #expect(try await tester.server.status().timeouts == [.named(.blink)])   // the color's timeout and walk: gone
        tester.finish()
    }

    @Test func blinkTimeoutTogglesTheLamp() async throws {
        let tester = try tester(in: .flashing)
        var lit: [Bool] = []
        for _ in 0..<4 {
            tester.advance(by: .milliseconds(500))
            tester.expectTimeout(.named(.blink))
            lit.append(try #require(tester.data).isLampLit)
        }
        #expect(lit == [false, true, false, true])
        tester.finish()
    }

    @Test func faultWhileFlashingChangesNothing() async throws {
        let tester = try tester(in: .flashing)
        tester.advance(by: .milliseconds(300))
        try tester.cast(.fault)
        tester.advance(by: .milliseconds(200))                   // the blink keeps its phase
        tester.expectTimeout(.named(.blink))
        #expect(tester.data?.isLampLit == false)
        tester.finish()
    }

    @Test func resetRestartsTheCycleAtRed() async throws {
        let tester = try tester(in: .flashing)
        tester.advance(by: .milliseconds(500))
        tester.expectTimeout(.named(.blink))
        try tester.cast(.reset)
        tester.expectTransition(from: .flashing, to: .red)
        #expect(tester.data?.isLampLit == false)
        #expect(try await tester.server.status().timeouts == [.state])
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .red, to: .green)
        tester.finish()
    }

    @Test(arguments: [Light.State.red, .green, .yellow])
    func resetOutsideFlashingIsIgnored(_ state: Light.State) async throws {
        let tester = try tester(in: state)
        try tester.cast(.reset)
        tester.expectState(state)
        tester.finish()
    }

    // MARK: Configuration

    @Test func configurationSetsEveryDuration() async throws {
        let configuration = Light.Configuration(
            red: .seconds(4), green: .seconds(3), yellow: .seconds(2), walkGreen: .seconds(1), blink: .seconds(1))
        let tester = try tester(in: .green, configuration: configuration)
        try tester.cast(.walkButtonPressed)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.named(.walk))
        tester.expectTransition(from: .green, to: .yellow)
        tester.advance(by: .seconds(2))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .yellow, to: .red)
        #expect(tester.clock.now == RuntimeInstant.zero + .seconds(7))
        try tester.cast(.fault)
        tester.expectTransition(from: .red, to: .flashing)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.named(.blink))
        tester.finish()
    }

    @Test func speededUpDividesEveryDuration() {
        let fast = Light.Configuration().speeded(up: 10)
        #expect(fast == Light.Configuration(
            red: .seconds(3), green: .milliseconds(2500), yellow: .milliseconds(500), walkGreen: .milliseconds(500),
            blink: .milliseconds(50)))
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() async throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/TrafficLight.md"))
        let diagram = Light().table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() async throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/TrafficLight.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/TrafficLight/TrafficLight.swift"))
        let table = try #require(MachineGuide.declaration(in: source, startingWith: "public var table:"))
        #expect(guide.contains(table), "paste this table:\n\(table)")
    }

    @Test func guideShowsTheUsageOfThisFile() async throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/TrafficLight.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        // usage:begin
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)                      // virtual time here; Runtime() in an app
        let light = try runtime.start(TrafficLight(configuration: .init(red: .seconds(20), walkGreen: .seconds(3))))

        clock.advance(by: .seconds(20))                          // red → green
        try light.cast(.walkButtonPressed)                       // green ends within 3 s
        clock.advance(by: .seconds(3))                           // green → yellow
        #expect(try await light.call { .currentState($0) } == .yellow)

        try light.cast(.fault)                                   // → flashing: the yellow lamp blinks
        clock.advance(by: .seconds(2))
        try light.cast(.reset)                                   // → red, the cycle starts again
        #expect(try await light.call { .currentState($0) } == .red)
        #expect(try await light.call { .completedCycles($0) } == 0)
        // usage:end
    }
}

// MARK: Reading the guides

/// Reads the machines' guides and the code they quote, so the guides never rot.
enum MachineGuide {
    /// The text of a file of the package, or `nil` when it can't be read.
    static func read(_ relativePath: String) -> String? {
        var root = #filePath
        for _ in 0..<3 { root = String(root[..<(root.lastIndex(of: "/") ?? root.startIndex)]) }
        return readFile(root + "/" + relativePath)
    }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
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

    /// The lines between `// usage:begin` and `// usage:end` in the file at `path`, without their common
    /// indentation.
    static func snippet(in path: String) -> String? {
        guard let text = readFile(path) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let begin = lines.firstIndex(where: { $0.hasSuffix("// usage:begin") }),
            let end = lines.firstIndex(where: { $0.hasSuffix("// usage:end") }), begin < end
        else { return nil }
        return dedented(lines[(begin + 1)..<end])
    }

    /// The declaration whose first line starts (after indentation) with `prefix`, up to its closing brace at the
    /// same indentation, without that indentation.
    static func declaration(in source: String, startingWith prefix: String) -> String? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard let begin = lines.firstIndex(where: { $0.drop(while: { $0 == " " }).hasPrefix(prefix) }) else {
            return nil
        }
        let indentation = lines[begin].prefix(while: { $0 == " " })
        guard let end = lines[begin...].firstIndex(where: { $0 == indentation + "}" }) else { return nil }
        return dedented(lines[begin...end])
    }

    static func dedented(_ lines: ArraySlice<Substring>) -> String {
        let indentation = lines.filter { !$0.allSatisfy(\.isWhitespace) }
            .map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
        return lines.map { String($0.dropFirst(min(indentation, $0.count))) }.joined(separator: "\n")
    }
}
