import Machines
import Synchronization

/// An interactive run: each line read is an event for the machine (`walk`, `coin 25`) or a command (`state`,
/// `time`, `advance 5`, `help`, `quit`); the trace shows what happens, and the prompt shows the state.
///
/// In virtual time nothing happens between lines: `advance` moves the clock, firing the timers due on the way,
/// and effects finish before the next prompt. In real time the timers fire on their own while the session waits
/// for a line (the console reads its input off the caller's task), and their trace lines appear as they fire.
struct InteractiveSession {
    let entry: CatalogEntry
    let session: any MachineSession
    let runtime: Runtime
    /// The clock in virtual time; `nil` in real time.
    let clock: ManualClock?
    let console: Console
    let input: any LineSource
    let prompt: PromptLine

    /// Starts `entry`'s machine on `runtime` (durations divided by `speed`) for a session reading `input`.
    init(
        entry: CatalogEntry, runtime: Runtime, clock: ManualClock?, speed: Double, console: Console,
        input: any LineSource
    ) throws {
        let prompt = PromptLine()
        self.entry = entry
        self.runtime = runtime
        self.clock = clock
        self.console = console
        self.input = input
        self.prompt = prompt
        // A trace line that comes while a prompt waits on a terminal (a timer in real time) starts a new line.
        session = try entry.start(runtime, speed) { line in
            if prompt.close() { console.write("\n") }
            console.print(line)
        }
    }

    /// The session's own commands; a machine event with the same word is hidden by them.
    static let commands: [(usage: String, summary: String)] = [
        ("state", "show the current state and data"),
        ("time", "show the time on the machine's clock"),
        ("advance [D]", "virtual time: move the clock by D (5, 5s, 500ms, 2m), or to the next timer"),
        ("help", "this list"),
        ("quit", "stop the machine and end the session (also: exit, end of input)"),
    ]

    /// Reads and performs lines until `quit` or the end of the input, then stops the machine. Returns 0, or 1
    /// when the machine ended with an error.
    func run() async -> Int32 {
        reading: while session.exitReason == nil {
            let promptText = "\((try? await session.describeState()) ?? "?")> "
            if console.isInputTerminal {
                console.write(promptText)
                prompt.open()
            }
            let line = await input.nextLine()
            prompt.close()
            guard let line else {
                if console.isInputTerminal { console.write("\n") }
                break
            }
            if !console.isInputTerminal { console.print(promptText + line) }
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            switch words.first {
            case nil: continue
            case "quit", "exit": break reading
            case "help", "?": showHelp()
            case "state": await showState()
            case "time": console.print("# now \(runtime.now)")
            case "advance": advance(words.dropFirst())
            case let word?:
                if entry.eventWords.contains(word) {
                    await send(words)
                } else {
                    console.print("error: unknown event or command '\(word)'")
                    console.print("Events: \(events.map(\.usage).joined(separator: ", "))")
                    console.print("Commands: \(Self.commands.map(\.usage).joined(separator: ", "))")
                }
            }
            if clock != nil { await runtime.waitForEffects() }
        }
        if let reason = session.exitReason { return RunCommand.ended(entry, reason, console) }
        do {
            try await session.stop()
        } catch {
            console.print("error: \(error)")
        }
        return 0
    }

    /// The machine's events that the session's commands do not hide.
    private var events: [(usage: String, summary: String)] {
        let commandWords = Self.commands.map { firstWord(of: $0.usage) } + ["exit", "?"]
        return entry.events.filter { !commandWords.contains(firstWord(of: $0.usage)) }
    }

    private func send(_ words: [String]) async {
        do {
            if let reply = try await session.send(words) { console.print("# → \(reply)") }
        } catch let error as UsageError {
            console.print("error: \(error.message)")
            if let help = error.help { console.print(help) }
        } catch {
            console.print("error: \(error)")
        }
    }

    private func showHelp() {
        let rows = events + Self.commands
        let width = (rows.map(\.usage.count).max() ?? 0) + 2
        console.print("Events of \(entry.name):")
        for event in events { console.print("  " + padded(event.usage, to: width) + event.summary) }
        console.print("Commands:")
        for command in Self.commands { console.print("  " + padded(command.usage, to: width) + command.summary) }
    }

    private func showState() async {
        do {
            let state = try await session.describeState()
            if let data = try await session.describeData() {
                console.print("# state: \(state), data: \(data)")
            } else {
                console.print("# state: \(state)")
            }
        } catch {
            console.print("error: \(error)")
        }
    }

    private func advance(_ arguments: ArraySlice<String>) {
        guard let clock else {
            console.print("error: 'advance' moves virtual time; in real time the timers fire on their own")
            return
        }
        guard arguments.count <= 1 else {
            console.print("error: 'advance' takes one duration: advance 5, advance 500ms, advance 2m")
            return
        }
        if let text = arguments.first {
            guard let duration = Duration(typed: text) else {
                console.print("error: '\(text)' is not a duration: advance 5, advance 500ms, advance 2m")
                return
            }
            clock.advance(by: duration)
        } else {
            guard let deadline = clock.nextDeadline else {
                console.print("# no timer is armed: nothing to advance to")
                return
            }
            clock.advance(to: deadline)
        }
        console.print("# now \(runtime.now)")
    }
}

/// Whether a prompt is waiting on the terminal's current line.
final class PromptLine: Sendable {
    private let isOpen = Locked(false)

    func open() { isOpen.withLock { $0 = true } }

    /// Marks the prompt line as ended; returns whether it was open.
    @discardableResult
    func close() -> Bool { isOpen.withLock { isOpen in defer { isOpen = false }; return isOpen } }
}
