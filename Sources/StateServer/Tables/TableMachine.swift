/// A state machine whose logic is a transition table: a typed state enum plus rows, interpreted by the runtime.
///
/// Conform, declare `table` with the table DSL, and the machine runs on any ``Runtime`` like a handwritten one:
/// `handle` is implemented by looking the event up in the table, and `start` by entering the table's initial
/// state (running its entry actions and arming its timeout cell).
///
/// ```swift
/// struct Light: TableMachine {
///     enum State: Hashable, Sendable { case red, green, yellow }
///     enum Cast: Hashable, Sendable { case walkButton, emergency }
///
///     var table: TransitionTable<Self> {
///         When(.red, timeout: .seconds(30))   { On(.stateTimeout, goto: .green) }
///         When(.green, timeout: .seconds(25)) { On(.stateTimeout, goto: .yellow); On(cast: .walkButton, goto: .yellow) }
///         When(.yellow, timeout: .seconds(5)) { On(.stateTimeout, goto: .red) }
///         Always                              { On(cast: .emergency, goto: .red) }
///     }
/// }
/// let light = try runtime.start(Light())
/// ```
///
/// How an event is handled, in order:
/// 1. The rows of the current state's `When` block, in table order, then the ``Always`` rows: the first row
///    whose event matches and whose guard (if any) holds fires.
/// 2. A row that moves to another state runs the current state's exit actions, the row's actions (and its
///    reply), the target's entry actions, then arms the target's timeout cell. A row that stays (no `goto`, or a
///    `goto` to the current state, as `gen_statem` treats it) runs only its actions: no exit, no entry, and the
///    timeout cell keeps running.
/// 3. No row matches, or the row says ``On/toFallback()``: ``fallback(_:in:data:)`` decides, with the full power
///    of a handler. A fallback that changes state gets the same exit, entry and timeout treatment, after its own
///    effects. The default fallback keeps the state and does nothing (`.keep`), so an unmatched call is left
///    unanswered until the caller times out: add a row for every call, or answer it in the fallback.
///
/// Entry actions replace state-enter calls: leave ``StateMachine/callsStateEnter`` off. A machine that turns it on
/// receives the ``Event/enter(from:)`` calls in its fallback.
///
/// **Validation.** ``start()`` validates the table first (see ``TransitionTable/validate()``). An invalid table
/// does not start: `runtime.start` throws ``StateServerError/Code/startFailed`` whose exit reason is
/// `.error(StateServerError)` with code ``StateServerError/Code/invalidTable`` and a message listing every problem.
/// Call ``validateTable()`` in a test to see the problems as values.
///
/// **Caching.** `table` is a computed property; it is built and compiled (indexed by state and event kind) once per
/// machine type and ``tableVariant``, then shared by every server of that type, so handling an event never rebuilds
/// it. When the table depends on the machine's stored properties (durations from a configuration, say), return
/// those properties from ``tableVariant``: one table is compiled per distinct variant. `start()` compares the
/// shape of a freshly built table (states, timeouts, events, guards, targets) with the compiled one, and refuses to
/// start with an ``StateServerError/Code/invalidTable`` error naming the fix when they differ.
///
/// Concurrency: a table machine is a `Sendable` value like any machine; the compiled table is immutable and shared
/// by every server of the type, and the closures in it (guards, actions, matchers) must be `@Sendable`.
public protocol TableMachine: StateMachine {
    /// The transition table: `When` blocks per state, ``Always`` rows, optional ``Initial`` and ``Final``
    /// declarations. Built once per type and ``tableVariant``, not per event.
    @TransitionTableBuilder<Self> var table: TransitionTable<Self> { get }

    /// The data the machine starts with. Machines without data (`Data == Void`) need not implement it.
    func initialData() throws -> Data

    /// Handles what the table can't say: events no row matches, and events of rows marked ``On/toFallback()``.
    /// Defaults to `.keep`.
    ///
    /// A fallback may return any transition; if it moves to another state, the current state's exit actions, the
    /// target's entry actions and the target's timeout cell apply as for a row, after the fallback's own actions.
    func fallback(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self>

    /// What, besides the type, the table depends on: `nil` (the default) compiles one table per type. Return the
    /// stored properties the table reads, such as a configuration of durations, to compile one table per value.
    var tableVariant: (any Hashable & Sendable)? { get }
}

extension TableMachine {
    /// Starts in the table's initial state with ``initialData()``, after validating the table.
    ///
    /// Returns `.error(StateServerError(.invalidTable, …))` when the table is invalid, so `runtime.start`
    /// throws ``StateServerError/Code/startFailed`` and no server runs.
    public func start() throws -> Start<Self> {
        try startTable(data: initialData())
    }

    /// Handles `event` by interpreting the compiled table (see ``TableMachine`` for the rules).
    ///
    /// - Complexity: a dictionary lookup for the state, then a scan of the rows of that state (and ``Always``)
    ///   for the event's kind.
    @inlinable
    public func handle(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self> {
        try TableCache.compiled(for: self).handle(event, in: state, data: &data, machine: self)
    }

    /// Keeps the state and does nothing.
    public func fallback(_ event: Event<Self>, in state: State, data: inout Data) throws -> Transition<Self> {
        .keep
    }

    /// One table per type.
    public var tableVariant: (any Hashable & Sendable)? { nil }

    /// What a custom `start()` returns to enter the table: validates the table, then starts in `state` (by
    /// default the table's initial state) with `data`, running the state's entry actions and arming its timeout
    /// cell.
    ///
    /// Write your own `start()` to decide at start time (return `.ignore`, restore a saved state), and end it with
    /// this call so validation, entry actions and the timeout cell are not skipped:
    ///
    /// ```swift
    /// func start() throws -> Start<Self> {
    ///     if let saved = store.load() { return try startTable(in: saved.state, data: saved.data) }
    ///     return try startTable(data: Data())
    /// }
    /// ```
    public func startTable(in state: State? = nil, data: Data) throws -> Start<Self> {
        let compiled = TableCache.compiled(for: self)
        if let error = compiled.startError(for: self) { return .error(error) }
        guard let state = state ?? compiled.initialState else {
            return .error(StateServerError(.invalidTable, "\(Self.self)'s table has no initial state"))
        }
        var data = data
        let actions = try compiled.enter(state, data: &data)
        return .ok(state, data: data, actions: actions)
    }

    /// Validates the machine's table (the compiled one its servers use): every problem at once, in a stable order.
    ///
    /// ```swift
    /// let report = Light().validateTable()
    /// #expect(report.isValid, "\(report)")
    /// ```
    public func validateTable() -> ValidationReport<Self> {
        TableCache.compiled(for: self).report
    }
}

extension TableMachine where Data == Void {
    /// No data.
    public func initialData() {}
}
