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

    /// The words a user can type: the first word of each event's usage.
    var eventWords: [String] { events.map { firstWord(of: $0.usage) } }

    /// Whether the machine is a table machine, which can be drawn and validated.
    var hasTable: Bool { diagram(.mermaid) != nil }

    /// The error for a word that is not one of the machine's events, listing them.
    func unknownEvent(_ word: String) -> UsageError {
        UsageError("unknown event '\(word)' for \(name)", help: "Events: \(events.map(\.usage).joined(separator: ", "))")
    }
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
    /// The current data, or `nil` when the machine has none.
    func describeData() async throws -> String?
    /// Why the machine ended, or `nil` while it runs.
    var exitReason: ExitReason? { get }
    /// Stops the machine.
    func stop() async throws
}

/// One word a user can type for machine `M`: its usage, what it does, and how it becomes a message.
struct EventWord<M: StateMachine>: Sendable {
    let usage: String
    let summary: String
    let perform: @Sendable (Server<M>, [String]) async throws -> String?

    /// The word itself: the first token of the usage.
    var word: String { firstWord(of: usage) }

    /// A word that sends a cast.
    static func cast(_ usage: String, _ summary: String, _ message: M.Cast) -> EventWord {
        EventWord(usage: usage, summary: summary) { server, arguments in
            try expectNoArguments(arguments, for: usage)
            try server.cast(message)
            return nil
        }
    }

    /// A word that sends a call and prints its reply. In virtual time a reply that the machine defers is not
    /// waited for (time would never move): the trace shows it when it comes.
    static func call<Value: Sendable>(
        _ usage: String, _ summary: String, _ makeRequest: @escaping @Sendable (Reply<Value>) -> M.Call
    ) -> EventWord {
        EventWord(usage: usage, summary: summary) { server, arguments in
            try expectNoArguments(arguments, for: usage)
            guard server.runtime.isVirtual else {
                return "\(try await server.call(timeout: .seconds(5), makeRequest))"
            }
            switch server.request(timeout: .seconds(5), makeRequest).result {
            case .success(let value)?: return "\(value)"
            case .failure(let error)?: throw error
            case nil: return "no reply yet: the machine answers later (advance time; the trace shows the reply)"
            }
        }
    }

    /// Parses argument `index` of `arguments` as an integer, or throws a usage error naming the word.
    static func integer(_ arguments: [String], at index: Int, for usage: String) throws -> Int {
        guard index < arguments.count, let value = Int(arguments[index]) else {
            throw UsageError("'\(usage)' needs a whole number", help: "usage: \(usage)")
        }
        return value
    }

    /// Throws a usage error when a word without arguments is given some.
    static func expectNoArguments(_ arguments: [String], for usage: String) throws {
        guard arguments.isEmpty else {
            throw UsageError("'\(firstWord(of: usage))' takes no arguments", help: "usage: \(usage)")
        }
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

    func describeData() async throws -> String? {
        M.Data.self == Void.self ? nil : "\(try await server.getState().data)"
    }

    var exitReason: ExitReason? { server.exitReason }

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
                guard let table else {
                    return (true, "\(name): a handler-defined machine (no transition table): nothing to validate")
                }
                let transitions = table()
                let report = transitions.validate()
                guard report.isValid else { return (false, report.description) }
                let states = transitions.states.map { "\($0)" }.joined(separator: ", ")
                return (true, "\(name): the transition table is valid (states: \(states))")
            },
            start: { runtime, speed, trace in
                let server = try runtime.start(make(speed), options: ServerOptions(observer: { observation in
                    trace(Trace.line(observation.time, observation.event))
                }))
                return WordSession(server: server, words: words, machineName: name)
            })
    }

    /// An entry for table machine `M`: as above, with the diagram and validation of the table of the machine
    /// made at speed 1 unless `table` is given.
    static func machine<M: TableMachine>(
        name: String, summary: String, words: [EventWord<M>],
        make: @escaping @Sendable (Double) -> M
    ) -> CatalogEntry {
        machine(name: name, summary: summary, words: words, table: { make(1).table }, make: make)
    }
}

enum Catalog {
    /// Every machine the tool knows, in `statem list` order.
    static let entries: [CatalogEntry] = [
        .trafficLight, .vendingMachine, .circuitBreaker, .sessionLifecycle, .rateLimiter, .jobQueue,
    ]
}

extension [CatalogEntry] {
    /// The entry called `name`, or a usage error listing the machines.
    func entry(named name: String) throws -> CatalogEntry {
        guard let entry = first(where: { $0.name == name }) else {
            throw UsageError("unknown machine '\(name)'", help: "Machines: \(map(\.name).joined(separator: ", "))")
        }
        return entry
    }
}

/// The word of a usage: `coin` for `coin <cents>`.
func firstWord(of usage: String) -> String { String(usage.split(separator: " ").first ?? "") }

enum Trace {
    /// `t=30.000s    red → green`, the time padded so events line up.
    static func line(_ time: RuntimeInstant, _ event: some CustomStringConvertible) -> String {
        let stamp = time.description
        return stamp + String(repeating: " ", count: max(2, 13 - stamp.count)) + event.description
    }
}

/// In real time, waits a moment (up to 200 ms) for a reply the machine may give later, so its trace line comes
/// before the next prompt; in virtual time the reply shows when time is advanced.
func awaitBriefly<Value: Sendable>(_ reply: PendingReply<Value>, on runtime: Runtime) async {
    guard !runtime.isVirtual else { return }
    _ = try? await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await reply.value() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(200))
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
