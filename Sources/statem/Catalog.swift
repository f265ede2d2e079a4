import Machines

/// A machine the tool can run, draw and validate.
struct CatalogEntry: Sendable {
    /// The word on the command line: `traffic-light`.
    let name: String
    /// One line for `statem list`.
    let summary: String
    /// The events a user can type, with what each does (`coin 25`: a word and its arguments).
    let events: [(usage: String, summary: String)]
    /// The diagram in a format (nil when the machine is not a table).
    let diagram: @Sendable (DiagramFormat) -> String?
    /// The validation report: whether the table is valid, and the report's text.
    let validate: @Sendable () -> (isValid: Bool, report: String)
    /// Starts the machine on `runtime` (durations divided by `speed`), printing its trace with `trace`, and returns
    /// a session to feed it typed words.
    let start: @Sendable (Runtime, Double, @escaping @Sendable (String) -> Void) throws -> any MachineSession
}

/// The diagram formats `statem diagram` prints.
enum DiagramFormat: String, CaseIterable, Sendable {
    case mermaid, dot
}

/// A running machine driven by the tool.
protocol MachineSession: Sendable {
    /// Sends the event typed as `words` (`["coin", "25"]`); returns a line to print (a reply), or throws
    /// `UsageError` for an unknown word or bad arguments.
    func send(_ words: [String]) async throws -> String?
    /// The current state, for the interactive prompt.
    func describeState() async throws -> String
    /// Stops the machine.
    func stop() async throws
}

/// One word a user can type for machine `M`: its usage, what it does, and how it becomes a message.
struct EventWord<M: StateMachine>: Sendable {
    let usage: String
    let summary: String
    let perform: @Sendable (Server<M>, [String]) async throws -> String?

    /// The word itself: the first token of the usage.
    var word: String { String(usage.split(separator: " ").first ?? "") }

    /// A word that sends a cast.
    static func cast(_ usage: String, _ summary: String, _ message: M.Cast) -> EventWord {
        EventWord(usage: usage, summary: summary) { server, _ in
            try server.cast(message)
            return nil
        }
    }

    /// A word that sends a call and prints its reply.
    static func call<Value: Sendable>(
        _ usage: String, _ summary: String, _ makeRequest: @escaping @Sendable (Reply<Value>) -> M.Call
    ) -> EventWord {
        EventWord(usage: usage, summary: summary) { server, _ in
            "\(try await server.call(timeout: .seconds(5), makeRequest))"
        }
    }

    /// Parses argument `index` of `arguments` as an integer, or throws a usage error naming the word.
    static func integer(_ arguments: [String], at index: Int, for usage: String) throws -> Int {
        guard index < arguments.count, let value = Int(arguments[index]) else {
            throw UsageError("'\(usage)' needs a whole number", help: "usage: \(usage)")
        }
        return value
    }
}

/// A session over any machine, driven by its words.
struct WordSession<M: StateMachine>: MachineSession {
    let server: Server<M>
    let words: [EventWord<M>]
    let machineName: String

    func send(_ input: [String]) async throws -> String? {
        guard let first = input.first else { return nil }
        guard let word = words.first(where: { $0.word == first }) else {
            throw UsageError(
                "unknown event '\(first)' for \(machineName)",
                help: "Events: \(words.map(\.usage).joined(separator: ", "))")
        }
        return try await word.perform(server, Array(input.dropFirst()))
    }

    func describeState() async throws -> String { "\(try await server.getState().state)" }

    func stop() async throws { try await server.stop() }
}

extension CatalogEntry {
    /// An entry for machine `M`: its trace is printed, typed words become its messages, and `table` (when the
    /// machine is a table machine) gives its diagram and validation.
    static func machine<M: StateMachine>(
        name: String, summary: String, words: [EventWord<M>],
        table: (@Sendable () -> TransitionTable<M>)? = nil,
        make: @escaping @Sendable (Double) -> M
    ) -> CatalogEntry {
        CatalogEntry(
            name: name, summary: summary,
            events: words.map { ($0.usage, $0.summary) },
            diagram: { format in
                guard let table else { return nil }
                switch format {
                case .mermaid: return table().mermaidDiagram()
                case .dot: return table().dotDiagram(named: name)
                }
            },
            validate: {
                guard let table else { return (true, "\(name) is a handler-defined machine: nothing to validate") }
                let report = table().validate()
                return (report.isValid, report.isValid ? "\(name): valid" : report.description)
            },
            start: { runtime, speed, trace in
                let server = try runtime.start(make(speed), options: ServerOptions(observer: { observation in
                    trace(Trace.line(observation.time, observation.event))
                }))
                return WordSession(server: server, words: words, machineName: name)
            })
    }
}

enum Catalog {
    /// Every machine the tool knows, in `statem list` order.
    static let entries: [CatalogEntry] = [.trafficLight]

    static func entry(named name: String) -> CatalogEntry? { entries.first { $0.name == name } }
}

enum Trace {
    /// `t=30.000s    red → green`, the time padded so events line up.
    static func line(_ time: RuntimeInstant, _ event: some CustomStringConvertible) -> String {
        let stamp = time.description
        return stamp + String(repeating: " ", count: max(2, 13 - stamp.count)) + event.description
    }
}
