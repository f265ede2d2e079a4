import Synchronization
import Testing
import StateServer

// Table machines running on the runtime: timeout cells, payload rows, guards, replies, entry and exit actions,
// Always rows, the fallback, stop rows, and how the compiled table is cached.

// MARK: Machines

/// A turnstile that sells passes: payload rows, guards choosing between rows, replies to calls.
struct TableTurnstile: TableMachine {
    enum State: Hashable, Sendable { case locked, unlocked }
    enum Cast: Hashable, Sendable { case coinInserted(cents: Int), push }
    enum Call: Sendable {
        case credit(Reply<Int>)
        case withdraw(cents: Int, Reply<Bool>)
    }
    struct Data: Sendable, Equatable {
        var credit = 0
        var passes = 0
        var rejectedPushes = 0
    }

    static let fare = 100
    static let coin: @Sendable (Cast) -> Int? = { if case .coinInserted(let cents) = $0 { cents } else { nil } }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.locked) {
            On(cast: "coinInserted", match: Self.coin, goto: .unlocked)
                .guard("paysFare") { data, cents in data.credit + cents >= Self.fare }
                .action("buyPass") { data, cents in data.credit += cents - Self.fare }
            On(cast: "coinInserted", match: Self.coin)
                .action("addCredit") { data, cents in data.credit += cents }
            On(cast: .push)
                .action("reject") { data in data.rejectedPushes += 1 }
        }
        When(.unlocked) {
            On(cast: .push, goto: .locked)
                .action("pass") { data in data.passes += 1 }
            On(cast: "coinInserted", match: Self.coin)
                .action("addCredit") { data, cents in data.credit += cents }
        }
        Always {
            On(call: "credit", match: { if case .credit(let reply) = $0 { reply } else { nil } }, reply: { data in data.credit })
            On(call: "withdraw", match: { if case .withdraw(let cents, let reply) = $0 { (cents, reply) } else { nil } },
               reply: { data, cents in data.credit -= cents; return true })
                .guard("hasCredit") { data, cents in data.credit >= cents }
            On(call: "withdraw", match: { if case .withdraw(let cents, let reply) = $0 { (cents, reply) } else { nil } },
               reply: { _, _ in false })
        }
    }
}

/// A door that logs its entry, exit and row actions in order.
struct TableDoor: TableMachine {
    enum State: Hashable, Sendable { case closed, open, locked }
    enum Cast: Hashable, Sendable { case open, close, lock, unlock, knock }
    struct Data: Sendable { var log: [String] = [] }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.closed) {
            On(cast: .open, goto: .open).action("swing") { $0.log.append("action swing") }
            On(cast: .lock, goto: .locked)
            On(cast: .knock, goto: .closed).action { $0.log.append("action knock") }
        }
        .onEnter { $0.log.append("enter closed") }
        .onExit { $0.log.append("exit closed") }

        When(.open, timeout: .seconds(10)) {
            On(cast: .close, goto: .closed).action { $0.log.append("action close") }
            On(.stateTimeout, goto: .closed).action { $0.log.append("action autoClose") }
        }
        .onEnter { $0.log.append("enter open") }
        .onExit { $0.log.append("exit open") }

        When(.locked) { On(cast: .unlock, goto: .closed) }
            .onEnter("bolt") { data in
                data.log.append("enter locked")
                return [.report("bolted")]
            }
    }
}

/// Always rows, a state overriding one, rows handed to the fallback, and a fallback that computes its target.
struct TableModes: TableMachine {
    enum State: Hashable, Sendable { case idle, busy, maintenance }
    enum Cast: Hashable, Sendable { case work, done, reset, service, pingTwice }
    enum Info: Hashable, Sendable { case goTo(State), ping }
    struct Data: Sendable {
        var log: [String] = []
        var resets = 0
        var pings = 0
    }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.idle) { On(cast: .work, goto: .busy) }
            .onExit { $0.log.append("exit idle") }
        When(.busy) {
            On(cast: .done, goto: .idle)
            On(cast: .reset).action { $0.log.append("busy ignores reset") }
            On(cast: .service).toFallback()
        }
        When(.maintenance) { On(cast: .done, goto: .idle) }
            .onEnter { $0.log.append("enter maintenance") }
        Always {
            On(cast: .reset, goto: .idle).action { $0.resets += 1 }
            On(cast: .service, goto: .maintenance)
            On(cast: .pingTwice).action { _ in [.next(.ping), .next(.ping)] }
            On(info: .ping).action { $0.pings += 1 }
        }
    }

    func fallback(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch event {
        case .info(.goTo(let target)):
            data.log.append("fallback goTo \(target)")
            return .goto(target)
        case .cast(.service):
            data.log.append("fallback service in \(state)")
            return .keep
        default:
            return .keep
        }
    }
}

/// A state whose timeout cell must be cancelled when an event leaves it early.
struct TableCountdown: TableMachine {
    enum State: Hashable, Sendable { case waiting, left, timedOut }
    enum Cast: Hashable, Sendable { case leave, back }

    var table: TransitionTable<Self> {
        When(.waiting, timeout: .seconds(30)) {
            On(.stateTimeout, goto: .timedOut)
            On(cast: .leave, goto: .left)
        }
        When(.left) { On(cast: .back, goto: .waiting) }
        When(.timedOut) { On(cast: .back, goto: .waiting) }
    }
}

/// Rows that stop the server, one of them replying first.
struct TableSession: TableMachine {
    enum State: Hashable, Sendable { case active }
    enum Call: Sendable { case close(Reply<String>) }
    enum Cast: Hashable, Sendable { case touch, kill }
    struct Data: Sendable { var touches = 0 }

    func initialData() -> Data { Data() }

    var table: TransitionTable<Self> {
        When(.active) {
            On(cast: .touch).action { $0.touches += 1 }
            On(call: "close", match: { if case .close(let reply) = $0 { reply } else { nil } },
               reply: { data in "bye after \(data.touches) touches" })
                .stop()
            On(cast: .kill).stop(.shutdown("killed"))
        }
    }
}

/// Counts how often its table is built.
struct TableCountedBuilds: TableMachine {
    enum State: Hashable, Sendable { case ping, pong }
    enum Cast: Hashable, Sendable { case hit }

    static let builds = Locked(0)

    static func counted(_ state: State) -> State {
        builds.withLock { $0 += 1 }
        return state
    }

    var table: TransitionTable<Self> {
        When(Self.counted(.ping)) { On(cast: .hit, goto: .pong) }
        When(.pong) { On(cast: .hit, goto: .ping) }
    }
}

/// A light whose red phase comes from a stored property, without declaring a table variant.
struct TableUndeclaredVariantLight: TableMachine {
    enum State: Hashable, Sendable { case red, green }
    var red: Duration

    var table: TransitionTable<Self> {
        When(.red, timeout: red) { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(1)) { On(.stateTimeout, goto: .red) }
    }
}

/// The same light, declaring its red phase as the table variant.
struct TableVariantLight: TableMachine {
    enum State: Hashable, Sendable { case red, green }
    var red: Duration

    var tableVariant: (any Hashable & Sendable)? { red }

    var table: TransitionTable<Self> {
        When(.red, timeout: red) { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(100)) { On(.stateTimeout, goto: .red) }
    }
}

/// A light that resumes in a given state, through a custom `start` ending in `startTable`.
struct TableResumedLight: TableMachine {
    enum State: Hashable, Sendable { case red, green, yellow }
    var resumeIn: State?

    func start() throws -> Start<Self> { try startTable(in: resumeIn, data: ()) }

    var table: TransitionTable<Self> {
        When(.red, timeout: .seconds(30))   { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(25)) { On(.stateTimeout, goto: .yellow) }
        When(.yellow, timeout: .seconds(5)) { On(.stateTimeout, goto: .red) }
    }
}

// MARK: Tests

@Suite struct TableRuntimeTests {
    @Test func trafficLightTableCyclesThroughItsTimeoutCells() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let trace = TableTrace<TableLight>()
        let light = try runtime.start(TableLight(), options: trace.options)
        #expect(try await tableState(of: light) == .red)

        clock.advance(by: .seconds(180))   // three full 60 s cycles
        #expect(trace.transitions == [
            "30s red→green", "55s green→yellow", "60s yellow→red",
            "90s red→green", "115s green→yellow", "120s yellow→red",
            "150s red→green", "175s green→yellow", "180s yellow→red",
        ])
        #expect(try await tableState(of: light) == .red)
        #expect(clock.nextDeadline == clock.now + .seconds(30))
    }

    @Test func walkButtonEndsGreenEarlyAndIsIgnoredInOtherStates() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let trace = TableTrace<TableLight>()
        let light = try runtime.start(TableLight(), options: trace.options)
        try light.cast(.walkButton)                       // red has no row for it: kept, timer untouched
        clock.advance(by: .seconds(40))                   // green since 30 s
        try light.cast(.walkButton)                       // green → yellow at 40 s
        clock.advance(by: .seconds(5))                    // yellow's own 5 s cell
        #expect(trace.transitions == ["30s red→green", "40s green→yellow", "45s yellow→red"])
    }

    @Test func alwaysRowFiresInEveryStateAndAGotoToTheCurrentStateKeepsItsTimeoutCell() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let trace = TableTrace<TableLight>()
        let light = try runtime.start(TableLight(), options: trace.options)
        clock.advance(by: .seconds(10))
        try light.cast(.emergency)                        // red → red: not a state change
        clock.advance(by: .seconds(20))                   // the red cell armed at 0 s fires at 30 s
        try light.cast(.emergency)                        // green → red at 30 s
        clock.advance(by: .seconds(29))
        #expect(try await tableState(of: light) == .red)
        clock.advance(by: .seconds(1))                    // red's cell re-armed on entry at 30 s
        #expect(trace.transitions == ["30s red→green", "30s green→red", "60s red→green"])
    }

    @Test func stateTimeoutCellIsCancelledWhenAnEventLeavesTheStateEarly() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let trace = TableTrace<TableCountdown>()
        let countdown = try runtime.start(TableCountdown(), options: trace.options)
        #expect(clock.armedTimerCount == 1)

        clock.advance(by: .seconds(10))
        try countdown.cast(.leave)
        #expect(clock.armedTimerCount == 0)
        clock.advance(by: .seconds(90))                   // far past the old 30 s deadline
        #expect(try await tableState(of: countdown) == .left)
        #expect(trace.stateTimeoutsHandled == 0)

        try countdown.cast(.back)                         // re-entry arms a fresh 30 s cell at 100 s
        clock.advance(by: .seconds(29))
        #expect(try await tableState(of: countdown) == .waiting)
        clock.advance(by: .seconds(1))
        #expect(trace.transitions == ["10s waiting→left", "100s left→waiting", "130s waiting→timedOut"])
    }

    @Test func payloadRowsPassThePayloadAndGuardsChooseBetweenRows() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let turnstile = try runtime.start(TableTurnstile())
        try turnstile.cast(.coinInserted(cents: 50))      // paysFare fails: the unguarded row adds credit
        #expect(try await tableState(of: turnstile) == .locked)
        #expect(try await tableData(of: turnstile).credit == 50)

        try turnstile.cast(.coinInserted(cents: 70))      // 120 ≥ 100: buys a pass, 20 left
        #expect(try await tableState(of: turnstile) == .unlocked)
        try turnstile.cast(.coinInserted(cents: 5))       // unlocked adds credit
        try turnstile.cast(.push)
        try turnstile.cast(.push)                         // locked again: rejected
        #expect(try await tableState(of: turnstile) == .locked)
        #expect(try await tableData(of: turnstile) == TableTurnstile.Data(credit: 25, passes: 1, rejectedPushes: 1))
    }

    @Test func callRowsReplyWithTheValueComputedAfterTheRowsActions() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let turnstile = try runtime.start(TableTurnstile())
        try turnstile.cast(.coinInserted(cents: 80))
        #expect(try await turnstile.call { .credit($0) } == 80)
        #expect(try await turnstile.call { .withdraw(cents: 30, $0) } == true)
        #expect(try await turnstile.call { .withdraw(cents: 60, $0) } == false)   // guard fails: the other row
        #expect(try await turnstile.call { .credit($0) } == 50)
    }

    @Test func exitRowAndEntryActionsRunInOrderOnlyOnStateChanges() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let trace = TableTrace<TableDoor>()
        let door = try runtime.start(TableDoor(), options: trace.options)
        #expect(try await tableData(of: door).log == ["enter closed"])        // the initial state's entry

        try door.cast(.knock)                                                 // goto closed from closed
        try door.cast(.open)
        clock.advance(by: .seconds(10))                                       // open's cell closes it
        try door.cast(.lock)
        #expect(try await tableData(of: door).log == [
            "enter closed",
            "action knock",
            "exit closed", "action swing", "enter open",
            "exit open", "action autoClose", "enter closed",
            "exit closed", "enter locked",
        ])
        #expect(trace.reports == ["bolted"])                                  // an entry action's returned action
    }

    @Test func alwaysRowsApplyUnlessTheStateHasItsOwnRow() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let modes = try runtime.start(TableModes())
        try modes.cast(.reset)                            // idle → idle by Always: the action still runs
        try modes.cast(.work)
        try modes.cast(.reset)                            // busy's own row wins over Always
        #expect(try await tableState(of: modes) == .busy)
        try modes.cast(.done)
        try modes.cast(.service)                          // Always: idle → maintenance
        #expect(try await tableState(of: modes) == .maintenance)
        try modes.cast(.reset)                            // Always: maintenance → idle
        let data = try await tableData(of: modes)
        #expect(try await tableState(of: modes) == .idle)
        #expect(data.resets == 2)
        #expect(data.log == ["exit idle", "busy ignores reset", "exit idle", "enter maintenance"])
    }

    @Test func infoRowsMatchInternalEventsToo() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let modes = try runtime.start(TableModes())
        try modes.cast(.pingTwice)                        // inserts two internal .ping events
        try modes.send(.ping)
        #expect(try await tableData(of: modes).pings == 3)
    }

    @Test func unmatchedEventsAndToFallbackRowsGoToTheFallback() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let modes = try runtime.start(TableModes())
        try modes.cast(.work)
        try modes.cast(.service)                          // busy hands service to the fallback: stays busy
        #expect(try await tableState(of: modes) == .busy)
        try modes.cast(.done)
        try modes.send(.goTo(.maintenance))               // no row: the fallback computes the target
        #expect(try await tableState(of: modes) == .maintenance)
        // The fallback's own effects, then the exit of idle and the entry of maintenance.
        #expect(try await tableData(of: modes).log == [
            "exit idle", "fallback service in busy", "fallback goTo maintenance", "exit idle", "enter maintenance",
        ])
    }

    @Test func unmatchedEventKeepsStateAndTimeoutCellByDefault() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let countdown = try runtime.start(TableCountdown())
        clock.advance(by: .seconds(10))
        try countdown.cast(.back)                          // no row in waiting: default fallback keeps
        clock.advance(by: .seconds(20))
        #expect(try await tableState(of: countdown) == .timedOut)
    }

    @Test func stopRowsSendTheirReplyThenStop() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let session = try runtime.start(TableSession())
        try session.cast(.touch)
        try session.cast(.touch)
        #expect(try await session.call { .close($0) } == "bye after 2 touches")
        #expect(try await session.waitForExit().isNormal)

        let killed = try runtime.start(TableSession())
        try killed.cast(.kill)
        #expect("\(try await killed.waitForExit())" == "shutdown(killed)")
    }

    @Test func tableIsBuiltOnceForEveryServerAndEventOfItsType() async throws {
        let (runtime, _) = tableVirtualRuntime()
        let servers = try (0..<3).map { _ in try runtime.start(TableCountedBuilds()) }
        for _ in 0..<100 { for server in servers { try server.cast(.hit) } }
        #expect(try await tableState(of: servers[0]) == .ping)
        #expect(TableCountedBuilds.builds.withLock { $0 } == 1)
    }

    @Test func tableDependingOnPropertiesWithoutVariantFailsToStartWithTheFix() throws {
        let (runtime, _) = tableVirtualRuntime()
        _ = try runtime.start(TableUndeclaredVariantLight(red: .seconds(10)))
        _ = try runtime.start(TableUndeclaredVariantLight(red: .seconds(10)))   // same shape: fine
        do {
            _ = try runtime.start(TableUndeclaredVariantLight(red: .seconds(20)))
            Issue.record("a table that differs from the compiled one started")
        } catch {
            let inner = try #require(tableInvalidTableError(error))
            #expect(inner.message.contains("tableVariant"))
            #expect(inner.message.contains("state red: timeout 10s vs 20s"))
        }
    }

    @Test func tableVariantCompilesOneTablePerVariant() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let short = try runtime.start(TableVariantLight(red: .seconds(10)))
        let long = try runtime.start(TableVariantLight(red: .seconds(20)))
        clock.advance(by: .seconds(10))
        #expect(try await tableState(of: short) == .green)
        #expect(try await tableState(of: long) == .red)
        clock.advance(by: .seconds(10))
        #expect(try await tableState(of: long) == .green)
    }

    @Test func customStartThroughStartTableEntersTheGivenStateWithItsCell() async throws {
        let (runtime, clock) = tableVirtualRuntime()
        let resumed = try runtime.start(TableResumedLight(resumeIn: .yellow))
        #expect(try await tableState(of: resumed) == .yellow)
        clock.advance(by: .seconds(5))
        #expect(try await tableState(of: resumed) == .red)

        let fresh = try runtime.start(TableResumedLight(resumeIn: nil))       // the table's initial state
        #expect(try await tableState(of: fresh) == .red)
    }

    @Test func tableMachineRunsUnchangedOnTheSharedRuntime() async throws {
        let turnstile = try Runtime.shared.start(TableTurnstile())
        try turnstile.cast(.coinInserted(cents: 150))
        #expect(try await turnstile.call { .credit($0) } == 50)
        try await turnstile.stop()
    }
}
