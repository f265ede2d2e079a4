/// A row of a transition table: an event, an optional guard, actions, an optional reply, and where it leads.
///
/// Events without a payload are matched by value; events with a payload by a *matcher*, a closure that returns
/// the payload for the row's case and `nil` for any other, together with a name for the case (used by
/// validation to tell rows apart, and by diagrams as the edge label). The payload is passed to the guard, the
/// actions and the reply.
///
/// ```swift
/// On(.stateTimeout, goto: .green)                          // the state's timeout cell fired
/// On(cast: .walkButton, goto: .yellow)                     // a payload-free cast, by value
/// On(cast: "coinInserted", match: { if case .coinInserted(let cents) = $0 { cents } else { nil } })
///     .guard("fits") { data, cents in data.credit + cents <= 500 }
///     .action("addCredit") { data, cents in data.credit += cents }
/// On(call: "balance", match: { if case .balance(let reply) = $0 { reply } else { nil } },
///    reply: { data in data.credit })                       // answers the call
/// On(cast: .shutdown).stop()                               // ends the server
/// On(cast: .reconfigure).toFallback()                      // the machine's `fallback` decides
/// ```
///
/// Without `goto:` a row stays in the current state. Several rows for the same event in one state are tried in
/// table order and the first whose guard holds fires: give each a guard, or put the unguarded one last as the
/// "otherwise" case (validation reports a row that can never fire).
///
/// Concurrency: a `Sendable` value; its matcher, guard, actions and reply are `@Sendable` closures, called only on
/// the thread running the server, one event at a time. (The DSL is `@inlinable` so that rows are specialized for
/// the machine's types where the machine is defined.)
public struct On<M: StateMachine, Payload>: Sendable {
    @usableFromInline let kind: TableEventKind
    @usableFromInline let label: String
    @usableFromInline let timerName: M.Timer?
    @usableFromInline let extract: @Sendable (Event<M>) -> Payload?
    @usableFromInline var target: TableTarget<M.State>
    @usableFromInline var guardName: String?
    @usableFromInline var predicate: (@Sendable (M.Data, Payload) -> Bool)?
    @usableFromInline var actionNames: [String] = []
    @usableFromInline var actions: [@Sendable (inout M.Data, Payload, inout [Action<M>]) throws -> Void] = []
    /// The reply of a call row, computed after the other actions.
    @usableFromInline var replyAction: (@Sendable (Event<M>, inout M.Data, Payload) throws -> Action<M>?)?

    @inlinable
    init(
        kind: TableEventKind, label: String, timerName: M.Timer? = nil, target: M.State?,
        extract: @escaping @Sendable (Event<M>) -> Payload?
    ) {
        self.kind = kind
        self.label = label
        self.timerName = timerName
        self.extract = extract
        self.target = target.map { .goto($0) } ?? .keep
    }

    // MARK: Timeouts

    /// A row for the state timeout (the state's timeout cell) or the event timeout; the payload is the timeout's
    /// content.
    @inlinable
    public init(_ timeout: TimeoutTrigger, goto target: M.State? = nil) where Payload == M.Timeout {
        switch timeout {
        case .stateTimeout:
            self.init(kind: .stateTimeout, label: "stateTimeout", target: target) { event in
                if case .stateTimeout(let content) = event { content } else { nil }
            }
        case .eventTimeout:
            self.init(kind: .eventTimeout, label: "eventTimeout", target: target) { event in
                if case .eventTimeout(let content) = event { content } else { nil }
            }
        }
    }

    /// A row for the named timeout `name`; the payload is the timeout's content.
    @inlinable
    public init(timeout name: M.Timer, goto target: M.State? = nil) where Payload == M.Timeout {
        self.init(kind: .namedTimeout, label: String(describing: name), timerName: name, target: target) { event in
            if case .timeout(let fired, let content) = event, fired == name { content } else { nil }
        }
    }

    // MARK: Casts and infos

    /// A row for the cast `value` (compared with `==`).
    @inlinable
    public init(cast value: M.Cast, goto target: M.State? = nil) where Payload == Void, M.Cast: Equatable {
        self.init(kind: .cast, label: String(describing: value), target: target) { event in
            if case .cast(let cast) = event, cast == value { () } else { nil }
        }
    }

    /// A row for the cast case `name`, recognized by `match`, which returns the case's payload (or `nil` for any
    /// other cast).
    ///
    /// ```swift
    /// On(cast: "coinInserted", match: { if case .coinInserted(let cents) = $0 { cents } else { nil } }, goto: .paid)
    /// ```
    @inlinable
    public init(
        cast name: String, match: @escaping @Sendable (M.Cast) -> Payload?, goto target: M.State? = nil
    ) {
        self.init(kind: .cast, label: name, target: target) { event in
            if case .cast(let cast) = event { match(cast) } else { nil }
        }
    }

    /// A row for the info message `value` (compared with `==`); it also matches the same value inserted as an
    /// internal event with ``Action/next(_:)``.
    @inlinable
    public init(info value: M.Info, goto target: M.State? = nil) where Payload == Void, M.Info: Equatable {
        self.init(kind: .info, label: String(describing: value), target: target) { event in
            switch event {
            case .info(let info) where info == value, .internal(let info) where info == value: ()
            default: nil
            }
        }
    }

    /// A row for the info case `name`, recognized by `match`; it also matches internal events.
    @inlinable
    public init(
        info name: String, match: @escaping @Sendable (M.Info) -> Payload?, goto target: M.State? = nil
    ) {
        self.init(kind: .info, label: name, target: target) { event in
            switch event {
            case .info(let info), .internal(let info): match(info)
            default: nil
            }
        }
    }

    // MARK: Calls

    /// A row for the call case `name`, recognized by `match`, whose payload usually holds the ``Reply`` handle:
    /// the row's actions answer it (now with ``Action/reply(_:_:)``, or later after keeping the handle in the
    /// data).
    @inlinable
    public init(
        call name: String, match: @escaping @Sendable (M.Call) -> Payload?, goto target: M.State? = nil
    ) {
        self.init(kind: .call, label: name, target: target) { event in
            if case .call(let call) = event { match(call) } else { nil }
        }
    }

    /// A row that answers the call case `name`: `match` returns the call's ``Reply`` handle, and `reply` computes
    /// the answer after the row's actions have run (it may change the data too).
    ///
    /// ```swift
    /// On(call: "balance", match: { if case .balance(let reply) = $0 { reply } else { nil } },
    ///    reply: { data in data.credit })
    /// ```
    @inlinable
    public init<Value>(
        call name: String, match: @escaping @Sendable (M.Call) -> Reply<Value>?, goto target: M.State? = nil,
        reply: @escaping @Sendable (inout M.Data) throws -> Value
    ) where Payload == Void {
        self.init(kind: .call, label: name, target: target) { event in
            if case .call(let call) = event, match(call) != nil { () } else { nil }
        }
        replying(match) { data, _ in try reply(&data) }
    }

    /// A row that answers the call case `name` carrying arguments: `match` returns the arguments (the row's
    /// payload) and the ``Reply`` handle, and `reply` computes the answer after the row's actions have run.
    ///
    /// ```swift
    /// On(call: "withdraw", match: { if case .withdraw(let cents, let reply) = $0 { (cents, reply) } else { nil } },
    ///    reply: { data, cents in data.credit -= cents; return data.credit })
    /// ```
    @inlinable
    public init<Value>(
        call name: String, match: @escaping @Sendable (M.Call) -> (Payload, Reply<Value>)?,
        goto target: M.State? = nil, reply: @escaping @Sendable (inout M.Data, Payload) throws -> Value
    ) {
        self.init(kind: .call, label: name, target: target) { event in
            if case .call(let call) = event { match(call)?.0 } else { nil }
        }
        replying({ match($0)?.1 }, reply)
    }

    /// Sets the reply, computed after the row's other actions (whenever they were added).
    @inlinable
    mutating func replying<Value>(
        _ handle: @escaping @Sendable (M.Call) -> Reply<Value>?,
        _ value: @escaping @Sendable (inout M.Data, Payload) throws -> Value
    ) {
        replyAction = { event, data, payload in
            guard case .call(let call) = event, let reply = handle(call) else { return nil }
            return .reply(reply, try value(&data, payload))
        }
    }

    // MARK: Modifiers

    /// Adds a guard: the row fires only when `predicate` holds for the data and the payload. The name tells
    /// rows for the same event apart in validation and appears on diagram edges (`[hasCredit]`). A second guard
    /// is combined with the first (`a && b`).
    @inlinable
    public func `guard`(_ name: String, _ predicate: @escaping @Sendable (M.Data, Payload) -> Bool) -> On {
        var row = self
        if let existing = row.predicate, let existingName = row.guardName {
            row.guardName = "\(existingName) && \(name)"
            row.predicate = { data, payload in existing(data, payload) && predicate(data, payload) }
        } else {
            row.guardName = name
            row.predicate = predicate
        }
        return row
    }

    /// Adds an action that changes the data, given the payload; actions run in the order they are added. The
    /// name, when given, appears on diagram edges (`/ addCredit`).
    @inlinable
    public func action(
        _ name: String? = nil, _ body: @escaping @Sendable (inout M.Data, Payload) throws -> Void
    ) -> On {
        appending(name) { data, payload, _ in try body(&data, payload) }
    }

    /// Adds an action that may also return actions for the engine (a named timeout, a message to self, an
    /// effect, a reply through a handle in the payload).
    @inlinable
    public func action(
        _ name: String? = nil, _ body: @escaping @Sendable (inout M.Data, Payload) throws -> [Action<M>]
    ) -> On {
        appending(name) { data, payload, actions in actions += try body(&data, payload) }
    }

    /// Makes the row stop the server with `reason` after its actions; its replies (a reply row's answer, or
    /// ``Action/reply(_:_:)`` actions) are sent before `terminate` runs, other actions are dropped.
    @inlinable
    public func stop(_ reason: ExitReason = .normal) -> On {
        var row = self
        row.target = .stop(reason)
        return row
    }

    /// Hands the event to the machine's ``TableMachine/fallback(_:in:data:)`` instead of running actions: for
    /// what the table can't say, while still telling validation that the event is handled here (and overriding
    /// an ``Always`` row for this state).
    @inlinable
    public func toFallback() -> On {
        var row = self
        row.target = .fallback
        return row
    }

    @inlinable
    func appending(
        _ name: String?, _ body: @escaping @Sendable (inout M.Data, Payload, inout [Action<M>]) throws -> Void
    ) -> On {
        var row = self
        if let name { row.actionNames.append(name) }
        row.actions.append(body)
        return row
    }

    /// The row with its payload type erased.
    @inlinable
    var erased: TableRow<M> {
        let extract = extract
        let predicate = predicate
        let actions = actions
        let replyAction = replyAction
        let matchesEvent: @Sendable (Event<M>) -> Bool = { extract($0) != nil }
        let fires: @Sendable (Event<M>, M.Data) -> Bool
        if let predicate {
            fires = { event, data in
                guard let payload = extract(event) else { return false }
                return predicate(data, payload)
            }
        } else {
            fires = { event, _ in extract(event) != nil }
        }
        var perform: (@Sendable (Event<M>, inout M.Data, inout [Action<M>]) throws -> Void)?
        if !actions.isEmpty || replyAction != nil {
            perform = { event, data, output in
                guard let payload = extract(event) else { return }
                for action in actions { try action(&data, payload, &output) }
                if let replyAction, let reply = try replyAction(event, &data, payload) { output.append(reply) }
            }
        }
        return TableRow(
            kind: kind, label: label, timerName: timerName, target: target, guardName: guardName,
            actionNames: actionNames, matchesEvent: matchesEvent, fires: fires, perform: perform)
    }
}

extension On where Payload == Void {
    /// Adds a guard over the data, for rows without a payload.
    @inlinable
    public func `guard`(_ name: String, _ predicate: @escaping @Sendable (M.Data) -> Bool) -> On {
        self.guard(name) { data, _ in predicate(data) }
    }

    /// Adds an action that changes the data, for rows without a payload.
    @inlinable
    public func action(_ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> Void) -> On {
        action(name) { data, _ in try body(&data) }
    }

    /// Adds an action that may also return actions for the engine, for rows without a payload.
    @inlinable
    public func action(
        _ name: String? = nil, _ body: @escaping @Sendable (inout M.Data) throws -> [Action<M>]
    ) -> On {
        action(name) { data, _ in try body(&data) }
    }
}

/// The timeouts a row can name without a timer name: `On(.stateTimeout, goto: .green)`.
///
/// Concurrency: a `Sendable` value.
public enum TimeoutTrigger: Hashable, Sendable {
    /// The state timeout: the state's timeout cell, or one set by an action.
    case stateTimeout
    /// The event timeout, set by an action.
    case eventTimeout
}

/// Collects the rows of a `When` or ``Always`` block, with `if`, `switch` and `for` allowed around them.
///
/// Concurrency: static functions only, run while the table is built.
@resultBuilder
public enum TableRowBuilder<M: StateMachine> {
    /// A row.
    @inlinable
    public static func buildExpression<Payload>(_ row: On<M, Payload>) -> [TableRow<M>] { [row.erased] }

    /// Joins rows in order.
    public static func buildBlock(_ parts: [TableRow<M>]...) -> [TableRow<M>] { parts.flatMap { $0 } }

    /// Rows under an `if` without `else`.
    public static func buildOptional(_ part: [TableRow<M>]?) -> [TableRow<M>] { part ?? [] }

    /// The first branch of an `if`/`else` or `switch`.
    public static func buildEither(first part: [TableRow<M>]) -> [TableRow<M>] { part }

    /// The second branch of an `if`/`else` or `switch`.
    public static func buildEither(second part: [TableRow<M>]) -> [TableRow<M>] { part }

    /// Rows from a `for` loop, in order.
    public static func buildArray(_ parts: [[TableRow<M>]]) -> [TableRow<M>] { parts.flatMap { $0 } }

    /// Rows inside `if #available`.
    public static func buildLimitedAvailability(_ part: [TableRow<M>]) -> [TableRow<M>] { part }
}
