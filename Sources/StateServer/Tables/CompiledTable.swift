/// A ``TransitionTable`` ready to interpret: rows indexed by state and event kind, the validation report, and the
/// table's shape (to detect tables that depend on the machine's properties).
///
/// Built once per machine type and variant by ``TableCache``; immutable and shared by every server of the type.
///
/// The interpreting path is `@inlinable` so that it is specialized for each machine type in the module that
/// defines the machine: unspecialized, its generic metadata lookups cost about 2 µs per event; specialized, it
/// costs a small multiple of a handwritten `switch` (measured with a traffic light, release build).
@usableFromInline
final class CompiledTable<M: TableMachine>: Sendable {
    /// What the interpreter needs about one state (a class, so looking it up copies a reference).
    @usableFromInline
    final class StateEntry: Sendable {
        @usableFromInline let state: M.State?
        /// Per ``TableEventKind``: the state's own rows, then the ``Always`` rows, in table order.
        @usableFromInline let rows: [[TableRow<M>]]
        @usableFromInline let entryEffects: [TableEffect<M>]
        @usableFromInline let exitEffects: [TableEffect<M>]
        /// The state's timeout cell.
        @usableFromInline let timeout: (duration: Duration, content: M.Timeout)?

        init(
            _ state: M.State?, rows: [TableRow<M>], entry: [TableEffect<M>], exit: [TableEffect<M>],
            timeout: (duration: Duration, content: M.Timeout)?
        ) {
            var buckets = Array(repeating: [TableRow<M>](), count: TableEventKind.allCases.count)
            for row in rows { buckets[row.kind.rawValue].append(row) }
            self.state = state
            self.rows = buckets
            self.entryEffects = entry
            self.exitEffects = exit
            self.timeout = timeout
        }
    }

    /// The entries of the declared states, in table order; scanned when there are few.
    @usableFromInline let stateEntries: [StateEntry]
    /// The same entries by state, for tables with many states.
    @usableFromInline let index: [M.State: StateEntry]
    /// For a state with no `When` block: the ``Always`` rows only.
    @usableFromInline let alwaysEntry: StateEntry
    let initialState: M.State?
    let report: ValidationReport<M>
    let shape: TableShape<M>

    /// Up to this many states, a linear scan with `==` beats hashing the state.
    @usableFromInline static var scanLimit: Int { 8 }

    @usableFromInline
    init(_ table: TransitionTable<M>) {
        var entries: [StateEntry] = []
        var index: [M.State: StateEntry] = [:]
        for block in table.blocks where index[block.state] == nil {   // a second block is a validation problem
            let entry = StateEntry(
                block.state, rows: block.rows + table.alwaysRows, entry: block.entryEffects,
                exit: block.exitEffects, timeout: block.timeout)
            entries.append(entry)
            index[block.state] = entry
        }
        stateEntries = entries
        self.index = index
        alwaysEntry = StateEntry(nil, rows: table.alwaysRows, entry: [], exit: [], timeout: nil)
        initialState = table.initialState
        report = table.validate()
        shape = TableShape(table)
    }

    // MARK: Interpreting

    /// The entry of `state`, or `nil` when it has no `When` block.
    @inlinable
    func entry(of state: M.State) -> StateEntry? {
        guard stateEntries.count <= Self.scanLimit else { return index[state] }
        for entry in stateEntries where entry.state == state { return entry }
        return nil
    }

    /// Handles one event: the first row that fires, else the fallback.
    @inlinable
    func handle(_ event: Event<M>, in state: M.State, data: inout M.Data, machine: M) throws -> Transition<M> {
        let entry = entry(of: state) ?? alwaysEntry
        if let kind = TableEventKind(event) {
            for row in entry.rows[kind.rawValue] where row.fires(event, data) {
                return try fire(row, event, in: state, entry: entry, data: &data, machine: machine)
            }
        }
        return try fallback(event, in: state, entry: entry, data: &data, machine: machine)
    }

    @inlinable
    func fire(
        _ row: TableRow<M>, _ event: Event<M>, in state: M.State, entry: StateEntry, data: inout M.Data,
        machine: M
    ) throws -> Transition<M> {
        var actions: [Action<M>] = []
        switch row.target {
        case .fallback:
            return try fallback(event, in: state, entry: entry, data: &data, machine: machine)
        case .goto(let target) where target != state:
            for effect in entry.exitEffects { try effect.body(&data, &actions) }
            try row.perform?(event, &data, &actions)
            try enter(target, data: &data, into: &actions)
            return Transition(.next(target), actions)
        case .keep, .goto:
            try row.perform?(event, &data, &actions)
            return Transition(.keep, actions)
        case .stop(let reason):
            try row.perform?(event, &data, &actions)
            let replies = actions.filter { if case .reply = $0.kind { true } else { false } }
            return Transition(.stopAndReply(reason, replies), [])
        }
    }

    /// The machine's fallback, with exit, entry and timeout cell added when it changes state.
    @inlinable
    func fallback(
        _ event: Event<M>, in state: M.State, entry: StateEntry, data: inout M.Data, machine: M
    ) throws -> Transition<M> {
        let transition = try machine.fallback(event, in: state, data: &data)
        guard case .next(let target) = transition.target, target != state else { return transition }
        var actions: [Action<M>] = []
        for effect in entry.exitEffects { try effect.body(&data, &actions) }
        actions += transition.actions
        try enter(target, data: &data, into: &actions)
        return Transition(.next(target), actions)
    }

    /// Runs `state`'s entry actions and appends the action arming its timeout cell.
    @inlinable
    func enter(_ state: M.State, data: inout M.Data, into actions: inout [Action<M>]) throws {
        guard let entry = entry(of: state) else { return }
        for effect in entry.entryEffects { try effect.body(&data, &actions) }
        if let timeout = entry.timeout {
            actions.append(Action(.timeout(.set(.after(timeout.duration), timeout.content), .state)))
        }
    }

    /// The actions of entering `state` at start: its entry actions, then its timeout cell.
    func enter(_ state: M.State, data: inout M.Data) throws -> [Action<M>] {
        var actions: [Action<M>] = []
        try enter(state, data: &data, into: &actions)
        return actions
    }

    // MARK: Starting

    /// Why a server of `machine` must not start: an invalid table, or a table that differs from the compiled one
    /// (it depends on the machine's properties, which ``TableMachine/tableVariant`` does not name).
    func startError(for machine: M) -> StateServerError? {
        if !report.isValid { return StateServerError(.invalidTable, report.description) }
        // A machine without stored properties always builds the same table; skip rebuilding it.
        guard MemoryLayout<M>.size > 0 else { return nil }
        let fresh = TableShape(machine.table)
        guard fresh != shape else { return nil }
        return StateServerError(
            .invalidTable,
            "\(M.self)'s table differs from the one compiled for an earlier \(M.self) value "
                + "(\(shape.firstDifference(from: fresh))): the table depends on the machine's stored properties; "
                + "return them from `tableVariant` so each variant is compiled on its own")
    }
}

/// The comparable skeleton of a table: states, timeouts, events, guards and targets (closures left out).
struct TableShape<M: StateMachine>: Equatable, Sendable {
    struct Row: Equatable, Sendable {
        var event: String
        var guardName: String?
        var target: TableTargetShape<M.State>
    }

    struct Block: Equatable, Sendable {
        var state: M.State
        var timeout: Duration?
        var rows: [Row]
    }

    var blocks: [Block]
    var alwaysRows: [Row]
    var initialState: M.State?
    var finalStates: [M.State]

    init(_ table: TransitionTable<M>) {
        func shape(_ row: TableRow<M>) -> Row {
            Row(event: row.eventDescription, guardName: row.guardName, target: row.target.shape)
        }
        blocks = table.blocks.map { Block(state: $0.state, timeout: $0.timeout?.duration, rows: $0.rows.map(shape)) }
        alwaysRows = table.alwaysRows.map(shape)
        initialState = table.initialState
        finalStates = table.finalDeclarations
    }

    /// A short description of the first difference, for the error message.
    func firstDifference(from other: TableShape) -> String {
        if initialState != other.initialState {
            return "initial state \(describe(initialState)) vs \(describe(other.initialState))"
        }
        for (mine, theirs) in zip(blocks, other.blocks) where mine != theirs {
            if mine.timeout != theirs.timeout {
                let timeouts = [mine.timeout, theirs.timeout].map { $0?.shortDescription ?? "none" }
                return "state \(mine.state): timeout \(timeouts[0]) vs \(timeouts[1])"
            }
            return "state \(mine.state): rows differ"
        }
        if blocks.count != other.blocks.count { return "\(blocks.count) vs \(other.blocks.count) When blocks" }
        if alwaysRows != other.alwaysRows { return "Always rows differ" }
        return "Final states differ"
    }

    private func describe<Value>(_ value: Value?) -> String {
        value.map { "\($0)" } ?? "none"
    }
}
