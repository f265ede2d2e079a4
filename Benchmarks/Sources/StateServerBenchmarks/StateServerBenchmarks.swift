import StateServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Release-mode benchmarks of the default runtime (`Runtime()`: real clock, worker threads, timing wheel).
///
/// ```
/// swift run -c release --package-path Benchmarks                                  # full run, a table
/// swift run -c release --package-path Benchmarks StateServerBenchmarks --quick     # smaller, faster
/// swift run -c release --package-path Benchmarks StateServerBenchmarks --json      # for comparisons
/// swift run -c release --package-path Benchmarks StateServerBenchmarks --only cast_1to1,call_rtt_1
/// swift run -c release --package-path Benchmarks StateServerBenchmarks --scaling   # 1k → 1M machines, latency
/// ```
///
/// Scenario names are shared with the Erlang/OTP side of the comparison (`Benchmarks/otp/ss_bench.erl`). Progress
/// goes to standard error, the table or JSON to standard output.
@main
struct StateServerBenchmarks {
    struct Options {
        var isQuick = false
        var isJSON = false
        var isScaling = false
        var only: [String]?
        var repetitions: Int?
        var explicitScale: Double?

        /// What the machine counts of the big scenarios are multiplied by (0.1 with `--quick`).
        var scale: Double { explicitScale ?? (isQuick ? 0.1 : 1) }
    }

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--child" {
            try await Child.run(Array(arguments.dropFirst()))
            return
        }
        var options = Options()
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else {
                log("\(arguments[index - 1]) needs a value; try --help")
                exit(2)
            }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--quick": options.isQuick = true
            case "--json": options.isJSON = true
            case "--scaling": options.isScaling = true
            case "--only": options.only = value().split(separator: ",").map(String.init)
            case "--repetitions":
                guard let count = Int(value()), count > 0 else { log("--repetitions needs a positive count"); exit(2) }
                options.repetitions = count
            case "--scale":
                guard let scale = Double(value()), scale > 0, scale <= 1 else { log("--scale needs 0 < x <= 1"); exit(2) }
                options.explicitScale = scale
            case "--help", "-h":
                print("""
                usage: StateServerBenchmarks [--quick] [--json] [--scaling] [--only name,name] [--repetitions N] [--scale x]
                  --quick          shorter repetitions, fewer of them, machine counts × 0.1 (unless --scale)
                  --scaling        the scaling groups instead of the comparison scenarios
                  --only           groups or figure names, comma-separated (any of those below)
                  --repetitions N  repetitions of every scenario (otherwise per scenario: 3 to 9)
                  --scale x        multiply the machine/server counts of the big scenarios by x (0 < x <= 1)
                comparison scenarios (compared with Erlang/OTP by Benchmarks/compare-otp.sh):
                  \(Plan.core.joined(separator: ", "))
                more (run by default, no OTP counterpart): \(Plan.extra.joined(separator: ", "))
                scaling groups (--scaling): \(Plan.scaling.joined(separator: ", "))
                figures of a group: \(Plan.figureGroups.keys.sorted().map { "\($0) (\(Plan.figureGroups[$0]!))" }.joined(separator: ", "))
                """)
                return
            default:
                log("unknown argument \(arguments[index]); try --help")
                exit(2)
            }
            index += 1
        }
        let figures = try await Plan.run(options)
        if options.isJSON {
            print(Report.json(figures, machine: Machine.description(options)))
        } else {
            print(Machine.description(options).sorted { $0.key < $1.key }
                .map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
            print()
            print(Report.table(figures))
        }
    }

    static func log(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// What a child process (a fresh heap and a fresh runtime) measures: `--child <kind> <arguments>`, answering
/// with numbers separated by spaces on standard output.
enum Child {
    static func run(_ arguments: [String]) async throws {
        switch arguments.first {
        case "idle" where arguments.count == 3:
            guard let count = Int(arguments[1]), let mode = Scenarios.IdleMode(rawValue: arguments[2]) else { break }
            let (bytes, nanoseconds) = try await Scenarios.idleServers(count: count, mode: mode)
            print(bytes, nanoseconds)
            return
        case "timeouts" where arguments.count == 3:
            guard let count = Int(arguments[1]) else { break }
            let figures = try await Scenarios.timeoutLateness(count: count, herd: arguments[2] == "herd")
            print(figures.p50, figures.p99, figures.maximum, figures.nanosecondsPerMachine)
            return
        case "scaling" where arguments.count == 3:
            guard let machines = Int(arguments[1]), let events = Int(arguments[2]) else { break }
            let figures = try await Scenarios.scaling(machines: machines, events: events)
            print(figures.nanosecondsPerEvent, figures.bytesPerMachine, figures.nanosecondsPerStart)
            return
        default: break
        }
        StateServerBenchmarks.log("unknown child arguments \(arguments)")
        exit(2)
    }

    /// Runs `arguments` in a child process, `repetitions` times; returns one array of values per repetition.
    static func repeated(_ name: String, _ arguments: [String], values: Int, repetitions: Int) -> [[Double]] {
        var results: [[Double]] = []
        for repetition in 1...repetitions {
            StateServerBenchmarks.log("\(name): repetition \(repetition) of \(repetitions) in a child process")
            let output = ProcessMemory.runSelf(["--child"] + arguments) ?? ""
            let numbers = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            guard numbers.count == values, numbers.allSatisfy(\.isFinite) else {
                StateServerBenchmarks.log("\(name): the child process reported \(output.debugDescription)")
                return []
            }
            results.append(numbers)
        }
        return results
    }
}

/// Which scenarios run, how big, how often.
enum Plan {
    /// The groups compared with Erlang/OTP, in the order `compare-otp.sh` runs them.
    static let core = [
        "call_rtt_1", "call_rtt_8to1", "cast_1to1", "statem_event", "statem_event_state_timeout", "machines_100k",
        "timeouts_100k_lateness_p99", "timeouts_100k_herd_p99", "idle_1m", "postpone_1000_replay",
    ]
    /// Groups without an OTP counterpart, run by default too.
    static let extra = [
        "call_rtt_8to1_no_timeout", "idle_100k", "idle_100k_after_call", "cast_split", "event_split", "handoff_floor",
    ]
    /// The scaling groups (`--scaling`).
    static let scaling = [
        "scaling_1k", "scaling_10k", "scaling_100k", "scaling_1m",
        "call_latency_1", "call_latency_2", "call_latency_8", "call_latency_64",
    ]

    /// Figure name → the group that measures it, for groups with more than one figure or a different name.
    static let figureGroups: [String: String] = {
        var groups = [
            "machines_100k_create": "machines_100k", "machines_100k_bytes": "machines_100k",
            "idle_1m_bytes": "idle_1m", "idle_1m_start_ns": "idle_1m",
            "idle_100k_bytes": "idle_100k", "idle_100k_start_ns": "idle_100k",
            "idle_100k_after_call_bytes": "idle_100k_after_call", "idle_100k_after_call_ns": "idle_100k_after_call",
            "timeouts_100k_lateness_p50": "timeouts_100k_lateness_p99",
            "timeouts_100k_lateness_max": "timeouts_100k_lateness_p99",
            "timeouts_100k_herd_p50": "timeouts_100k_herd_p99", "timeouts_100k_herd_max": "timeouts_100k_herd_p99",
            "handoff_locked_ring": "handoff_floor", "handoff_lock_free_ring": "handoff_floor",
        ]
        for side in ["producer", "server", "both"] {
            groups["cast_split_\(side)"] = "cast_split"
            groups["event_split_\(side)"] = "event_split"
            groups["event_split_state_timeout_\(side)"] = "event_split"
        }
        for size in ["1k", "10k", "100k", "1m"] {
            for figure in ["events", "bytes", "create"] { groups["scaling_\(figure)_\(size)"] = "scaling_\(size)" }
        }
        for callers in [1, 2, 8, 64] {
            for figure in ["p50", "p99"] { groups["call_latency_\(callers)_\(figure)"] = "call_latency_\(callers)" }
        }
        return groups
    }()

    static func run(_ options: StateServerBenchmarks.Options) async throws -> [Figure] {
        var selected: [String] = []
        if let only = options.only {
            for name in only {
                let group = figureGroups[name] ?? name
                guard (core + extra + scaling).contains(group) else {
                    StateServerBenchmarks.log("unknown scenario \(name); try --help")
                    exit(2)
                }
                if !selected.contains(group) { selected.append(group) }
            }
        } else {
            selected = options.isScaling ? scaling : core + extra
        }
        var figures: [Figure] = []
        let runner = Runner(options: options)
        for group in selected { figures += try await runner.run(group) }
        return figures
    }
}

/// Runs one group of scenarios and returns its figures.
struct Runner {
    let options: StateServerBenchmarks.Options
    let runtime = Runtime()

    init(options: StateServerBenchmarks.Options) { self.options = options }

    func repetitions(_ full: Int, _ quick: Int) -> Int { options.repetitions ?? (options.isQuick ? quick : full) }

    /// `count` scaled by `--scale` (or `--quick`).
    func scaled(_ count: Int) -> Int { Swift.max(1, Int((Double(count) * options.scale).rounded())) }

    func run(_ group: String) async throws -> [Figure] {
        switch group {
        case "call_rtt_1":
            return try await timed(
                group, "one caller, idle server, call round trip (default 5 s call timeout)", unit: "ns/call",
                repetitions: repetitions(9, 5)
            ) { try await Scenarios.callRoundTrip(runtime, calls: $0) }
        case "call_rtt_8to1":
            return try await timed(
                group, "8 concurrent callers (tasks), one server, wall time per call (default call timeout)",
                unit: "ns/call", repetitions: repetitions(7, 3), granularity: 8
            ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: $0 / 8, timeout: .seconds(5)) }
        case "call_rtt_8to1_no_timeout":
            return try await timed(
                group, "as call_rtt_8to1 with call(timeout: nil): no caller timer armed", unit: "ns/call",
                repetitions: repetitions(7, 3), granularity: 8
            ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: $0 / 8, timeout: nil) }
        case "cast_1to1":
            return try await timed(
                group, "one producer, one server, casts then a final call: time per cast, drain included",
                unit: "ns/message", repetitions: repetitions(9, 5)
            ) { try await Scenarios.castThroughput(runtime, casts: $0) }
        case "statem_event":
            return try await timed(
                group, "a → b → c → a ring, one state change per cast, no timeout: time per event",
                unit: "ns/event", repetitions: repetitions(9, 5)
            ) { try await Scenarios.ringEvents(runtime, events: $0, stateTimeout: nil) }
        case "statem_event_state_timeout":
            return try await timed(
                group,
                "the same ring re-arming a 1 s state timeout on every transition (the old one cancelled): time per event",
                unit: "ns/event", repetitions: repetitions(9, 5)
            ) { try await Scenarios.ringEvents(runtime, events: $0, stateTimeout: .seconds(1)) }
        case "postpone_1000_replay":
            let rounds = scaled(200)
            let count = repetitions(7, 3)
            StateServerBenchmarks.log("\(group): \(count) repetitions of \(rounds) rounds")
            _ = try await Scenarios.postponeReplay(runtime, events: 1_000, rounds: Swift.max(1, rounds / 4))
            var samples: [Double] = []
            for _ in 0..<count { samples.append(try await Scenarios.postponeReplay(runtime, events: 1_000, rounds: rounds)) }
            return [Figure(
                scenario: group,
                summary: "1,000 casts postponed while locked, replayed after an unlock cast: time from the unlock to "
                    + "the reply of a call queued behind them, per event (\(rounds) rounds)",
                unit: "ns/event", operations: 1_000 * rounds, samples: samples, isTime: true)]
        case "machines_100k":
            return memory(
                servers: scaled(100_000), mode: .timeout, repetitions: repetitions(5, 3),
                bytes: ("machines_100k_bytes", "resident memory per machine with a live 1 s state timeout armed at "
                    + "start, 100,000 held, measured before any fires"),
                time: ("machines_100k_create", "time to start one of those machines, its timeout armed"),
                unit: "machine")
        case "idle_1m":
            return memory(
                servers: scaled(1_000_000), mode: .idle, repetitions: repetitions(3, 1),
                bytes: ("idle_1m_bytes", "resident memory per idle Counter server, 1,000,000 started and held"),
                time: ("idle_1m_start_ns", "time to start one of those servers"), unit: "server")
        case "idle_100k":
            return memory(
                servers: scaled(100_000), mode: .idle, repetitions: repetitions(5, 3),
                bytes: ("idle_100k_bytes", "resident memory per idle Counter server, 100,000 started and held"),
                time: ("idle_100k_start_ns", "time to start one of those servers (runtime.start)"), unit: "server")
        case "idle_100k_after_call":
            return memory(
                servers: scaled(100_000), mode: .afterCall, repetitions: repetitions(5, 3),
                bytes: ("idle_100k_after_call_bytes",
                        "resident memory per idle Counter server that has answered one call, 100,000 held"),
                time: ("idle_100k_after_call_ns", "time to start one of those servers and make its first call"),
                unit: "server")
        case "cast_split":
            return try await split(group, "the Counter of cast_1to1 (with a hold cast)", unit: "ns/message") {
                try await Scenarios.split(
                    runtime, count: $0, make: { HeldCounter() }, hold: { .hold($0) }, message: .add(1),
                    finish: { .count($0) })
            }
        case "event_split":
            let plain = try await split(group, "the ring of statem_event (with a hold cast)", unit: "ns/event") {
                try await Scenarios.split(
                    runtime, count: $0, make: { HeldRing(stateTimeout: nil) }, hold: { .hold($0) }, message: .step,
                    finish: { .steps($0) })
            }
            let timed = try await split(
                "event_split_state_timeout", "the ring of statem_event_state_timeout (with a hold cast)",
                unit: "ns/event"
            ) {
                try await Scenarios.split(
                    runtime, count: $0, make: { HeldRing(stateTimeout: .seconds(1)) }, hold: { .hold($0) },
                    message: .step, finish: { .steps($0) })
            }
            return plain + timed
        case "handoff_floor":
            let count = scaled(10_000_000)
            let runs = repetitions(5, 3)
            StateServerBenchmarks.log("\(group): \(runs) repetitions of \(count) messages each way")
            var locked: [Double] = []
            var lockFree: [Double] = []
            for _ in 0..<runs {
                locked.append(HandoffFloor.lockedRing(count: count))
                lockFree.append(HandoffFloor.lockFreeRing(count: count))
            }
            return [
                Figure(
                    scenario: "handoff_locked_ring",
                    summary: "one thread passing integers to another through a ring under a spin lock (taken with a "
                        + "compare-and-swap, given back with a store; the consumer takes up to 16 per lock)",
                    unit: "ns/message", operations: count, samples: locked, isTime: true),
                Figure(
                    scenario: "handoff_lock_free_ring",
                    summary: "the same through a single-producer ring without a lock (positions published with "
                        + "release stores)",
                    unit: "ns/message", operations: count, samples: lockFree, isTime: true),
            ]
        case "timeouts_100k_lateness_p99", "timeouts_100k_herd_p99":
            let herd = group == "timeouts_100k_herd_p99"
            let prefix = herd ? "timeouts_100k_herd" : "timeouts_100k_lateness"
            let count = scaled(100_000)
            let runs = Child.repeated(
                group, ["timeouts", "\(count)", herd ? "herd" : "spread"], values: 4, repetitions: repetitions(5, 3))
            let shape = herd
                ? "\(count) machines whose absolute state timeouts share one deadline 2 s after the start"
                : "\(count) machines with absolute state timeouts spread evenly over one second, from 2 s after the start"
            return [
                Figure(scenario: "\(prefix)_p99", summary: shape + ": 99th percentile of lateness (deadline → the "
                           + "machine's handler reading the clock)", unit: "us", operations: count,
                       samples: runs.map { $0[1] }, isTime: false),
                Figure(scenario: "\(prefix)_p50", summary: "the same, median lateness", unit: "us", operations: count,
                       samples: runs.map { $0[0] }, isTime: false),
                Figure(scenario: "\(prefix)_max", summary: "the same, largest lateness", unit: "us", operations: count,
                       samples: runs.map { $0[2] }, isTime: false),
            ]
        default:
            if group.hasPrefix("scaling_") { return scalingFigures(group) }
            if group.hasPrefix("call_latency_"), let callers = Int(group.dropFirst("call_latency_".count)) {
                return try await latency(callers: callers)
            }
            StateServerBenchmarks.log("unknown group \(group)")
            exit(2)
        }
    }

    /// Operations per repetition are sized from a calibration run (which doubles as the warm-up) so that each
    /// repetition lasts about `target`, whatever the per-operation cost: the figures are per operation.
    func timed(
        _ name: String, _ summary: String, unit: String, repetitions count: Int, granularity: Int = 1,
        _ body: (Int) async throws -> Double
    ) async throws -> [Figure] {
        let target = options.isQuick ? 0.08e9 : 0.4e9
        let estimate = try await body(20_000 / granularity * granularity)
        let operations = roundedCount(target / estimate, granularity: granularity)
        StateServerBenchmarks.log(
            "\(name): \(count) repetitions of \(operations) (calibration: \(Report.format(estimate)) \(unit))")
        var samples: [Double] = []
        for _ in 0..<count { samples.append(try await body(operations)) }
        return [Figure(scenario: name, summary: summary, unit: unit, operations: operations, samples: samples, isTime: true)]
    }

    /// The three figures of a split cast stream (producer alone, server alone, both at once), `count` messages per
    /// repetition (2,000,000, scaled).
    func split(
        _ name: String, _ subject: String, unit: String,
        _ body: (Int) async throws -> (producer: Double, server: Double, both: Double)
    ) async throws -> [Figure] {
        let count = scaled(2_000_000)
        let runs = repetitions(5, 3)
        StateServerBenchmarks.log("\(name): \(runs) repetitions of \(count) messages")
        _ = try await body(Swift.max(1, count / 10))
        var samples: [(producer: Double, server: Double, both: Double)] = []
        for _ in 0..<runs { samples.append(try await body(count)) }
        return [
            Figure(
                scenario: "\(name)_producer",
                summary: "\(subject): the producer alone, casting to a server held in its handler",
                unit: unit, operations: count, samples: samples.map(\.producer), isTime: true),
            Figure(
                scenario: "\(name)_server",
                summary: "the server alone, draining those messages once released (to the reply of a call behind them)",
                unit: unit, operations: count, samples: samples.map(\.server), isTime: true),
            Figure(
                scenario: "\(name)_both",
                summary: "both at once: casting to a fresh server while it drains, then a call (as the compared scenario)",
                unit: unit, operations: count, samples: samples.map(\.both), isTime: true),
        ]
    }

    /// Each repetition in a child process; the memory and the time figure.
    func memory(
        servers: Int, mode: Scenarios.IdleMode, repetitions count: Int, bytes: (name: String, summary: String),
        time: (name: String, summary: String), unit: String
    ) -> [Figure] {
        let runs = Child.repeated(bytes.name, ["idle", "\(servers)", mode.rawValue], values: 2, repetitions: count)
        return [
            Figure(
                scenario: bytes.name, summary: bytes.summary + " (the 8 B handle in the array included)",
                unit: "bytes/\(unit)", operations: servers, samples: runs.map { $0[0] }, isTime: false),
            Figure(
                scenario: time.name, summary: time.summary, unit: "ns/\(unit)", operations: servers,
                samples: runs.map { $0[1] }, isTime: true),
        ]
    }

    func scalingFigures(_ group: String) -> [Figure] {
        let sizes = ["1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000]
        let size = String(group.dropFirst("scaling_".count))
        guard let nominal = sizes[size] else {
            StateServerBenchmarks.log("unknown group \(group)")
            exit(2)
        }
        let machines = scaled(nominal)
        let events = Swift.max(scaled(1_000_000), 2 * machines)
        let runs = Child.repeated(
            group, ["scaling", "\(machines)", "\(events)"], values: 3, repetitions: repetitions(3, 1))
        return [
            Figure(
                scenario: "scaling_events_\(size)",
                summary: "\(events) casts round-robin over \(machines) three-state machines, each a state change "
                    + "re-arming a 10 s state timeout: time per event, until all were handled",
                unit: "ns/event", operations: events, samples: runs.map { $0[0] }, isTime: true),
            Figure(
                scenario: "scaling_bytes_\(size)",
                summary: "resident memory per machine of those \(machines), each with its state timeout armed",
                unit: "bytes/machine", operations: machines, samples: runs.map { $0[1] }, isTime: false),
            Figure(
                scenario: "scaling_create_\(size)", summary: "time to start one of those machines",
                unit: "ns/machine", operations: machines, samples: runs.map { $0[2] }, isTime: true),
        ]
    }

    func latency(callers: Int) async throws -> [Figure] {
        let calls = Swift.max(callers * 100, scaled(200_000))
        let count = repetitions(5, 3)
        StateServerBenchmarks.log("call_latency_\(callers): \(count) repetitions of \(calls) calls")
        _ = try await Scenarios.callLatency(runtime, callers: callers, calls: calls / 4)  // warm-up
        var p50: [Double] = []
        var p99: [Double] = []
        for _ in 0..<count {
            let figures = try await Scenarios.callLatency(runtime, callers: callers, calls: calls)
            p50.append(figures.p50)
            p99.append(figures.p99)
        }
        let summary = "\(callers) concurrent caller(s) of one Counter server, each call timed on its own"
        return [
            Figure(scenario: "call_latency_\(callers)_p50", summary: summary + ": median", unit: "ns",
                   operations: calls, samples: p50, isTime: false),
            Figure(scenario: "call_latency_\(callers)_p99", summary: summary + ": 99th percentile", unit: "ns",
                   operations: calls, samples: p99, isTime: false),
        ]
    }
}

/// `value` rounded to one or two significant digits (10,000, 25,000, 400,000...), a multiple of `granularity`,
/// between 10,000 and 10,000,000.
func roundedCount(_ value: Double, granularity: Int) -> Int {
    let clamped = Swift.min(Swift.max(value, 10_000), 10_000_000)
    var scale = 1.0
    while clamped >= scale * 100 { scale *= 10 }
    let rounded = Int((clamped / scale).rounded() * scale)
    return Swift.max(granularity, rounded / granularity * granularity)
}

/// Where the figures were measured.
enum Machine {
    static func description(_ options: StateServerBenchmarks.Options) -> [String: String] {
        var result = [
            "processors": "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))",
            "build": compilerDescription,
            "mode": options.isQuick ? "quick" : "full",
            "scale": "\(options.scale)",
        ]
        if let model = cpuModel { result["cpu"] = model }
        return result
    }

    static var compilerDescription: String {
        #if compiler(>=6.3)
        let compiler = "Swift 6.3 or later"
        #else
        let compiler = "Swift before 6.3"
        #endif
        #if DEBUG
        return compiler + ", debug build (figures meaningless)"
        #else
        return compiler + ", optimized build"
        #endif
    }

    static var cpuModel: String? {
        guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard line.hasPrefix("model name"), let colon = line.firstIndex(of: ":") else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: " \t\n")
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingCharacters(in characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
