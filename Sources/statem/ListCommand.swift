/// `statem list`: the runnable machines, one per line.
enum ListCommand {
    static func execute(arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print("statem list — the machines that 'statem run' knows, one line each")
            return 0
        }
        for entry in Catalog.entries {
            print(entry.name + String(repeating: " ", count: max(1, 16 - entry.name.count)) + entry.summary)
        }
        return 0
    }
}
