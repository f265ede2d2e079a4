import Testing
import StateServer

// Mermaid and Graphviz DOT output of a table, checked exactly (table order makes it deterministic).

/// A small kiosk: a timeout cell, a payload row with a guard and a named action, Always rows (one overridden),
/// a row that stays, a stop row and a final state.
struct TableKiosk: TableMachine {
    enum State: Hashable, Sendable { case idle, paying, printing, closed }
    enum Cast: Hashable, Sendable { case select, coinInserted(cents: Int), cancel, shutdown, ping }
    struct Data: Sendable { var credit = 0 }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.idle) {
            On(cast: .select, goto: .paying)
            On(cast: .ping)
        }
        When(.paying, timeout: .seconds(30)) {
            On(cast: "coinInserted", match: { if case .coinInserted(let cents) = $0 { cents } else { nil } },
               goto: .printing)
                .guard("paid") { data, cents in data.credit + cents >= 200 }
                .action("charge") { data, cents in data.credit += cents - 200 }
            On(.stateTimeout, goto: .idle)
            On(cast: .cancel, goto: .idle).action("refund") { $0.credit = 0 }
        }
        When(.printing, timeout: .milliseconds(1500)) {
            On(.stateTimeout, goto: .idle)
            On(cast: .cancel)
        }
        When(.closed) { On(cast: .shutdown).stop() }
        Final(.closed)
        Always {
            On(cast: .cancel, goto: .idle)
            On(cast: .shutdown, goto: .closed)
        }
    }
}

@Suite struct TableDiagramTests {
    @Test func mermaidDiagramDrawsRowsTimeoutsGuardsAlwaysRowsAndEnds() {
        #expect(TableKiosk().validateTable().isValid)
        #expect(TableKiosk().table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> idle
                idle --> paying : select
                idle --> closed : shutdown
                paying --> printing : coinInserted [paid] / charge
                paying --> idle : after 30s
                paying --> idle : cancel / refund
                paying --> closed : shutdown
                printing --> idle : after 1.5s
                printing --> closed : shutdown
                closed --> [*] : shutdown
                closed --> idle : cancel
                closed --> [*]

            """)
    }

    @Test func dotDiagramDrawsTheSameEdges() {
        #expect(TableKiosk().table.dotDiagram() == """
            digraph "TableKiosk" {
                rankdir=LR;
                "__start" [shape=point];
                "__end" [shape=doublecircle, label="", width=0.15];
                "idle";
                "paying";
                "printing";
                "closed";
                "__start" -> "idle";
                "idle" -> "paying" [label="select"];
                "idle" -> "closed" [label="shutdown"];
                "paying" -> "printing" [label="coinInserted [paid] / charge"];
                "paying" -> "idle" [label="after 30s"];
                "paying" -> "idle" [label="cancel / refund"];
                "paying" -> "closed" [label="shutdown"];
                "printing" -> "idle" [label="after 1.5s"];
                "printing" -> "closed" [label="shutdown"];
                "closed" -> "__end" [label="shutdown"];
                "closed" -> "idle" [label="cancel"];
                "closed" -> "__end";
            }

            """)
    }

    @Test func trafficLightDiagramsMatchTheDesign() {
        #expect(TableLight().table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> red
                red --> green : after 30s
                green --> yellow : after 25s
                green --> yellow : walkButton
                green --> red : emergency
                yellow --> red : after 5s
                yellow --> red : emergency

            """)
        #expect(TableLight().table.dotDiagram(named: "light") == """
            digraph "light" {
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

    @Test func statesThatAreNotIdentifiersGetDeclaredIdentifiersAndQuotedNames() {
        struct Elevator: StateMachine {
            enum State: Hashable, Sendable { case floor(Int) }
            enum Cast: Hashable, Sendable { case up, down }
            func start() -> Start<Self> { .ok(.floor(0), data: ()) }
            func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
        }
        let table = TransitionTable<Elevator> {
            When(.floor(0)) { On(cast: .up, goto: .floor(1)) }
            When(.floor(1)) { On(cast: .down, goto: .floor(0)) }
        }
        #expect(table.mermaidDiagram() == """
            stateDiagram-v2
                state "floor(0)" as floor_0_
                state "floor(1)" as floor_1_
                [*] --> floor_0_
                floor_0_ --> floor_1_ : up
                floor_1_ --> floor_0_ : down

            """)
        #expect(table.dotDiagram(named: "say \"hi\"").hasPrefix("digraph \"say \\\"hi\\\"\" {"))
    }
}
