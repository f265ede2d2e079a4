/// A state's block in a ``TransitionTable``: its rows, its timeout cell, and its entry and exit actions.
///
/// ```swift
/// When(.green, timeout: .seconds(25)) {
///     On(.stateTimeout, goto: .yellow)
///     On(cast: .walkButton, goto: .yellow)
/// }
/// .onEnter("countGreen") { data in data.greens += 1 }
/// ```
///
/// The **timeout cell** is the state's state timeout: armed each time the machine enters the state (from another
/// state, or at start), cancelled by the engine when it leaves; a row `On(.stateTimeout, …)` says what happens
/// when it fires. A `goto` to the current state is not a state change (as in `gen_statem`): the cell keeps
/// running, and no exit or entry action runs.
///
/// **Entry actions** run when the machine enters the state (and at start, for the initial state); **exit
/// actions** run when a row or the fallback moves it to another state, before the row's own actions. Neither
/// runs when the server stops; use `terminate` for that.
///
/// Concurrency: a `Sendable` value; entry and exit actions are `@Sendable` closures run on the server's thread.
public struct When<M: StateMachine>: Sendable {
    let state: M.State
    let timeout: (duration: Duration, content: M.Timeout)?
    let rows: [TableRow<M>]
    @usableFromInline var entryEffects: [TableEffect<M>] = []
    @usableFromInline var exitEffects: [TableEffect<M>] = []

    /// A block for `state` with no timeout cell.
    public init(_ state: M.State, @TableRowBuilder<M> _ rows: () -> [TableRow<M>] = { [] }) {
        self.state = state
        self.timeout = nil
        self.rows = rows()
    }

    /// A block for `state` whose timeout cell fires `timeout` after entry with `content` as the timeout event's
    /// payload.
    public init(
        _ state: M.State, timeout: Duration, carrying content: M.Timeout,
        @TableRowBuilder<M> _ rows: () -> [TableRow<M>] = { [] }
    ) {
        self.state = state
        self.timeout = (timeout, content)
        self.rows = rows()
    }

    /// Adds an entry action that changes the data, named `name` for diagrams when given.
    @inlinable
    public func onEnter(_ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> Void) -> When {
        var block = self
        block.entryEffects.append(TableEffect(name: name) { data, _ in try body(&data) })
        return block
    }

    /// Adds an entry action that may also return actions (a named timeout, a message to self, an effect).
    @inlinable
    public func onEnter(
        _ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> [Action<M>]
    ) -> When {
        var block = self
        block.entryEffects.append(TableEffect(name: name) { data, actions in actions += try body(&data) })
        return block
    }

    /// Adds an exit action that changes the data.
    @inlinable
    public func onExit(_ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> Void) -> When {
        var block = self
        block.exitEffects.append(TableEffect(name: name) { data, _ in try body(&data) })
        return block
    }

    /// Adds an exit action that may also return actions (cancel a named timeout, say).
    @inlinable
    public func onExit(
        _ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> [Action<M>]
    ) -> When {
        var block = self
        block.exitEffects.append(TableEffect(name: name) { data, actions in actions += try body(&data) })
        return block
    }
}

extension When where M.Timeout == Void {
    /// A block for `state` whose timeout cell fires `timeout` after the machine enters the state.
    public init(_ state: M.State, timeout: Duration, @TableRowBuilder<M> _ rows: () -> [TableRow<M>] = { [] }) {
        self.init(state, timeout: timeout, carrying: (), rows)
    }
}

/// Rows valid in every state, tried after the current state's own rows (so a state can override one).
///
/// ```swift
/// Always { On(cast: .emergency, goto: .red) }
/// ```
///
/// Concurrency: a `Sendable` value.
public struct Always<M: StateMachine>: Sendable {
    let rows: [TableRow<M>]

    /// Rows valid in every state.
    public init(@TableRowBuilder<M> _ rows: () -> [TableRow<M>]) {
        self.rows = rows()
    }
}

/// Declares the initial state of a ``TransitionTable`` (otherwise the first `When` block's state).
///
/// Concurrency: a `Sendable` value.
public struct Initial<M: StateMachine>: Sendable {
    let state: M.State

    /// The machine starts in `state`.
    public init(_ state: M.State) { self.state = state }
}

/// Declares states in which the machine may end its life: validation does not ask for a way out of them, and
/// diagrams draw them with an exit (`closed --> [*]`).
///
/// Entering a final state does not stop the server (it may still answer calls); a row ending in
/// ``On/stop(_:)`` does.
///
/// Concurrency: a `Sendable` value.
public struct Final<M: StateMachine>: Sendable {
    let states: [M.State]

    /// Declares `states` final.
    public init(_ states: M.State...) { self.states = states }
}

/// An entry or exit action: a named body over the data that may append actions.
@usableFromInline
struct TableEffect<M: StateMachine>: Sendable {
    let name: String?
    @usableFromInline let body: @Sendable (inout M.Data, inout [Action<M>]) throws -> Void

    @usableFromInline
    init(name: String?, body: @escaping @Sendable (inout M.Data, inout [Action<M>]) throws -> Void) {
        self.name = name
        self.body = body
    }
}
