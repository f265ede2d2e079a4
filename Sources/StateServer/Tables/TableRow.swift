/// One row of a ``TransitionTable``, with its payload type erased: what the row builder collects from ``On``.
///
/// Rows are built with ``On`` and read by the interpreter, the validator and the diagram writers; this type has
/// no API of its own. A class, so the interpreter's scan of a state's rows copies references, not closures.
///
/// Concurrency: immutable and `Sendable`; shared by every server of the machine type.
public final class TableRow<M: StateMachine>: Sendable {
    /// Which kind of event the row matches, for the interpreter's index.
    @usableFromInline let kind: TableEventKind
    /// The event's name: the value's description (`walkButton`) or the name given with a matcher.
    let label: String
    /// For named-timeout rows, the timer's name.
    let timerName: M.Timer?
    @usableFromInline let target: TableTarget<M.State>
    let guardName: String?
    let actionNames: [String]
    /// Whether the event is the row's event, guard aside (validation uses it to check coverage).
    let matchesEvent: @Sendable (Event<M>) -> Bool
    /// Whether the row fires: its event, and its guard holds.
    @usableFromInline let fires: @Sendable (Event<M>, M.Data) -> Bool
    /// Runs the row's actions and reply, appending the actions they return; `nil` when the row has neither.
    @usableFromInline let perform: (@Sendable (Event<M>, inout M.Data, inout [Action<M>]) throws -> Void)?

    @usableFromInline
    init(
        kind: TableEventKind, label: String, timerName: M.Timer?, target: TableTarget<M.State>, guardName: String?,
        actionNames: [String], matchesEvent: @escaping @Sendable (Event<M>) -> Bool,
        fires: @escaping @Sendable (Event<M>, M.Data) -> Bool,
        perform: (@Sendable (Event<M>, inout M.Data, inout [Action<M>]) throws -> Void)?
    ) {
        self.kind = kind
        self.label = label
        self.timerName = timerName
        self.target = target
        self.guardName = guardName
        self.actionNames = actionNames
        self.matchesEvent = matchesEvent
        self.fires = fires
        self.perform = perform
    }

    /// The event as validation problems name it: `cast(walkButton)`, `call(balance)`, `stateTimeout`.
    var eventDescription: String {
        switch kind {
        case .call: "call(\(label))"
        case .cast: "cast(\(label))"
        case .info: "info(\(label))"
        case .stateTimeout: "stateTimeout"
        case .eventTimeout: "eventTimeout"
        case .namedTimeout: "timeout(\(label))"
        }
    }

    /// Rows for the same event, as validation compares them.
    var eventKey: String { eventDescription }
}

/// The kinds of event a row can match; the interpreter keeps one list of rows per kind and state.
@usableFromInline
enum TableEventKind: Int, Sendable, CaseIterable {
    case call, cast, info, stateTimeout, eventTimeout, namedTimeout

    /// The kind of `event`, or `nil` for events no row can match (enter calls, `down`, `exit`): those go to the
    /// fallback.
    @inlinable
    init?<M: StateMachine>(_ event: Event<M>) {
        switch event {
        case .call: self = .call
        case .cast: self = .cast
        case .info, .internal: self = .info
        case .stateTimeout: self = .stateTimeout
        case .eventTimeout: self = .eventTimeout
        case .timeout: self = .namedTimeout
        case .enter, .down, .exit: return nil
        }
    }
}

/// Where a row leads.
@usableFromInline
enum TableTarget<State: Hashable & Sendable>: Sendable {
    /// Stay, running only the row's actions.
    case keep
    /// Move to the state (stay, if it is the current state).
    case goto(State)
    /// Stop the server with the reason, after the row's actions; its replies are sent first.
    case stop(ExitReason)
    /// Let the machine's fallback handler decide.
    case fallback

    /// The target, without the exit reason, for comparing table shapes.
    var shape: TableTargetShape<State> {
        switch self {
        case .keep: .keep
        case .goto(let state): .goto(state)
        case .stop: .stop
        case .fallback: .fallback
        }
    }
}

/// A ``TableTarget`` reduced to what can be compared.
enum TableTargetShape<State: Hashable & Sendable>: Hashable, Sendable {
    case keep, goto(State), stop, fallback
}
