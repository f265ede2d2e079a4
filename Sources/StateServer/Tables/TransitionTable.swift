/// A machine's transition table as a value: per state a `When` block (rows, timeout cell, entry and exit
/// actions), ``Always`` rows valid in every state, and ``Initial`` / ``Final`` declarations.
///
/// Built with the table DSL, usually as a ``TableMachine``'s `table` property; it can also be built on its own
/// to validate or draw it:
///
/// ```swift
/// let table = TransitionTable<Light> {
///     When(.red, timeout: .seconds(30))   { On(.stateTimeout, goto: .green) }
///     When(.green, timeout: .seconds(25)) { On(.stateTimeout, goto: .yellow) }
///     When(.yellow, timeout: .seconds(5)) { On(.stateTimeout, goto: .red) }
/// }
/// print(table.validate())
/// print(table.mermaidDiagram())
/// ```
///
/// The initial state is the one named by ``Initial``, or else the first `When` block's state.
///
/// Concurrency: an immutable `Sendable` value; its guards, actions and matchers are `@Sendable` closures.
public struct TransitionTable<M: StateMachine>: Sendable {
    /// The `When` blocks, in table order.
    var blocks: [When<M>] = []
    /// The rows of every ``Always`` block, in table order.
    var alwaysRows: [TableRow<M>] = []
    /// Every ``Initial`` declaration, in table order (more than one is a validation problem).
    var initialDeclarations: [M.State] = []
    /// Every state declared ``Final``, in table order.
    var finalDeclarations: [M.State] = []

    init() {}

    /// Builds a table with the table DSL.
    public init(@TransitionTableBuilder<M> _ content: () -> TransitionTable<M>) {
        self = content()
    }

    /// The state the machine starts in: the ``Initial`` declaration, else the first `When` block's state.
    public var initialState: M.State? { initialDeclarations.first ?? blocks.first?.state }

    /// The declared states, in table order: every `When` block's state, then states only declared ``Final``.
    public var states: [M.State] {
        var seen = Set<M.State>()
        var states: [M.State] = []
        for state in blocks.map(\.state) + finalDeclarations where seen.insert(state).inserted { states.append(state) }
        return states
    }

    /// The states declared ``Final``, in table order.
    public var finalStates: [M.State] {
        var seen = Set<M.State>()
        return finalDeclarations.filter { seen.insert($0).inserted }
    }

    /// Appends another table's parts after this one's (how the builder joins the lines of a table).
    mutating func append(_ other: TransitionTable<M>) {
        blocks += other.blocks
        alwaysRows += other.alwaysRows
        initialDeclarations += other.initialDeclarations
        finalDeclarations += other.finalDeclarations
    }
}

/// Collects the lines of a ``TransitionTable``: `When` blocks, ``Always`` blocks, ``Initial`` and ``Final``
/// declarations, with `if`, `switch` and `for` allowed around them.
///
/// Concurrency: static functions only, run while the table is built.
@resultBuilder
public enum TransitionTableBuilder<M: StateMachine> {
    /// A state's block.
    public static func buildExpression(_ block: When<M>) -> TransitionTable<M> {
        var table = TransitionTable<M>()
        table.blocks = [block]
        return table
    }

    /// Rows valid in every state.
    public static func buildExpression(_ block: Always<M>) -> TransitionTable<M> {
        var table = TransitionTable<M>()
        table.alwaysRows = block.rows
        return table
    }

    /// The initial state.
    public static func buildExpression(_ declaration: Initial<M>) -> TransitionTable<M> {
        var table = TransitionTable<M>()
        table.initialDeclarations = [declaration.state]
        return table
    }

    /// Final states.
    public static func buildExpression(_ declaration: Final<M>) -> TransitionTable<M> {
        var table = TransitionTable<M>()
        table.finalDeclarations = declaration.states
        return table
    }

    /// Joins lines in order.
    public static func buildBlock(_ parts: TransitionTable<M>...) -> TransitionTable<M> {
        buildArray(parts)
    }

    /// Lines under an `if` without `else`.
    public static func buildOptional(_ part: TransitionTable<M>?) -> TransitionTable<M> {
        part ?? TransitionTable()
    }

    /// The first branch of an `if`/`else` or `switch`.
    public static func buildEither(first part: TransitionTable<M>) -> TransitionTable<M> { part }

    /// The second branch of an `if`/`else` or `switch`.
    public static func buildEither(second part: TransitionTable<M>) -> TransitionTable<M> { part }

    /// Lines from a `for` loop, in order.
    public static func buildArray(_ parts: [TransitionTable<M>]) -> TransitionTable<M> {
        var table = TransitionTable<M>()
        for part in parts { table.append(part) }
        return table
    }

    /// Lines inside `if #available`.
    public static func buildLimitedAvailability(_ part: TransitionTable<M>) -> TransitionTable<M> { part }
}
