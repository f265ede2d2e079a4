import Testing
import StateServer

// The code of Docs/Tables.md, verbatim, so the guide never rots. Keep the two in step.

// MARK: A first table

struct TrafficLightTable: TableMachine {
    enum State: Hashable, Sendable { case red, green, yellow }
    enum Cast: Hashable, Sendable { case walkButton, emergency }

    var table: TransitionTable<Self> {
        When(.red, timeout: .seconds(30))    { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(25))  { On(.stateTimeout, goto: .yellow); On(cast: .walkButton, goto: .yellow) }
        When(.yellow, timeout: .seconds(5))  { On(.stateTimeout, goto: .red) }
        Always                               { On(cast: .emergency, goto: .red) }
    }
}

// MARK: Everything else

struct CoffeeMachine: TableMachine {
    enum State: Hashable, Sendable { case idle, paying, brewing, outOfOrder }
    enum Drink: Hashable, Sendable { case espresso, latte }
    enum Cast: Hashable, Sendable { case coinInserted(cents: Int), choose(Drink), cancel, fault, repaired }
    enum Call: Sendable { case credit(Reply<Int>) }
    struct Data: Sendable {
        var credit = 0
        var log: [String] = []
    }

    static func price(of drink: Drink) -> Int { drink == .espresso ? 120 : 200 }

    // Matchers: the payload of one case, or nil for any other.
    static let coin: @Sendable (Cast) -> Int? = { if case .coinInserted(let cents) = $0 { cents } else { nil } }
    static let choice: @Sendable (Cast) -> Drink? = { if case .choose(let drink) = $0 { drink } else { nil } }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.idle) {
            On(cast: "coinInserted", match: Self.coin, goto: .paying)
                .action("addCredit") { data, cents in data.credit += cents }
        }
        When(.paying, timeout: .seconds(60)) {
            On(cast: "coinInserted", match: Self.coin)
                .action("addCredit") { data, cents in data.credit += cents }
            On(cast: "choose", match: Self.choice, goto: .brewing)
                .guard("canAfford") { data, drink in data.credit >= Self.price(of: drink) }
                .action("charge") { data, drink in data.credit -= Self.price(of: drink) }
            On(cast: .cancel, goto: .idle).action("refund") { data in data.credit = 0 }
            On(.stateTimeout, goto: .idle).action("refund") { data in data.credit = 0 }
        }
        When(.brewing, timeout: .seconds(30)) {
            On(.stateTimeout, goto: .idle)
        }
        .onEnter("pumpOn") { data in data.log.append("pump on") }
        .onExit("pumpOff") { data in data.log.append("pump off") }
        When(.outOfOrder) {
            On(cast: .repaired, goto: .idle)
        }
        Always {
            On(call: "credit", match: { if case .credit(let reply) = $0 { reply } else { nil } },
               reply: { data in data.credit })
            On(cast: .fault, goto: .outOfOrder)
        }
    }

    // What the table can't say: a monitored grinder went down.
    func fallback(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        if case .down(_, let reason) = event {
            data.log.append("grinder down: \(reason)")
            return .goto(.outOfOrder)
        }
        return .keep
    }
}

/// The grinder the coffee machine monitors: a machine that only waits to be stopped.
struct Grinder: StateMachine {
    enum State: Hashable, Sendable { case running }
    func start() -> Start<Self> { .ok(.running, data: ()) }
    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
}

// MARK: Starting and variants

struct ResumableLight: TableMachine {
    enum State: Hashable, Sendable { case red, green }
    var savedState: State?

    func start() throws -> Start<Self> {
        if let savedState { return try startTable(in: savedState, data: ()) }
        return try startTable(data: ())
    }

    var table: TransitionTable<Self> {
        When(.red, timeout: .seconds(30)) { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(25)) { On(.stateTimeout, goto: .red) }
    }
}

struct ConfiguredLight: TableMachine {
    enum State: Hashable, Sendable { case red, green }
    var red: Duration

    var tableVariant: (any Hashable & Sendable)? { red }

    var table: TransitionTable<Self> {
        When(.red, timeout: red) { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(25)) { On(.stateTimeout, goto: .red) }
    }
}

// MARK: Validation

struct HalfFinishedDoor: TableMachine {
    enum State: Hashable, Sendable { case closed, open, locked }
    enum Cast: Hashable, Sendable, CaseIterable { case open, close, lock }

    var table: TransitionTable<Self> {
        When(.closed) { On(cast: .open, goto: .open) }
        When(.open, timeout: .seconds(10)) { On(cast: .close, goto: .closed) }
        When(.locked) {}
    }
}

@Suite struct TableDocTests {
    @Test func firstTableRunsInVirtualTime() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let light = try runtime.start(TrafficLightTable())
        clock.advance(by: .seconds(30))                          // red → green
        try light.cast(.walkButton)                              // green → yellow
        clock.advance(by: .seconds(5))                           // yellow → red
        #expect(try await light.getState().state == .red)
    }

    @Test func coffeeMachineUsesPayloadsGuardsRepliesEntryExitAlwaysAndFallback() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let coffee = try runtime.start(CoffeeMachine())

        try coffee.cast(.coinInserted(cents: 100))               // idle → paying
        try coffee.cast(.choose(.espresso))                      // canAfford fails: no row fires, stays
        try coffee.cast(.coinInserted(cents: 50))
        #expect(try await coffee.call { .credit($0) } == 150)
        try coffee.cast(.choose(.espresso))                      // paying → brewing, 30 left
        clock.advance(by: .seconds(30))                          // brewing → idle
        #expect(try await coffee.call { .credit($0) } == 30)
        #expect(try await coffee.getState().data.log == ["pump on", "pump off"])

        let grinder = try runtime.start(Grinder())
        _ = grinder.monitor(by: coffee)
        try await grinder.stop(.shutdown("jammed"))              // .down goes to the fallback
        #expect(try await coffee.getState().state == .outOfOrder)
        try coffee.cast(.repaired)
        #expect(try await coffee.getState().state == .idle)
    }

    @Test func resumableAndConfiguredLightsStartWhereAndHowTheySay() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let resumed = try runtime.start(ResumableLight(savedState: .green))
        let quick = try runtime.start(ConfiguredLight(red: .seconds(5)))
        let slow = try runtime.start(ConfiguredLight(red: .seconds(50)))
        clock.advance(by: .seconds(25))
        #expect(try await resumed.getState().state == .red)      // green's cell, armed at start
        #expect(try await quick.getState().state == .green)
        #expect(try await slow.getState().state == .red)
    }

    @Test func validationReportsEveryProblem() throws {
        let report = HalfFinishedDoor().validateTable()
        #expect(report.problems.map(\.kind) == [.unreachableState, .noWayOut, .unhandledTimeout, .unhandledEvent])
        #expect(report.problems.map(\.state) == [.locked, .locked, .open, nil])
        #expect(report.problems.map(\.event) == [nil, nil, "stateTimeout", "cast(lock)"])
        #expect("\(report)" == """
            HalfFinishedDoor's transition table has 4 problems:
            - unreachableState: state locked cannot be reached from the initial state closed
            - noWayOut: no row leaves state locked, and it is not declared Final
            - unhandledTimeout: state open has a 10s timeout but no row handles stateTimeout
            - unhandledEvent: no row in any state handles cast(lock)
            """)
    }

    @Test func startingAnInvalidTableThrows() {
        let runtime = Runtime(clock: ManualClock())
        var message = ""
        do {
            _ = try runtime.start(HalfFinishedDoor())
        } catch let error as StateServerError where error.code == .startFailed {
            if case .error(let cause as StateServerError)? = error.exitReason, cause.code == .invalidTable {
                message = cause.message                          // the report: every problem, one per line
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(message == HalfFinishedDoor().validateTable().description)
    }

    @Test func validTablesPassTheirCheck() throws {
        try TrafficLightTable().validateTable().check()
        try CoffeeMachine().validateTable().check()
    }

    @Test func diagramsOfTheGuide() {
        #expect(TrafficLightTable().table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> red
                red --> green : after 30s
                green --> yellow : after 25s
                green --> yellow : walkButton
                green --> red : emergency
                yellow --> red : after 5s
                yellow --> red : emergency

            """)
        #expect(CoffeeMachine().table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> idle
                idle --> paying : coinInserted / addCredit
                idle --> outOfOrder : fault
                paying --> brewing : choose [canAfford] / charge
                paying --> idle : cancel / refund
                paying --> idle : after 60s / refund
                paying --> outOfOrder : fault
                brewing --> idle : after 30s
                brewing --> outOfOrder : fault
                outOfOrder --> idle : repaired

            """)
        #expect(TrafficLightTable().table.dotDiagram() == """
            digraph "TrafficLightTable" {
                rankdir=LR;
                "__start" [shape=point];
                "red";
                "green";
                "yellow";
                "__start" -> "red";
                "red" -> "green" [label="after 30s"];
                "green" -> "yellow" [label="after 25s"];
                "green" -> "yellow" [label="walkButton"];
                "green" -> "red" [label="emergency"];
                "yellow" -> "red" [label="after 5s"];
                "yellow" -> "red" [label="emergency"];
            }

            """)
    }
}
