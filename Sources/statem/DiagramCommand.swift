/// `statem diagram <machine> [--format mermaid|dot]`: a table machine's transition diagram.
enum DiagramCommand {
    static let help = """
        statem diagram <machine> [--format mermaid|dot] — print the transition diagram of a table machine

        The diagram is drawn from the machine's transition table: one edge per row that changes state, timeouts
        as 'after 30s'. Mermaid (the default) renders on GitHub in a ```mermaid block; DOT renders with Graphviz
        ('statem diagram traffic-light --format dot | dot -Tsvg > light.svg').

        OPTIONS
          --format F         mermaid (default) or dot
        """

    static func run(_ arguments: [String], console: Console, machines: [CatalogEntry]) throws -> Int32 {
        var arguments = Arguments(arguments, command: "diagram")
        if arguments.wantsHelp {
            console.print(help)
            return 0
        }
        var name: String?
        var format = DiagramFormat.mermaid
        while let argument = arguments.next() {
            switch argument {
            case "--format":
                let text = try arguments.value(of: "--format")
                guard let chosen = DiagramFormat(rawValue: text) else {
                    throw UsageError(
                        "unknown format '\(text)'",
                        help: "Formats: \(DiagramFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                format = chosen
            case let operand where name == nil && !operand.hasPrefix("-"):
                name = operand
            default:
                throw arguments.unknown(argument)
            }
        }
        guard let name else {
            throw UsageError(
                "diagram needs a machine name",
                help: "Machines with a table: \(machines.filter(\.hasTable).map(\.name).joined(separator: ", "))")
        }
        let entry = try machines.entry(named: name)
        guard let diagram = entry.diagram(format) else {
            let drawable = machines.filter(\.hasTable).map(\.name)
            let others = drawable.isEmpty ? "" : " Machines with a table: \(drawable.joined(separator: ", "))."
            throw CommandFailure(
                "\(name) is a handler-defined machine: its logic is code, not a transition table, so there is no "
                    + "diagram to draw." + others)
        }
        console.write(diagram.hasSuffix("\n") ? diagram : diagram + "\n")
        return 0
    }
}
