extension TransitionTable {
    /// Checks the table and reports every problem at once, naming the state and event of each.
    ///
    /// The checks, reported in this order:
    /// - ``TableProblem/Kind/duplicateDeclaration``: a state with two `When` blocks; two ``Initial`` lines.
    /// - ``TableProblem/Kind/undeclaredState``: a row's target, or the initial state, with no `When` block and no
    ///   ``Final`` declaration; a table with no state at all.
    /// - ``TableProblem/Kind/unreachableState``: a declared state no chain of rows leads to from the initial
    ///   state. ``Always`` rows lead out of every state; the fallback is not seen, so give a state the fallback
    ///   moves to a row somewhere that leads to it.
    /// - ``TableProblem/Kind/noWayOut``: a state that is not ``Final`` and has no row (its own or ``Always``) to
    ///   another state, to a stop, or to the fallback.
    /// - ``TableProblem/Kind/unhandledTimeout``: a timeout cell with no `stateTimeout` row in the state or in
    ///   ``Always``.
    /// - ``TableProblem/Kind/clashingRows``: in one block, a row for an event that an earlier unguarded row for the
    ///   same event shadows, or that repeats an earlier row's guard name.
    /// - ``TableProblem/Kind/unhandledEvent``: for event types that are `CaseIterable` (`Cast`, `Info`, `Call`,
    ///   and `Timer` names), a case no row in any block matches. Event types that are not `CaseIterable` can't be
    ///   enumerated, so only the events the rows name are known and this check has nothing to report. A case the
    ///   fallback handles on purpose gets a row `On(cast: .x).toFallback()`.
    ///
    /// - Complexity: O(rows × states) plus O(cases × rows) for the event check.
    public func validate() -> ValidationReport<M> {
        var problems: [TableProblem<M>] = []
        func report(_ kind: TableProblem<M>.Kind, _ state: M.State?, _ event: String?, _ message: String) {
            problems.append(TableProblem(kind, state: state, event: event, message: message))
        }
        let declared = Set(states)
        let finals = Set(finalDeclarations)
        var firstBlocks: [When<M>] = []
        var blocksByState: [M.State: When<M>] = [:]

        // Duplicate declarations.
        for block in blocks {
            if blocksByState[block.state] == nil {
                blocksByState[block.state] = block
                firstBlocks.append(block)
            } else {
                report(.duplicateDeclaration, block.state, nil, "state \(block.state) has more than one When block")
            }
        }
        if initialDeclarations.count > 1 {
            let names = initialDeclarations.map { "\($0)" }.joined(separator: ", ")
            report(.duplicateDeclaration, nil, nil, "Initial is declared \(initialDeclarations.count) times (\(names))")
        }

        // Undeclared states.
        if let initial = initialState {
            if !declared.contains(initial) {
                report(.undeclaredState, initial, nil, "the initial state \(initial) has no When block")
            }
        } else {
            report(.undeclaredState, nil, nil, "the table has no initial state: it declares no Initial and no When block")
        }
        for block in blocks {
            for row in block.rows {
                guard case .goto(let target) = row.target, !declared.contains(target) else { continue }
                report(
                    .undeclaredState, target, row.eventDescription,
                    "state \(block.state) goes to \(target) on \(row.eventDescription), but \(target) has no When block")
            }
        }
        for row in alwaysRows {
            guard case .goto(let target) = row.target, !declared.contains(target) else { continue }
            report(
                .undeclaredState, target, row.eventDescription,
                "an Always row goes to \(target) on \(row.eventDescription), but \(target) has no When block")
        }

        // Unreachable states.
        if let initial = initialState {
            var reached: Set<M.State> = [initial]
            var pending = [initial]
            while let state = pending.popLast() {
                for row in (blocksByState[state]?.rows ?? []) + alwaysRows {
                    if case .goto(let target) = row.target, reached.insert(target).inserted { pending.append(target) }
                }
            }
            for state in states where !reached.contains(state) {
                report(.unreachableState, state, nil, "state \(state) cannot be reached from the initial state \(initial)")
            }
        }

        // States with no way out.
        for block in firstBlocks where !finals.contains(block.state) {
            let leaves = (block.rows + alwaysRows).contains { row in
                switch row.target {
                case .goto(let target): target != block.state
                case .stop, .fallback: true
                case .keep: false
                }
            }
            if !leaves {
                report(.noWayOut, block.state, nil, "no row leaves state \(block.state), and it is not declared Final")
            }
        }

        // Timeout cells with no row.
        for block in firstBlocks {
            guard let timeout = block.timeout,
                !(block.rows + alwaysRows).contains(where: { $0.kind == .stateTimeout })
            else { continue }
            report(
                .unhandledTimeout, block.state, "stateTimeout",
                "state \(block.state) has a \(timeout.duration.shortDescription) timeout but no row handles stateTimeout")
        }

        // Clashing rows.
        func checkClashes(_ rows: [TableRow<M>], in state: M.State?) {
            let place = state.map { "in state \($0)" } ?? "in Always"
            var earlier: [String: [TableRow<M>]] = [:]
            for row in rows {
                let previous = earlier[row.eventKey, default: []]
                if previous.contains(where: { $0.guardName == nil }) {
                    report(
                        .clashingRows, state, row.eventDescription,
                        "\(place), an earlier row for \(row.eventDescription) has no guard, so a later one can never fire")
                } else if let guardName = row.guardName, previous.contains(where: { $0.guardName == guardName }) {
                    report(
                        .clashingRows, state, row.eventDescription,
                        "\(place), two rows for \(row.eventDescription) have the same guard [\(guardName)]")
                }
                earlier[row.eventKey, default: []].append(row)
            }
        }
        for block in blocks { checkClashes(block.rows, in: block.state) }
        checkClashes(alwaysRows, in: nil)

        // Events handled nowhere.
        let allRows = blocks.flatMap(\.rows) + alwaysRows
        func checkCoverage<Value>(_ values: [Value]?, _ kind: TableEventKind, _ name: String, _ event: (Value) -> Event<M>) {
            for value in values ?? [] {
                let probe = event(value)
                if !allRows.contains(where: { $0.kind == kind && $0.matchesEvent(probe) }) {
                    report(.unhandledEvent, nil, "\(name)(\(value))", "no row in any state handles \(name)(\(value))")
                }
            }
        }
        checkCoverage(Self.allCases(of: M.Cast.self), .cast, "cast") { .cast($0) }
        checkCoverage(Self.allCases(of: M.Info.self), .info, "info") { .info($0) }
        checkCoverage(Self.allCases(of: M.Call.self), .call, "call") { .call($0) }
        for timer in Self.allCases(of: M.Timer.self) ?? []
        where !allRows.contains(where: { $0.kind == .namedTimeout && $0.timerName == timer }) {
            report(.unhandledEvent, nil, "timeout(\(timer))", "no row in any state handles timeout(\(timer))")
        }

        return ValidationReport(problems: problems)
    }

    /// Every value of `type` when it is `CaseIterable`, else `nil`.
    private static func allCases<Value>(of type: Value.Type) -> [Value]? {
        guard let iterable = type as? any CaseIterable.Type else { return nil }
        func cases<C: CaseIterable>(_ type: C.Type) -> [Value] { type.allCases.compactMap { $0 as? Value } }
        return cases(iterable)
    }
}
