import Machines

/// `statem run <machine> [--events e1,e2,…] [--virtual] [--cycles N] [--speed N] [--duration S]`.
struct RunCommand {
    static let help = """
        statem run <machine> [options] — run a machine and print a trace line per event, transition and timeout

        OPTIONS
          --virtual          virtual time (default): timers fire instantly, in order, with virtual timestamps
          --real             real time on the default runtime (watch it live; combine with --speed)
          --speed N          divide every duration by N (real time only; default 1)
          --events e1,e2,…   send these events in order (in virtual time, each after --step of virtual time)
          --step S           virtual seconds between events and after the last one (default 10)
          --cycles N         without --events: run N minutes of virtual time, N traffic-light cycles (default 2)
          --duration S       run for S seconds of (virtual or real) time after the events (default: until --cycles)

        EXAMPLES
          statem run traffic-light --virtual --cycles 3
          statem run traffic-light --events walk,state,fault,reset
          statem run traffic-light --real --speed 10 --duration 12
        """

    var machineName: String
    var isVirtual = true
    var speed = 1.0
    var events: [String]?
    var step: Duration = .seconds(10)
    var cycles = 2
    var duration: Duration?

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        if remaining.contains("--help") || remaining.contains("-h") {
            print(Self.help)
            machineName = ""
            return
        }
        guard let name = remaining.popFirst(), !name.hasPrefix("-") else {
            throw UsageError("run needs a machine name", help: Self.help)
        }
        machineName = name
        while let option = remaining.popFirst() {
            func value() throws -> String {
                guard let value = remaining.popFirst() else { throw UsageError("\(option) needs a value", help: Self.help) }
                return value
            }
            func number() throws -> Double {
                let text = try value()
                guard let number = Double(text), number > 0, number.isFinite else {
                    throw UsageError("\(option) needs a positive number, got '\(text)'")
                }
                return number
            }
            switch option {
            case "--virtual": isVirtual = true
            case "--real": isVirtual = false
            case "--speed": speed = try number()
            case "--events": events = try value().split(separator: ",").map { String($0).trimmingSpaces }
            case "--step": step = .milliseconds(Int64(try number() * 1000))
            case "--cycles": cycles = Int(try number())
            case "--duration": duration = .milliseconds(Int64(try number() * 1000))
            default: throw UsageError("unknown option '\(option)'", help: Self.help)
            }
        }
    }

    func execute() async throws -> Int32 {
        guard !machineName.isEmpty else { return 0 }
        guard let entry = Catalog.entry(named: machineName) else {
            throw UsageError(
                "unknown machine '\(machineName)'",
                help: "Machines: \(Catalog.entries.map(\.name).joined(separator: ", "))")
        }
        if isVirtual {
            let clock = ManualClock()
            let runtime = Runtime(clock: clock)
            print("# \(entry.name) in virtual time")
            let session = try entry.start(runtime, 1, { print($0) })
            for event in events ?? [] {
                print("# event: \(event)")
                if let line = try await session.send(Self.words(event)) { print("# → \(line)") }
                clock.advance(by: step)
            }
            if let duration {
                clock.advance(by: duration)
            } else if events == nil {
                // A traffic-light cycle (red 30 s, green 25 s, yellow 5 s) is a minute.
                clock.advance(by: .seconds(60) * cycles)
            }
            try await session.stop()
        } else {
            let runtime = Runtime()
            print("# \(entry.name) in real time, speed ×\(speed)")
            let session = try entry.start(runtime, speed, { print($0) })
            for event in events ?? [] {
                print("# event: \(event)")
                if let line = try await session.send(Self.words(event)) { print("# → \(line)") }
                try await Task.sleep(for: step / speed)
            }
            try await Task.sleep(for: duration ?? .seconds(60 / speed * Double(cycles)))
            try await session.stop()
        }
        return 0
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
