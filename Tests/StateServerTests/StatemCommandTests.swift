import StateServer
import Testing
@testable import statem

/// The `statem` tool, run in-process against a recorded console: commands, their output and exit statuses.
@Suite struct StatemCommandTests {
    // MARK: list

    @Test func listPrintsEachMachineOnOneLine() async {
        let result = await statem(["list"])
        #expect(result.status == 0)
        #expect(result.lines.count == Catalog.entries.count)
        for (line, entry) in zip(result.lines, Catalog.entries) {
            #expect(line.hasPrefix(entry.name + " "))
            #expect(line.hasSuffix(entry.summary))
        }
        #expect(result.lines.contains { $0.hasPrefix("traffic-light ") })
    }

    @Test func listOfOneMachineShowsItsEvents() async {
        let result = await statem(["list", "crossing"], machines: statemTestMachines)
        #expect(result.status == 0)
        expectLines(result.lines, containInOrder: [
            "crossing: a pedestrian crossing (a table)",
            "  button  press the button",
            "  break   break the light: it stops with an error",
        ])
    }

    // MARK: diagram

    @Test func diagramOfTheTrafficLightShowsEveryStateAndTimeout() async throws {
        let mermaid = await statem(["diagram", "traffic-light"])
        #expect(mermaid.status == 0, "\(mermaid.errors)")
        #expect(mermaid.lines.first == "stateDiagram-v2")
        for state in ["red", "green", "yellow", "flashing"] {
            #expect(mermaid.output.contains(" \(state) ") || mermaid.output.contains(" \(state)\n"), "no \(state)")
        }
        for timeout in ["after 30s", "after 25s", "after 5s"] {
            #expect(mermaid.output.contains(timeout), "no \(timeout)")
        }
        let dot = await statem(["diagram", "traffic-light", "--format", "dot"])
        #expect(dot.status == 0)
        #expect(dot.lines.first == #"digraph "traffic-light" {"#)
        #expect(dot.output.contains(#""red" -> "green" [label="after 30s"];"#))
    }

    @Test(arguments: [["--format", "mermaid"], [], ["--format=mermaid"]])
    func diagramPrintsTheMermaidDiagramOfTheTable(_ options: [String]) async {
        let result = await statem(["diagram", "crossing"] + options, machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.output == PedestrianCrossing().table.mermaidDiagram())
        expectLines(result.lines, containInOrder: [
            "    [*] --> dontWalk",
            "    dontWalk --> walk : button",
            "    walk --> flashing : after 20s",
            "    flashing --> dontWalk : after 5s",
        ])
    }

    @Test func diagramPrintsTheDotDiagramNamedAfterTheMachine() async {
        let result = await statem(["diagram", "crossing", "--format", "dot"], machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.output == PedestrianCrossing().table.dotDiagram(named: "crossing"))
    }

    @Test func diagramOfAHandlerDefinedMachineFailsWithAnExplanation() async {
        let result = await statem(["diagram", "doorbell"], machines: statemTestMachines)
        #expect(result.status == 1)
        #expect(result.output.isEmpty)
        #expect(result.errors.contains("doorbell is a handler-defined machine"))
        #expect(result.errors.contains("Machines with a table: crossing, jammed-door."))
    }

    @Test func diagramRejectsAnUnknownFormat() async {
        let result = await statem(["diagram", "crossing", "--format", "svg"], machines: statemTestMachines)
        #expect(result.status == 2)
        #expect(result.errors == "statem: unknown format 'svg'\nFormats: mermaid, dot\n")
    }

    // MARK: validate

    @Test func validateOfTheTrafficLightSucceeds() async {
        let result = await statem(["validate", "traffic-light"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.lines.first?.hasPrefix("traffic-light: ") == true)
    }

    @Test func validateOfAValidTableSucceeds() async {
        let result = await statem(["validate", "crossing"], machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.output == "crossing: the transition table is valid (states: dontWalk, walk, flashing)\n")
    }

    @Test func validateOfAnInvalidTableFailsWithTheReport() async {
        let result = await statem(["validate", "jammed-door"], machines: statemTestMachines)
        #expect(result.status == 1)
        #expect(result.output == """
            jammed-door: INVALID
            \(StatemJammedDoor().validateTable())

            """)
        #expect(result.output.contains("unreachableState"))
        #expect(result.output.contains("noWayOut"))
    }

    @Test func validateAllChecksEveryMachineAndFailsIfOneIsInvalid() async {
        let result = await statem(["validate", "--all"], machines: statemTestMachines)
        #expect(result.status == 1)
        expectLines(result.lines, containInOrder: [
            "crossing: the transition table is valid (states: dontWalk, walk, flashing)",
            "jammed-door: INVALID",
            "doorbell: a handler-defined machine (no transition table): nothing to validate",
            "1 of 3 machines have invalid tables: jammed-door",
        ])
    }

    @Test func everyMachineInTheCatalogIsValid() async {
        let result = await statem(["validate", "--all"])
        #expect(result.status == 0, "\(result.output)")
    }

    // MARK: mistakes

    @Test(arguments: [["run", "nope"], ["diagram", "nope"], ["validate", "nope"], ["list", "nope"]])
    func unknownMachineFailsWithTheListOfMachines(_ arguments: [String]) async {
        let result = await statem(arguments, machines: statemTestMachines)
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errors == "statem: unknown machine 'nope'\nMachines: crossing, jammed-door, doorbell\n")
    }

    @Test func unknownEventFailsWithTheListOfEventsBeforeRunning() async {
        let result = await statem(["run", "traffic-light", "--events", "walk,jump"])
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errors.hasPrefix("statem: unknown event 'jump' for traffic-light\nEvents: walk, "))
    }

    @Test(arguments: [
        (["run", "traffic-light", "--frobnicate"], "unknown option '--frobnicate' for run"),
        (["run", "traffic-light", "--speed"], "--speed needs a value"),
        (["run", "traffic-light", "--speed", "fast"], "--speed needs a number from 0.001 to 1000000.0, got 'fast'"),
        (["run", "traffic-light", "--cycles", "0"], "--cycles needs a whole number from 1 to 1000000, got '0'"),
        (["run", "traffic-light", "--step", "-1"], "--step needs a duration such as 10, 2.5s, 500ms or 2m, got '-1'"),
        (["run", "traffic-light", "--events"], "--events needs a value"),
        (["run", "traffic-light", "--step", "soon"], "--step needs a duration such as 10, 2.5s, 500ms or 2m, got 'soon'"),
        (["run", "traffic-light", "--real", "--virtual"], "choose --virtual or --real, not both"),
        (["run", "traffic-light", "--virtual", "--speed", "2"], "--speed applies to real time only: drop --virtual"),
        (["run"], "run needs a machine name"),
        (["diagram", "traffic-light", "extra"], "unexpected argument 'extra' for diagram"),
        (["validate"], "validate needs a machine name or --all"),
        (["validate", "traffic-light", "--all"], "give a machine or --all, not both"),
        (["list", "--long"], "unknown option '--long' for list"),
        (["fly"], "unknown command 'fly'"),
        (["traffic-light"], "unknown command 'traffic-light'"),
    ])
    func badCommandLineFailsWithAMessage(_ arguments: [String], message: String) async {
        let result = await statem(arguments)
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errors.hasPrefix("statem: \(message)\n"), "\(result.errors)")
    }

    @Test func aMachineNameAsCommandSuggestsRun() async {
        let result = await statem(["traffic-light"])
        #expect(result.errors == "statem: unknown command 'traffic-light'\nDid you mean 'statem run traffic-light'?\n")
    }

    @Test(arguments: [
        (["--help"], "statem — "), (["help"], "statem — "), (["-h"], "statem — "),
        (["run", "--help"], "statem run <machine>"), (["help", "run"], "statem run <machine>"),
        (["list", "--help"], "statem list"), (["diagram", "--help"], "statem diagram"),
        (["validate", "-h"], "statem validate"), (["run", "traffic-light", "--events", "walk", "--help"], "statem run"),
    ])
    func everyCommandHasHelp(_ arguments: [String], start: String) async {
        let result = await statem(arguments)
        #expect(result.status == 0)
        #expect(result.output.hasPrefix(start))
        #expect(result.errors.isEmpty)
    }

    // MARK: run, not interactive

    @Test func noArgumentsRunsTheTrafficLightForTwoCyclesInVirtualTime() async {
        let result = await statem([], input: "quit")
        #expect(result.status == 0)
        #expect(result.lines.first == "# traffic-light in virtual time")
        #expect(result.lines.filter { $0.hasSuffix("yellow → red") }.count == 2)
        expectLines(result.lines, containInOrder: [
            "t=30.000s    red → green", "t=55.000s    green → yellow", "t=60.000s    yellow → red",
            "t=120.000s   yellow → red", "t=120.000s   exited: normal",
        ])
    }

    @Test func cyclesRunsThatManyMinutes() async {
        let result = await statem(["run", "traffic-light", "--virtual", "--cycles", "3"])
        #expect(result.status == 0)
        #expect(result.lines.filter { $0.hasSuffix("yellow → red") }.count == 3)
        #expect(result.lines.last == "t=180.000s   exited: normal")
    }

    @Test func eventsAreSentInOrderWithTheirTrace() async {
        let result = await statem(["run", "traffic-light", "--events", "walk,state"], input: "quit")
        #expect(result.status == 0)
        expectLines(result.lines, containInOrder: [
            "# traffic-light in virtual time",
            "t=0.000s     started in red",
            "# event: walk",
            "t=0.000s     cast(walkButtonPressed) in red",
            "# event: state",
            "t=10.000s    call(currentState(reply)) in red",
            "t=10.000s    replied red",
            "# → red",
            "t=20.000s    exited: normal",
        ])
        #expect(!result.output.contains("red> "), "not interactive")
    }

    @Test func eventArgumentsAndStepsAreTakenFromTheCommandLine() async {
        let result = await statem(["run", "crossing", "--events", "button", "--step", "25s"], machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.output == """
            # crossing in virtual time
            t=0.000s     started in dontWalk
            # event: button
            t=0.000s     cast(button) in dontWalk
            t=0.000s     dontWalk → walk
            t=0.000s     armed stateTimeout after(20s)
            t=20.000s    stateTimeout in walk
            t=20.000s    walk → flashing
            t=20.000s    armed stateTimeout after(5s)
            t=25.000s    stateTimeout in flashing
            t=25.000s    flashing → dontWalk
            t=25.000s    stopping in dontWalk: normal
            t=25.000s    exited: normal

            """)
    }

    @Test func aMachineThatFailsDuringTheRunEndsItWithStatusOne() async {
        let result = await statem(["run", "crossing", "--events", "button,break,button"], machines: statemTestMachines)
        #expect(result.status == 1)
        expectLines(result.lines, containInOrder: [
            "# event: break", "t=10.000s    exited: error(broken)", "# crossing has ended: error(broken)",
        ])
        #expect(result.lines.filter { $0.hasPrefix("# event") }.count == 2)
    }

    @Test func withoutInputTheRunIsNotInteractive() async {
        let result = await statem(["run", "crossing"], input: nil, machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.lines.first == "# crossing in virtual time")
        #expect(result.lines.last == "t=120.000s   exited: normal")
    }

    // MARK: run, interactive

    @Test func interactiveSessionPerformsEachLineAndPromptsWithTheState() async {
        let script = """
            button
            state
            advance 20
            time
            advance
            bogus
            button now

            quit
            """
        let result = await statem(["run", "crossing"], input: script, machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.output == """
            # crossing in virtual time: type an event or a command ('help' lists them, 'quit' ends)
            t=0.000s     started in dontWalk
            dontWalk> button
            t=0.000s     cast(button) in dontWalk
            t=0.000s     dontWalk → walk
            t=0.000s     armed stateTimeout after(20s)
            walk> state
            # state: walk
            walk> advance 20
            t=20.000s    stateTimeout in walk
            t=20.000s    walk → flashing
            t=20.000s    armed stateTimeout after(5s)
            # now t=20.000s
            flashing> time
            # now t=20.000s
            flashing> advance
            t=25.000s    stateTimeout in flashing
            t=25.000s    flashing → dontWalk
            # now t=25.000s
            dontWalk> bogus
            error: unknown event or command 'bogus'
            Events: button, break
            Commands: state, time, advance [D], help, quit
            dontWalk> button now
            error: 'button' takes no arguments
            usage: button
            dontWalk> 
            dontWalk> quit
            t=25.000s    stopping in dontWalk: normal
            t=25.000s    exited: normal

            """)
    }

    @Test func interactiveSessionEndsAtTheEndOfInput() async {
        let result = await statem(["run", "crossing"], input: "button", machines: statemTestMachines)
        #expect(result.status == 0)
        #expect(result.lines.suffix(2) == ["t=0.000s     stopping in walk: normal", "t=0.000s     exited: normal"])
    }

    @Test func interactiveHelpListsTheEventsAndCommands() async {
        let result = await statem(["run", "traffic-light"], input: "help\nquit")
        expectLines(result.lines, containInOrder: [
            "Events of traffic-light:", "Commands:", "  advance [D]  virtual time: move the clock by D (5, 5s, 500ms, 2m), or to the next timer",
        ])
        #expect(result.lines.contains { $0.hasPrefix("  walk ") })
        // The tool's own `state` hides the light's `state` call.
        #expect(result.lines.filter { $0.hasPrefix("  state ") }.count == 1)
    }

    @Test func interactiveTrafficLightSession() async {
        let result = await statem(["run", "traffic-light"], input: "walk\nadvance 30\nwalk\nadvance 5\ncycles\nquit")
        #expect(result.status == 0)
        expectLines(result.lines, containInOrder: [
            "red> walk", "t=0.000s     cast(walkButtonPressed) in red",
            "red> advance 30", "t=30.000s    red → green",
            "green> walk", "green> advance 5", "t=35.000s    green → yellow",
            "yellow> cycles", "# → 0",
            "yellow> quit", "t=35.000s    exited: normal",
        ])
    }

    @Test func deferredReplyInVirtualTimeShowsInTheTraceOnceTimeMoves() async {
        let result = await statem(["run", "doorbell"], input: "ring\nadvance 3\nquit", machines: statemTestMachines)
        #expect(result.status == 0)
        expectLines(result.lines, containInOrder: [
            "quiet> ring",
            "t=0.000s     quiet → ringing",
            "# → no reply yet: the machine answers later (advance time; the trace shows the reply)",
            "ringing> advance 3",
            "t=3.000s     replied ding dong",
            "t=3.000s     ringing → quiet",
        ])
    }

    @Test func interactiveSessionEndsWhenTheMachineFails() async {
        let result = await statem(["run", "crossing"], input: "break\nbutton\nquit", machines: statemTestMachines)
        #expect(result.status == 1)
        #expect(result.lines.suffix(2) == ["t=0.000s     exited: error(broken)", "# crossing has ended: error(broken)"])
        #expect(!result.output.contains("> button"))
    }

    @Test func realTimeSessionExplainsThatAdvanceNeedsVirtualTime() async {
        // The default runtime, for one prompt: nothing here depends on how much real time passes.
        let result = await statem(["run", "crossing", "--real"], input: "advance 5\nquit", machines: statemTestMachines)
        #expect(result.status == 0)
        expectLines(result.lines, containInOrder: [
            "# crossing in real time: type an event or a command ('help' lists them, 'quit' ends)",
            "dontWalk> advance 5",
            "error: 'advance' moves virtual time; in real time the timers fire on their own",
            "dontWalk> quit",
        ])
        #expect(result.lines.last?.hasSuffix("exited: normal") == true)
    }

    // MARK: every machine of the catalog

    @Test(arguments: Catalog.entries.map(\.name))
    func everyMachineOfTheCatalogRunsInteractivelyAndStops(_ name: String) async {
        let result = await statem(["run", name], input: "help\nstate\ntime\nadvance\nquit")
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.isEmpty)
        #expect(result.lines.contains("Events of \(name):"))
        #expect(result.lines.last?.hasSuffix("exited: normal") == true)
    }

    @Test(arguments: Catalog.entries.filter(\.hasTable).map(\.name))
    func everyTableMachineOfTheCatalogIsDrawnInBothFormats(_ name: String) async {
        let mermaid = await statem(["diagram", name])
        #expect(mermaid.status == 0)
        #expect(mermaid.lines.first == "stateDiagram-v2")
        let dot = await statem(["diagram", name, "--format", "dot"])
        #expect(dot.status == 0)
        #expect(dot.lines.first == "digraph \"\(name)\" {")
    }

    // MARK: parsing

    @Test(arguments: [
        ("5", Duration.seconds(5)), ("5s", .seconds(5)), ("1.5", .milliseconds(1500)), ("500ms", .milliseconds(500)),
        ("2m", .seconds(120)),
    ])
    func typedDurationsAreParsed(_ text: String, expected: Duration) {
        #expect(Duration(typed: text) == expected)
    }

    @Test(arguments: ["", "0", "-5", "5h", "ms", "abc", "1e30"])
    func invalidTypedDurationsAreRejected(_ text: String) {
        #expect(Duration(typed: text) == nil)
    }
}
