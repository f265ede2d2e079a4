import Machines

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `statem`: run a machine live with its trace.
@main
struct StatemCommand {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let status: Int32
        do {
            if arguments.isEmpty {
                // The demo: a traffic light through two full cycles in virtual time.
                arguments = ["run", "traffic-light", "--virtual", "--cycles", "2"]
            }
            let command = arguments.removeFirst()
            switch command {
            case "run":
                status = try await RunCommand(arguments: arguments).execute()
            case "list":
                status = ListCommand.execute(arguments: arguments)
            case "help", "--help", "-h":
                print(usage)
                status = 0
            default:
                throw UsageError("unknown command '\(command)'")
            }
        } catch let error as UsageError {
            printError("statem: \(error.message)\n\(error.help ?? "Run 'statem --help' for usage.")")
            status = 2
        } catch {
            printError("statem: \(error)")
            status = 1
        }
        exit(status)
    }

    static let usage = """
        statem — run state-machine servers and watch their traces

        USAGE
          statem                      run the traffic light for two cycles in virtual time
          statem run <machine> [options]
          statem list                 the machines that can be run
          statem help                 this text

        Run 'statem run --help' for the run options.
        """
}

/// A mistake in the command line: a message and the help to show.
struct UsageError: Error {
    let message: String
    let help: String?
    init(_ message: String, help: String? = nil) {
        self.message = message
        self.help = help
    }
}

func printError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
