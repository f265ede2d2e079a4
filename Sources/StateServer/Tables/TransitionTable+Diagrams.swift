extension TransitionTable {
    /// The table as a Mermaid `stateDiagram-v2`, in table order (so it can be snapshot-tested).
    ///
    /// ```
    /// stateDiagram-v2
    ///     [*] --> red
    ///     red --> green : after 30s
    ///     green --> yellow : after 25s
    ///     green --> yellow : walkButton
    ///     green --> red : emergency
    /// ```
    ///
    /// What is drawn: the initial state (`[*] --> red`); per state in table order, an edge per row that moves to
    /// a state (`event [guard] / action`, a timeout cell as `after 30s`) or stops (`--> [*]`), then the
    /// ``Always`` rows from that state (except where the state's own unguarded row for the same event overrides
    /// them, and except edges back to the same state); last, an exit from each ``Final`` state. Rows that stay
    /// (replies, actions) and rows handed to the fallback are not drawn. A state whose description is not a plain
    /// identifier is declared as `state "description" as id`.
    public func mermaidDiagram() -> String {
        let ids = diagramIDs()
        var lines = ["stateDiagram-v2"]
        for state in states where ids[state]! != "\(state)" {
            lines.append("    state \"\(state)\" as \(ids[state]!)")
        }
        if let initial = initialState { lines.append("    [*] --> \(ids[initial] ?? diagramID(initial))") }
        for edge in diagramEdges() {
            let from = ids[edge.from] ?? diagramID(edge.from)
            let to = edge.to.map { ids[$0] ?? diagramID($0) } ?? "[*]"
            lines.append("    \(from) --> \(to)" + (edge.label.isEmpty ? "" : " : \(edge.label)"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table as a Graphviz DOT digraph named `name` (by default the machine's type name), with the same
    /// edges as ``mermaidDiagram()``: a point for the start, a small double circle for the end.
    ///
    /// ```
    /// digraph "Light" {
    ///     "__start" [shape=point];
    ///     "red";
    ///     "__start" -> "red";
    ///     "red" -> "green" [label="after 30s"];
    /// }
    /// ```
    public func dotDiagram(named name: String? = nil) -> String {
        func quoted(_ text: String) -> String {
            var escaped = "\""
            for character in text {
                if character == "\"" || character == "\\" { escaped.append("\\") }
                escaped.append(character)
            }
            return escaped + "\""
        }
        let edges = diagramEdges()
        var lines = ["digraph \(quoted(name ?? "\(M.self)")) {", "    rankdir=LR;", "    \"__start\" [shape=point];"]
        if edges.contains(where: { $0.to == nil }) {
            lines.append("    \"__end\" [shape=doublecircle, label=\"\", width=0.15];")
        }
        for state in states { lines.append("    \(quoted("\(state)"));") }
        if let initial = initialState { lines.append("    \"__start\" -> \(quoted("\(initial)"));") }
        for edge in edges {
            let to = edge.to.map { quoted("\($0)") } ?? "\"__end\""
            let label = edge.label.isEmpty ? "" : " [label=\(quoted(edge.label))]"
            lines.append("    \(quoted("\(edge.from)")) -> \(to)\(label);")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One arrow of a diagram; `to == nil` is the end (a stop, or a final state).
    struct DiagramEdge {
        var from: M.State
        var to: M.State?
        var label: String
    }

    /// The arrows of the table, in the order described in ``mermaidDiagram()``.
    func diagramEdges() -> [DiagramEdge] {
        var blocksByState: [M.State: When<M>] = [:]
        for block in blocks where blocksByState[block.state] == nil { blocksByState[block.state] = block }
        var edges: [DiagramEdge] = []
        for state in states {
            let block = blocksByState[state]
            let ownRows = block?.rows ?? []
            func edge(for row: TableRow<M>, isAlways: Bool) -> DiagramEdge? {
                var label: String
                switch row.kind {
                case .stateTimeout: label = block?.timeout.map { "after \($0.duration.shortDescription)" } ?? "stateTimeout"
                case .eventTimeout: label = "eventTimeout"
                case .namedTimeout: label = "timeout(\(row.label))"
                case .call, .cast, .info: label = row.label
                }
                if let guardName = row.guardName { label += " [\(guardName)]" }
                if !row.actionNames.isEmpty { label += " / " + row.actionNames.joined(separator: ", ") }
                switch row.target {
                case .goto(let target) where isAlways && target == state: return nil
                case .goto(let target): return DiagramEdge(from: state, to: target, label: label)
                case .stop: return DiagramEdge(from: state, to: nil, label: label)
                case .keep, .fallback: return nil
                }
            }
            edges += ownRows.compactMap { edge(for: $0, isAlways: false) }
            let overridden = Set(ownRows.filter { $0.guardName == nil }.map(\.eventKey))
            edges += alwaysRows.filter { !overridden.contains($0.eventKey) }.compactMap { edge(for: $0, isAlways: true) }
        }
        edges += finalStates.map { DiagramEdge(from: $0, to: nil, label: "") }
        return edges
    }

    /// Mermaid identifiers for the declared states and the targets of rows: the description when it is a plain
    /// identifier, else a sanitized form made unique.
    private func diagramIDs() -> [M.State: String] {
        var ids: [M.State: String] = [:]
        var used = Set<String>()
        let targets = (blocks.flatMap(\.rows) + alwaysRows).compactMap { row -> M.State? in
            if case .goto(let target) = row.target { target } else { nil }
        }
        for state in states + [initialState].compactMap({ $0 }) + targets where ids[state] == nil {
            var id = diagramID(state)
            if used.contains(id) {
                var suffix = 2
                while used.contains("\(id)_\(suffix)") { suffix += 1 }
                id = "\(id)_\(suffix)"
            }
            used.insert(id)
            ids[state] = id
        }
        return ids
    }

    /// `state`'s description with every character that is not a letter, digit or `_` replaced by `_`.
    private func diagramID(_ state: M.State) -> String {
        let description = "\(state)"
        var id = String(description.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
        if id.isEmpty || id.first!.isNumber { id = "s_" + id }
        return id
    }
}
