/// One problem validation found in a ``TransitionTable``: its kind, the state and event concerned, and a message.
///
/// Concurrency: a `Sendable` value.
public struct TableProblem<M: StateMachine>: Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it is.
    public typealias Kind = TableProblemKind

    /// What kind of problem it is.
    public var kind: Kind
    /// The state concerned, or `nil` for a problem of the whole table or of an ``Always`` row.
    public var state: M.State?
    /// The event concerned (`cast(walkButton)`, `call(balance)`, `stateTimeout`, `timeout(walk)`), if any.
    public var event: String?
    /// What is wrong, naming the state and event.
    public var message: String

    /// Creates a problem.
    public init(_ kind: Kind, state: M.State?, event: String?, message: String) {
        self.kind = kind
        self.state = state
        self.event = event
        self.message = message
    }

    /// `kind: message`.
    public var description: String { "\(kind): \(message)" }
}

/// Every problem validation found in a table, in a stable order (by kind, then table order), with a readable
/// description listing them all.
///
/// ```swift
/// let report = Light().validateTable()
/// if !report.isValid { print(report) }
/// ```
///
/// Concurrency: a `Sendable` value.
public struct ValidationReport<M: StateMachine>: Sendable, CustomStringConvertible {
    /// The problems found; empty for a valid table.
    public var problems: [TableProblem<M>]

    /// Creates a report of `problems`.
    public init(problems: [TableProblem<M>]) { self.problems = problems }

    /// Whether the table has no problems.
    public var isValid: Bool { problems.isEmpty }

    /// Throws ``StateServerError/Code/invalidTable`` with this report as the message when there are problems.
    public func check() throws(StateServerError) {
        if !isValid { throw StateServerError(.invalidTable, description) }
    }

    /// `Light's transition table is valid`, or a header and one line per problem.
    public var description: String {
        guard !isValid else { return "\(M.self)'s transition table is valid" }
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return (["\(M.self)'s transition table has \(count):"] + problems.map { "- \($0)" })
            .joined(separator: "\n")
    }
}

/// The kinds of problem ``TransitionTable/validate()`` reports, as an extensible set (adding one never breaks a
/// `switch`: compare with `==`).
///
/// Concurrency: a `Sendable` value.
public struct TableProblemKind: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Sendable {
        case unreachableState, noWayOut, unhandledEvent, clashingRows, unhandledTimeout, undeclaredState
        case duplicateDeclaration
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// No chain of rows leads from the initial state to the state (rows of ``Always`` blocks count from every
    /// state reached; what the fallback does is not seen).
    public static let unreachableState = TableProblemKind(.unreachableState)
    /// No row leaves the state (to another state, to a stop, or to the fallback) and it is not declared
    /// ``Final``.
    public static let noWayOut = TableProblemKind(.noWayOut)
    /// A case of a `CaseIterable` event type (`Cast`, `Info`, `Call`, or a `Timer` name) is handled by no row
    /// in any state.
    public static let unhandledEvent = TableProblemKind(.unhandledEvent)
    /// Two rows of one block handle the same event with no guard to tell them apart: an earlier row without a
    /// guard, or the same guard name twice. The later row can never fire.
    public static let clashingRows = TableProblemKind(.clashingRows)
    /// The state has a timeout cell but no row for `stateTimeout` (in its block or in ``Always``).
    public static let unhandledTimeout = TableProblemKind(.unhandledTimeout)
    /// A row (or the initial state) names a state that has no `When` block and is not declared ``Final``.
    public static let undeclaredState = TableProblemKind(.undeclaredState)
    /// A state has two `When` blocks, or the table has two ``Initial`` declarations.
    public static let duplicateDeclaration = TableProblemKind(.duplicateDeclaration)

    /// The kind's name, for example `unreachableState`.
    public var description: String { value.rawValue }
}
