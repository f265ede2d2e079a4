import Machines

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `statem`: run, draw and validate the machines of `Machines`.
///
/// `main` only reads the command line and exits with the status of ``run(_:console:machines:)``, which does
/// the work against a ``Console`` so that tests can drive it.
@main
struct StatemCommand {
    static func main() async {
        let status = await run(Array(CommandLine.arguments.dropFirst()), console: .standard())
        exit(status)
    }

    /// Runs the command `arguments` (without the program name) and returns the exit status: 0 on success,
    /// 1 when the command failed (an invalid table, a machine that stopped with an error), 2 for a mistake in
    /// the command line, reported with what would have been valid.
    static func run(
        _ arguments: [String], console: Console, machines: [CatalogEntry] = Catalog.entries
    ) async -> Int32 {
        do {
            // No arguments: the demo, a traffic light through two full cycles in virtual time.
            let arguments = arguments.isEmpty ? ["run", "traffic-light", "--virtual", "--cycles", "2"] : arguments
            let rest = Array(arguments.dropFirst())
            switch arguments[0] {
            case "run": return try await RunCommand.run(rest, console: console, machines: machines)
            case "list": return try ListCommand.run(rest, console: console, machines: machines)
            case "diagram": return try DiagramCommand.run(rest, console: console, machines: machines)
            case "validate": return try ValidateCommand.run(rest, console: console, machines: machines)
            case "help", "--help", "-h": return try help(rest, console: console, machines: machines)
            case let command:
                let hint = machines.contains { $0.name == command }
                    ? "Did you mean 'statem run \(command)'?" : "Run 'statem --help' for usage."
                throw UsageError("unknown command '\(command)'", help: hint)
            }
        } catch let error as UsageError {
            console.printError("statem: \(error.message)")
            if let help = error.help { console.printError(help) }
            return 2
        } catch let error as CommandFailure {
            console.printError("statem: \(error.message)")
            return 1
        } catch {
            console.printError("statem: \(error)")
            return 1
        }
    }

    /// `statem help [command]`.
    private static func help(_ arguments: [String], console: Console, machines: [CatalogEntry]) throws -> Int32 {
        switch arguments.first {
        case nil: console.print(usage); return 0
        case "run": console.print(RunCommand.help); return 0
        case "list": console.print(ListCommand.help); return 0
        case "diagram": console.print(DiagramCommand.help); return 0
        case "validate": console.print(ValidateCommand.help); return 0
        case let other?:
            throw UsageError("no help for '\(other)'", help: "Commands: run, list, diagram, validate")
        }
    }

    static let usage = """
        statem — run state-machine servers, watch their traces, draw and validate their tables

        USAGE
          statem                                 the traffic light through two cycles in virtual time
          statem run <machine> [options]         run a machine: interactively, or with --events
          statem list [<machine>]                the machines (or one machine's events)
          statem diagram <machine> [--format mermaid|dot]
                                                 the transition diagram of a table machine
          statem validate <machine> | --all      check transition tables; exit status 1 if one is invalid
          statem help [<command>]                this text, or a command's

        Every command takes --help. Exit status: 0 success, 1 failure, 2 a mistake in the command line.
        """
}

/// A mistake in the command line: a message and the help to show (exit status 2).
struct UsageError: Error {
    let message: String
    let help: String?
    init(_ message: String, help: String? = nil) {
        self.message = message
        self.help = help
    }
}

/// A command that ran and failed: an invalid table, a machine without a diagram (exit status 1).
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
