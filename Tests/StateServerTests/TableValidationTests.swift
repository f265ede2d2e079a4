import Testing
import StateServer

// Validation of transition tables: every problem at once, with the state and event named, and the typed error
// an invalid table gives at start.

/// One table with each of the six problem kinds of DESIGN §8 exactly once.
struct TableBroken: TableMachine {
    enum State: Hashable, Sendable { case idle, running, stuck, orphan, limbo, done }
    enum Cast: Hashable, Sendable, CaseIterable { case start, stop, poke, forgotten }

    var table: TransitionTable<Self> {
        When(.idle) {
            On(cast: .start, goto: .running)
            On(cast: .start, goto: .stuck)                  // clashes with the row above
        }
        When(.running, timeout: .seconds(5)) {             // a timeout cell with no stateTimeout row
            On(cast: .stop, goto: .done)
            On(cast: .poke, goto: .limbo)                   // limbo has no When block
        }
        When(.stuck) { On(cast: .poke) }                    // no way out, not final
        When(.orphan) { On(cast: .stop, goto: .done) }      // nothing leads here
        Final(.done)
        // .forgotten is handled nowhere
    }
}

/// A table whose events are not `CaseIterable`, with guarded rows and an unguarded "otherwise" row last.
struct TableGuardedRows: TableMachine {
    enum State: Hashable, Sendable { case open, closed }
    enum Cast: Hashable, Sendable { case toggle, neverMentioned }
    struct Data: Sendable { var isJammed = false }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.open) {
            On(cast: .toggle).guard("jammed") { $0.isJammed }
            On(cast: .toggle, goto: .closed)
        }
        When(.closed) {
            On(cast: .toggle, goto: .open).guard("free") { !$0.isJammed }
            On(cast: .toggle).guard("free") { !$0.isJammed }           // same guard name: a clash
        }
    }
}

@Suite struct TableValidationTests {
    /// `(kind, state, event)` of each problem, in report order.
    private func summary<M>(_ report: ValidationReport<M>) -> [String] {
        report.problems.map { "\($0.kind) \($0.state.map { "\($0)" } ?? "-") \($0.event ?? "-")" }
    }

    @Test func validTablesHaveNoProblems() {
        #expect(TableLight().validateTable().isValid)
        #expect(TableTurnstile().validateTable().isValid)
        #expect(TableDoor().validateTable().isValid)
        #expect(TableModes().validateTable().isValid)
        #expect(TableSession().validateTable().isValid)
        #expect("\(TableLight().validateTable())" == "TableLight's transition table is valid")
    }

    @Test func anInvalidTableProducesEveryExpectedProblemInOneReport() {
        let report = TableBroken().validateTable()
        #expect(summary(report) == [
            "undeclaredState limbo cast(poke)",
            "unreachableState orphan -",
            "noWayOut stuck -",
            "unhandledTimeout running stateTimeout",
            "clashingRows idle cast(start)",
            "unhandledEvent - cast(forgotten)",
        ])
        #expect(report.description == """
            TableBroken's transition table has 6 problems:
            - undeclaredState: state running goes to limbo on cast(poke), but limbo has no When block
            - unreachableState: state orphan cannot be reached from the initial state idle
            - noWayOut: no row leaves state stuck, and it is not declared Final
            - unhandledTimeout: state running has a 5s timeout but no row handles stateTimeout
            - clashingRows: in state idle, an earlier row for cast(start) has no guard, so a later one can never fire
            - unhandledEvent: no row in any state handles cast(forgotten)
            """)
    }

    @Test func startingAnInvalidTableFailsWithATypedErrorListingEveryProblem() throws {
        let (runtime, _) = tableVirtualRuntime()
        do {
            _ = try runtime.start(TableBroken())
            Issue.record("an invalid table started")
        } catch {
            let inner = try #require(tableInvalidTableError(error))
            #expect(inner.message == TableBroken().validateTable().description)
        }
    }

    @Test func checkThrowsInvalidTableWithTheReport() {
        #expect(throws: StateServerError.self) { try TableBroken().validateTable().check() }
        do {
            try TableBroken().validateTable().check()
        } catch {
            #expect(error.code == .invalidTable)
            #expect(error.message.hasPrefix("TableBroken's transition table has 6 problems"))
        }
        #expect(throws: Never.self) { try TableLight().validateTable().check() }
    }

    @Test func guardsTellRowsApartAndAnUnguardedRowMayComeLast() {
        // `open` is fine (guarded, then otherwise); `closed` repeats a guard name. `neverMentioned` is not
        // reported: the event type is not CaseIterable, so only events named in rows are known.
        #expect(summary(TableGuardedRows().validateTable()) == ["clashingRows closed cast(toggle)"])
        #expect(TableGuardedRows().validateTable().problems.first?.message
            == "in state closed, two rows for cast(toggle) have the same guard [free]")
    }

    @Test func tableLevelProblemsAreReportedToo() {
        enum Phase: Hashable, Sendable { case a, b, c }
        struct Phases: StateMachine {
            typealias State = Phase
            enum Cast: Hashable, Sendable { case next }
            func start() -> Start<Self> { .ok(.a, data: ()) }
            func handle(_ event: Event<Self>, in state: Phase, data: inout Void) -> Transition<Self> { .keep }
        }
        let empty = TransitionTable<Phases> {}
        #expect(summary(empty.validate()) == ["undeclaredState - -"])

        let doubled = TransitionTable<Phases> {
            Initial(.c)
            Initial(.a)
            When(.a) { On(cast: .next, goto: .b) }
            When(.b) { On(cast: .next, goto: .a) }
            When(.a) { On(cast: .next, goto: .b) }
            Always { On(cast: .next, goto: .b); On(cast: .next, goto: .a) }
        }
        // a and b are reachable: Always rows lead out of every state, the undeclared initial state included.
        #expect(summary(doubled.validate()) == [
            "duplicateDeclaration a -",
            "duplicateDeclaration - -",
            "undeclaredState c -",
            "clashingRows - cast(next)",
        ])
        #expect(doubled.initialState == .c)
        #expect(doubled.states == [.a, .b])
    }

    @Test func callInfoAndTimerTypesThatAreCaseIterableAreCheckedForCoverage() {
        struct Probe: StateMachine {
            enum State: Hashable, Sendable { case only }
            enum Info: Hashable, Sendable, CaseIterable { case seen, unseen }
            enum Timer: Hashable, Sendable, CaseIterable { case handled, dropped }
            func start() -> Start<Self> { .ok(.only, data: ()) }
            func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
        }
        let table = TransitionTable<Probe> {
            When(.only) {
                On(info: .seen).stop()
                On(timeout: .handled)
            }
        }
        #expect(summary(table.validate()) == ["unhandledEvent - info(unseen)", "unhandledEvent - timeout(dropped)"])
    }

    @Test func toFallbackRowsCountAsHandledAndAsAWayOut() {
        struct Delegating: StateMachine {
            enum State: Hashable, Sendable { case start, end }
            enum Cast: Hashable, Sendable, CaseIterable { case go, custom }
            func start() -> Start<Self> { .ok(.start, data: ()) }
            func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> { .keep }
        }
        let table = TransitionTable<Delegating> {
            When(.start, timeout: .seconds(1)) {
                On(cast: .go, goto: .end)
                On(.stateTimeout).toFallback()
            }
            When(.end) { On(cast: .custom).toFallback() }
        }
        #expect(table.validate().isValid, "\(table.validate())")
    }
}
