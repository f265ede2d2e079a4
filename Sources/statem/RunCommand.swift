import Machines

/// `statem run <machine> [--events e1,e2,…] [--virtual | --real] [--speed N] [--cycles N] [--duration S]`.
struct RunCommand {
    static let help = """
        statem run <machine> [options] — run a machine and print a trace line per event, transition and timeout

        Without --events, --cycles or --duration, and with standard input a terminal, a pipe or a file, the run
        is INTERACTIVE: type an event ('walk', 'coin 25') and see what happens; the prompt shows the state.
        Commands in a session:
          state              the current state and data
          time               the time on the machine's clock
          advance [D]        virtual time: move the clock by D (5, 5s, 500ms, 2m), or to the next timer
          help               the machine's events and these commands
          quit               stop the machine (also: exit, end of input)

        OPTIONS
          --virtual          virtual time (the default): timers fire when time is advanced, with virtual timestamps
          --real             real time: timers fire on their own (combine with --speed to watch it faster)
          --speed N          real time with every duration divided by N (implies --real)
          --events e1,e2,…   send these events in order, not interactively; arguments as 'coin:25'
          --step D           the machine's time between events, and after the last one (default 10s;
                             10, 2.5s, 500ms, 2m)
          --cycles N         not interactively: run for N minutes of the machine's time (N traffic-light
                             cycles), then stop
          --duration D       not interactively: run for D after the events, then stop (in real time, D on
                             the wall clock: '--speed 10 --duration 12' shows two traffic-light cycles)

        EXAMPLES
          statem run traffic-light --virtual --cycles 3
          statem run traffic-light --events walk,state,fault,reset
          echo -e "walk\\nadvance 30\\nstate\\nquit" | statem run traffic-light
          statem run traffic-light --speed 10
        """

    var machineName: String
    var isVirtual = true
    var speed = 1.0
    var events: [String]?
    var step: Duration = .seconds(10)
    var cycles: Int?
    var duration: Duration?

    /// Parses the arguments after `run`.
    init(parsing list: [String]) throws {
        var arguments = Arguments(list, command: "run")
        var name: String?
        var clockChoice: String?
        var speedChoice: Double?
        while let argument = arguments.next() {
            switch argument {
            case "--virtual", "--real":
                if let clockChoice, clockChoice != argument {
                    throw UsageError("choose --virtual or --real, not both", help: arguments.helpHint)
                }
                clockChoice = argument
            case "--speed": speedChoice = try arguments.number(of: argument, in: 0.001...1_000_000)
            case "--events":
                events = try arguments.value(of: argument).split(separator: ",").map { String($0).trimmingSpaces }
                    .filter { !$0.isEmpty }
            case "--step": step = try arguments.duration(of: argument)
            case "--cycles": cycles = try arguments.integer(of: argument, in: 1...1_000_000)
            case "--duration": duration = try arguments.duration(of: argument)
            case let operand where name == nil && !operand.hasPrefix("-"): name = operand
            default: throw arguments.unknown(argument)
            }
        }
        guard let name else { throw UsageError("run needs a machine name", help: arguments.helpHint) }
        if speedChoice != nil && clockChoice == "--virtual" {
            throw UsageError("--speed applies to real time only: drop --virtual", help: arguments.helpHint)
        }
        machineName = name
        isVirtual = !(clockChoice == "--real" || speedChoice != nil)
        speed = speedChoice ?? 1
    }

    static func run(_ arguments: [String], console: Console, machines: [CatalogEntry]) async throws -> Int32 {
        if Arguments(arguments, command: "run").wantsHelp {
            console.print(help)
            return 0
        }
        let command = try RunCommand(parsing: arguments)
        return try await command.execute(entry: machines.entry(named: command.machineName), console: console)
    }

    /// Whether the run reads its events from the console's input.
    func isInteractive(on console: Console) -> Bool {
        events == nil && cycles == nil && duration == nil && console.input != nil
    }

    func execute(entry: CatalogEntry, console: Console) async throws -> Int32 {
        // Check every event word before starting, so a typo costs no half-run trace.
        for event in events ?? [] {
            guard let word = Self.words(event).first, entry.eventWords.contains(word) else {
                throw entry.unknownEvent(Self.words(event).first ?? event)
            }
        }
        let clock = isVirtual ? ManualClock() : nil
        let runtime = clock.map { Runtime(clock: $0) } ?? Runtime(reporter: nil)
        let timeName = isVirtual ? "virtual time" : speed == 1 ? "real time" : "real time, speed ×\(Self.format(speed))"
        if let input = console.input, isInteractive(on: console) {
            console.print("# \(entry.name) in \(timeName): type an event or a command ('help' lists them, 'quit' ends)")
            return try await InteractiveSession(
                entry: entry, runtime: runtime, clock: clock, speed: isVirtual ? 1 : speed, console: console,
                input: input
            ).run()
        }
        console.print("# \(entry.name) in \(timeName)")
        let session = try entry.start(runtime, isVirtual ? 1 : speed, console.print)
        for event in events ?? [] {
            console.print("# event: \(event)")
            if let line = try await session.send(Self.words(event)) { console.print("# → \(line)") }
            if let clock {
                await runtime.waitForEffects()
                if let reason = session.exitReason { return Self.ended(entry, reason, console) }
                clock.advance(by: step)
            } else {
                try await Task.sleep(for: step / speed)
            }
            if let reason = session.exitReason { return Self.ended(entry, reason, console) }
        }
        // A traffic-light cycle (red 30 s, green 25 s, yellow 5 s) is a minute of the machine's time.
        let cyclesTime: Duration = events == nil || cycles != nil ? .seconds(60) * (cycles ?? 2) : .zero
        if let clock {
            clock.advance(by: duration ?? cyclesTime)
        } else {
            try await Task.sleep(for: duration ?? cyclesTime / speed)
        }
        if let reason = session.exitReason { return Self.ended(entry, reason, console) }
        try await session.stop()
        return 0
    }

    /// Reports that the machine ended by itself; a failure is exit status 1.
    static func ended(_ entry: CatalogEntry, _ reason: ExitReason, _ console: Console) -> Int32 {
        console.print("# \(entry.name) has ended: \(reason)")
        return reason.isNormal ? 0 : 1
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

extension RunCommand {
    /// `coin 25` → `["coin", "25"]`; in `--events`, arguments are written `coin:25`.
    static func words(_ event: String) -> [String] {
        event.split(whereSeparator: { $0 == " " || $0 == ":" }).map(String.init)
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
