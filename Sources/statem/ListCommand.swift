/// `statem list [<machine>]`: the machines, one per line, or the events one machine understands.
enum ListCommand {
    static let help = """
        statem list [<machine>] — the machines that 'statem run' knows, one line each; with a machine, its events

        EXAMPLES
          statem list
          statem list traffic-light
        """

    static func run(_ arguments: [String], console: Console, machines: [CatalogEntry]) throws -> Int32 {
        var arguments = Arguments(arguments, command: "list")
        if arguments.wantsHelp {
            console.print(help)
            return 0
        }
        let name = arguments.nextOperand()
        if let extra = arguments.next() { throw arguments.unknown(extra) }
        guard let name else {
            let width = (machines.map(\.name.count).max() ?? 0) + 2
            for entry in machines { console.print(padded(entry.name, to: width) + entry.summary) }
            return 0
        }
        let entry = try machines.entry(named: name)
        console.print("\(entry.name): \(entry.summary)")
        console.print(entry.hasTable ? "A table machine: 'statem diagram \(entry.name)' draws it." : "A handler-defined machine.")
        console.print("")
        console.print("Events (type them in 'statem run \(entry.name)', or pass them with --events):")
        let width = (entry.events.map(\.usage.count).max() ?? 0) + 2
        for event in entry.events { console.print("  " + padded(event.usage, to: width) + event.summary) }
        return 0
    }
}

/// `text` followed by spaces up to `width` characters (and at least one space).
func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(1, width - text.count))
}
