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
/// ```
///
/// Scenario names are shared with the Erlang/OTP side of the comparison. Progress goes to standard error, the
/// table or JSON to standard output.
@main
struct StateServerBenchmarks {
    struct Options {
        var isQuick = false
        var isJSON = false
        var only: Set<String>?
        var repetitions: Int?
    }

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--idle-child", arguments.count == 3, let count = Int(arguments[1]),
            let mode = Scenarios.IdleMode(rawValue: arguments[2])
        {
            let (bytes, nanoseconds) = try await Scenarios.idleServers(count: count, mode: mode)
            print(bytes, nanoseconds)
            return
        }
        var options = Options()
        var index = 0
        while index < arguments.count {
            switch arguments[index] {
            case "--quick": options.isQuick = true
            case "--json": options.isJSON = true
            case "--only" where index + 1 < arguments.count:
                index += 1
                options.only = Set(arguments[index].split(separator: ",").map(String.init))
            case "--repetitions" where index + 1 < arguments.count:
                index += 1
                options.repetitions = Int(arguments[index])
            case "--help", "-h":
                print("usage: StateServerBenchmarks [--quick] [--json] [--only name,name] [--repetitions N]")
                print("scenarios: \(Plan.names.joined(separator: ", "))")
                return
            default:
                log("unknown argument \(arguments[index]); try --help")
                exit(2)
            }
            index += 1
        }
        let figures = try await Plan.run(options)
        if options.isJSON {
            print(Report.json(figures, machine: Machine.description(isQuick: options.isQuick)))
        } else {
            print(Machine.description(isQuick: options.isQuick).sorted { $0.key < $1.key }
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

/// Which scenarios run, how big, how often.
enum Plan {
    static let names = memoryScenarios.map(\.name) + [
        "call_rtt_1", "call_rtt_8to1", "call_rtt_8to1_no_timeout", "cast_1to1", "statem_event",
        "statem_event_state_timeout",
    ]

    struct MemoryScenario {
        var name: String
        var timeName: String
        var servers: Int
        var mode: Scenarios.IdleMode
        var repetitions: (full: Int, quick: Int)
        var summary: String
        var timeSummary: String
        var unit = "server"
    }

    static let memoryScenarios = [
        MemoryScenario(
            name: "idle_100k_bytes", timeName: "idle_100k_start_ns", servers: 100_000, mode: .idle,
            repetitions: (5, 3), summary: "resident memory per idle Counter server, 100,000 started and held",
            timeSummary: "time to start one of those servers (runtime.start)"),
        MemoryScenario(
            name: "idle_1m_bytes", timeName: "idle_1m_start_ns", servers: 1_000_000, mode: .idle,
            repetitions: (3, 0), summary: "resident memory per idle Counter server, 1,000,000 started and held",
            timeSummary: "time to start one of those servers"),
        MemoryScenario(
            name: "idle_100k_after_call_bytes", timeName: "idle_100k_after_call_ns", servers: 100_000,
            mode: .afterCall, repetitions: (5, 3),
            summary: "resident memory per idle Counter server that has answered one call, 100,000 held",
            timeSummary: "time to start one of those servers and make its first call"),
        MemoryScenario(
            name: "machines_100k_bytes", timeName: "machines_100k_create", servers: 100_000, mode: .timeout,
            repetitions: (5, 3),
            summary: "resident memory per machine with a live 1 h state timeout armed at start, 100,000 held",
            timeSummary: "time to start one of those machines, its timeout armed", unit: "machine"),
    ]

    static func run(_ options: StateServerBenchmarks.Options) async throws -> [Figure] {
        if let unknown = options.only?.subtracting(names), !unknown.isEmpty {
            StateServerBenchmarks.log("unknown scenario(s) \(unknown.sorted()); known: \(names.joined(separator: ", "))")
            exit(2)
        }
        func wanted(_ name: String) -> Bool { options.only?.contains(name) ?? true }
        func repetitions(_ full: Int, _ quick: Int) -> Int { options.repetitions ?? (options.isQuick ? quick : full) }

        // Memory first, each repetition in a fresh process.
        var figures: [Figure] = []
        for scenario in memoryScenarios where wanted(scenario.name) {
            let count = repetitions(scenario.repetitions.full, scenario.repetitions.quick)
            if count > 0 { figures += try measureMemory(scenario, repetitions: count) }
        }

        let runtime = Runtime()
        // Operations per repetition are sized from a calibration run (which doubles as the warm-up) so that each
        // repetition lasts about `target`, whatever the per-operation cost: the figures are per operation.
        let target = options.isQuick ? 0.08e9 : 0.4e9
        func measure(
            _ name: String, _ summary: String, unit: String, repetitions count: Int, granularity: Int = 1,
            _ body: (Int) async throws -> Double
        ) async throws {
            guard wanted(name) else { return }
            let estimate = try await body(20_000 / granularity * granularity)
            let operations = roundedCount(target / estimate, granularity: granularity)
            StateServerBenchmarks.log(
                "\(name): \(count) repetitions of \(operations) (calibration: \(Report.format(estimate)) \(unit))")
            var samples: [Double] = []
            for _ in 0..<count { samples.append(try await body(operations)) }
            figures.append(Figure(
                scenario: name, summary: summary, unit: unit, operations: operations, samples: samples, isTime: true))
        }

        try await measure(
            "call_rtt_1", "one caller, idle server, call round trip (default 5 s call timeout)", unit: "ns/call",
            repetitions: repetitions(9, 5)
        ) { try await Scenarios.callRoundTrip(runtime, calls: $0) }
        try await measure(
            "call_rtt_8to1", "8 concurrent callers (tasks), one server, wall time per call (default call timeout)",
            unit: "ns/call", repetitions: repetitions(7, 3), granularity: 8
        ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: $0 / 8, timeout: .seconds(5)) }
        try await measure(
            "call_rtt_8to1_no_timeout", "as call_rtt_8to1 with call(timeout: nil): no caller timer armed",
            unit: "ns/call", repetitions: repetitions(7, 3), granularity: 8
        ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: $0 / 8, timeout: nil) }
        try await measure(
            "cast_1to1", "one producer, one server, casts then a final call: time per cast, drain included",
            unit: "ns/message", repetitions: repetitions(9, 5)
        ) { try await Scenarios.castThroughput(runtime, casts: $0) }
        try await measure(
            "statem_event", "a → b → c → a ring, one state change per cast, no timeout: time per event",
            unit: "ns/event", repetitions: repetitions(9, 5)
        ) { try await Scenarios.ringEvents(runtime, events: $0, stateTimeout: nil) }
        try await measure(
            "statem_event_state_timeout",
            "the same ring re-arming a 1 s state timeout on every transition (the old one cancelled): time per event",
            unit: "ns/event", repetitions: repetitions(9, 5)
        ) { try await Scenarios.ringEvents(runtime, events: $0, stateTimeout: .seconds(1)) }
        return figures
    }

    /// Runs each repetition of `scenario` in a child process; returns its memory and time figures.
    static func measureMemory(_ scenario: MemoryScenario, repetitions: Int) throws -> [Figure] {
        var bytes: [Double] = []
        var times: [Double] = []
        for repetition in 1...repetitions {
            StateServerBenchmarks.log("\(scenario.name): repetition \(repetition) of \(repetitions) in a child process")
            let output = ProcessMemory.runSelf(["--idle-child", "\(scenario.servers)", scenario.mode.rawValue]) ?? ""
            let values = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            guard values.count == 2, values.allSatisfy(\.isFinite) else {
                StateServerBenchmarks.log("\(scenario.name): the child process reported \(output.debugDescription)")
                return []
            }
            bytes.append(values[0])
            times.append(values[1])
        }
        return [
            Figure(
                scenario: scenario.name, summary: scenario.summary + " (the 8 B handle in the array included)",
                unit: "bytes/\(scenario.unit)", operations: scenario.servers, samples: bytes, isTime: false),
            Figure(
                scenario: scenario.timeName, summary: scenario.timeSummary, unit: "ns/\(scenario.unit)",
                operations: scenario.servers, samples: times, isTime: true),
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
    static func description(isQuick: Bool) -> [String: String] {
        var result = [
            "processors": "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))",
            "build": compilerDescription,
            "mode": isQuick ? "quick" : "full",
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
