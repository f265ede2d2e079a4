import StateServer
import Synchronization
import Testing
@testable import statem

/// What one `statem` command did: its exit status and what it wrote.
struct StatemResult {
    let status: Int32
    let output: String
    let errors: String

    /// The output's lines.
    var lines: [String] {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// Runs `statem` with `arguments` in this process, its output recorded; `input` (lines separated by newlines)
/// is the session input, as if piped in (`nil`: no input, as with `< /dev/null`).
func statem(
    _ arguments: [String], input: String? = nil, machines: [CatalogEntry] = Catalog.entries
) async -> StatemResult {
    let recorded = Locked((output: "", errors: ""))
    let console = Console(
        write: { text in recorded.withLock { $0.output += text } },
        writeError: { text in recorded.withLock { $0.errors += text } },
        input: input.map(ScriptedInput.init),
        isInputTerminal: false)
    let status = await StatemCommand.run(arguments, console: console, machines: machines)
    return recorded.withLock { StatemResult(status: status, output: $0.output, errors: $0.errors) }
}

/// Session input from a string, one line at a time.
final class ScriptedInput: LineSource {
    private let lines: Locked<[String]>

    init(_ text: String) {
        lines = Locked(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    func nextLine() async -> String? {
        lines.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}

/// Expects `lines` to contain `expected` in this order (other lines may come between).
func expectLines(
    _ lines: [String], containInOrder expected: [String], sourceLocation: SourceLocation = #_sourceLocation
) {
    var remaining = expected[...]
    for line in lines where line == remaining.first { remaining.removeFirst() }
    if let missing = remaining.first {
        Issue.record(
            "missing line (in order): \(missing)\n  in output:\n\(lines.joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    }
}

// MARK: Machines for the command tests

/// A pedestrian crossing as a table: the button starts walk, which flashes and ends on state timeouts.
struct PedestrianCrossing: TableMachine {
    enum State: Hashable, Sendable { case dontWalk, walk, flashing }
    enum Cast: Hashable, Sendable { case button, breakDown }
    struct Broken: Error, CustomStringConvertible { var description: String { "broken" } }

    var table: TransitionTable<Self> {
        When(.dontWalk) { On(cast: .button, goto: .walk) }
        When(.walk, timeout: .seconds(20)) { On(.stateTimeout, goto: .flashing) }
        When(.flashing, timeout: .seconds(5)) { On(.stateTimeout, goto: .dontWalk) }
        Always { On(cast: .breakDown).stop(.error(Broken())) }
    }
}

/// A table with problems: `jammed` is unreachable and has no way out.
struct StatemJammedDoor: TableMachine {
    enum State: Hashable, Sendable { case closed, open, jammed }
    enum Cast: Hashable, Sendable { case push, pull }

    var table: TransitionTable<Self> {
        When(.closed) { On(cast: .push, goto: .open) }
        When(.open) { On(cast: .pull, goto: .closed) }
        When(.jammed) {}
    }
}

/// A handler-defined doorbell whose `ring` call is answered 3 seconds later: a deferred reply.
struct StatemDoorbell: StateMachine {
    enum State: Hashable, Sendable { case quiet, ringing }
    enum Call: Sendable { case ring(Reply<String>) }
    typealias Data = Reply<String>?

    func start() -> Start<Self> { .ok(.quiet, data: nil) }

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch (state, event) {
        case (.quiet, .call(.ring(let reply))):
            data = reply
            return .goto(.ringing, .stateTimeout(.seconds(3)))
        case (.ringing, .stateTimeout):
            defer { data = nil }
            return .goto(.quiet, actions: data.map { [.reply($0, "ding dong")] } ?? [])
        default:
            return .keep
        }
    }
}

extension CatalogEntry {
    static let crossing = CatalogEntry.machine(
        name: "crossing", summary: "a pedestrian crossing (a table)",
        words: [
            .cast("button", "press the button", .button),
            .cast("break", "break the light: it stops with an error", .breakDown),
        ],
        make: { _ in PedestrianCrossing() })

    static let jammedDoor = CatalogEntry.machine(
        name: "jammed-door", summary: "a door with an invalid table", words: [.cast("push", "push", .push)],
        make: { _ in StatemJammedDoor() })

    static let doorbell = CatalogEntry.machine(
        name: "doorbell", summary: "a handler-defined doorbell",
        words: [.call("ring", "ring: answered 3 s later") { .ring($0) }],
        make: { _ in StatemDoorbell() })
}

/// The catalog of the command tests.
let statemTestMachines: [CatalogEntry] = [.crossing, .jammedDoor, .doorbell]
