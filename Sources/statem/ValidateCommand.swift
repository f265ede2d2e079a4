/// `statem validate <machine> | --all`: checks transition tables and reports every problem.
enum ValidateCommand {
    static let help = """
        statem validate <machine> | --all — check the transition table of a machine, or of every machine

        Prints the validation report: every problem of the table at once (unreachable states, states with no
        way out, timeouts no row handles, clashing rows, events handled nowhere). The exit status is 0 when
        every table checked is valid, 1 otherwise. Handler-defined machines have no table: nothing to check.

        EXAMPLES
          statem validate traffic-light
          statem validate --all
        """

    static func run(_ arguments: [String], console: Console, machines: [CatalogEntry]) throws -> Int32 {
        var arguments = Arguments(arguments, command: "validate")
        if arguments.wantsHelp {
            console.print(help)
            return 0
        }
        var checksAll = false
        var name: String?
        while let argument = arguments.next() {
            switch argument {
            case "--all": checksAll = true
            case let operand where name == nil && !operand.hasPrefix("-"): name = operand
            default: throw arguments.unknown(argument)
            }
        }
        let entries: [CatalogEntry]
        switch (name, checksAll) {
        case (let name?, false): entries = [try machines.entry(named: name)]
        case (nil, true): entries = machines
        case (_?, true): throw UsageError("give a machine or --all, not both", help: arguments.helpHint)
        case (nil, false):
            throw UsageError(
                "validate needs a machine name or --all",
                help: "Machines: \(machines.map(\.name).joined(separator: ", "))")
        }
        var invalid: [String] = []
        for entry in entries {
            let (isValid, report) = entry.validate()
            if isValid {
                console.print(report)
            } else {
                invalid.append(entry.name)
                console.print("\(entry.name): INVALID")
                console.print(report)
            }
        }
        if checksAll {
            console.print(invalid.isEmpty
                ? "\(entries.count) machine(s) checked: no invalid table."
                : "\(invalid.count) of \(entries.count) machines have invalid tables: \(invalid.joined(separator: ", "))")
        }
        return invalid.isEmpty ? 0 : 1
    }
}
