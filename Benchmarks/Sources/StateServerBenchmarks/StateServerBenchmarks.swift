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
/// swift run -c release --package-path Benchmarks                # full run, a table
/// swift run -c release --package-path Benchmarks -- --quick     # smaller, faster
/// swift run -c release --package-path Benchmarks -- --json      # machine-readable, for comparisons
/// swift run -c release --package-path Benchmarks -- --only cast_1to1,call_rtt_1
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
        if arguments.first == "--idle-child", arguments.count == 2, let count = Int(arguments[1]) {
            let (bytes, nanoseconds) = try Scenarios.idleServers(count: count)
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
    static let names = [
        "call_rtt_1", "call_rtt_8to1", "call_rtt_8to1_no_timeout", "cast_1to1", "statem_event",
        "statem_event_state_timeout", "idle_100k_bytes", "idle_1m_bytes",
    ]

    static func run(_ options: StateServerBenchmarks.Options) async throws -> [Figure] {
        let quick = options.isQuick
        func wanted(_ name: String) -> Bool { options.only?.contains(name) ?? true }
        func repetitions(_ full: Int, _ short: Int) -> Int { options.repetitions ?? (quick ? short : full) }
        var figures: [Figure] = []

        // Memory first, each repetition in a fresh process.
        for (name, count, full, short) in [("idle_100k_bytes", 100_000, 5, 3), ("idle_1m_bytes", 1_000_000, 3, 0)]
        where wanted(name) && repetitions(full, short) > 0 {
            var bytes: [Double] = []
            var starts: [Double] = []
            for repetition in 1...repetitions(full, short) {
                StateServerBenchmarks.log("\(name): repetition \(repetition)")
                guard let output = ProcessMemory.runSelf(["--idle-child", "\(count)"]) else { break }
                let values = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
                guard values.count == 2 else { break }
                bytes.append(values[0])
                starts.append(values[1])
            }
            guard !bytes.isEmpty else { continue }
            figures.append(Figure(
                scenario: name, summary: "resident memory per idle Counter server, \(count) started and held "
                    + "(the 8 B handle in the array included)", unit: "B/server", operations: count,
                samples: bytes, isTime: false))
            figures.append(Figure(
                scenario: name.replacingOccurrences(of: "_bytes", with: "_start_ns"),
                summary: "time to start one of those servers (runtime.start)", unit: "ns/server",
                operations: count, samples: starts, isTime: true))
        }

        let runtime = Runtime()
        func measure(
            _ name: String, _ summary: String, unit: String, operations: Int, repetitions count: Int,
            _ body: () async throws -> Double
        ) async throws {
            guard wanted(name) else { return }
            StateServerBenchmarks.log("\(name): warm-up and \(count) repetitions of \(operations)")
            _ = try await body()
            var samples: [Double] = []
            for _ in 0..<count { samples.append(try await body()) }
            figures.append(Figure(
                scenario: name, summary: summary, unit: unit, operations: operations, samples: samples, isTime: true))
        }

        let calls = quick ? 100_000 : 1_000_000
        try await measure(
            "call_rtt_1", "one caller, idle server, call round trip (default 5 s call timeout)", unit: "ns/call",
            operations: calls, repetitions: repetitions(9, 5)
        ) { try await Scenarios.callRoundTrip(runtime, calls: calls) }

        let callsEach = quick ? 10_000 : 100_000
        try await measure(
            "call_rtt_8to1", "8 concurrent callers (tasks), one server, wall time per call (default call timeout)",
            unit: "ns/call", operations: 8 * callsEach, repetitions: repetitions(7, 3)
        ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: callsEach, timeout: .seconds(5)) }
        try await measure(
            "call_rtt_8to1_no_timeout", "as call_rtt_8to1 with call(timeout: nil): no caller timer armed",
            unit: "ns/call", operations: 8 * callsEach, repetitions: repetitions(7, 3)
        ) { try await Scenarios.concurrentCalls(runtime, callers: 8, callsEach: callsEach, timeout: nil) }

        let messages = quick ? 100_000 : 1_000_000
        try await measure(
            "cast_1to1", "one producer, one server, casts then a final call: time per cast, drain included",
            unit: "ns/cast", operations: messages, repetitions: repetitions(9, 5)
        ) { try await Scenarios.castThroughput(runtime, casts: messages) }
        try await measure(
            "statem_event", "a → b → c → a ring, one state change per cast, no timeout: time per event",
            unit: "ns/event", operations: messages, repetitions: repetitions(9, 5)
        ) { try await Scenarios.ringEvents(runtime, events: messages, stateTimeout: nil) }
        try await measure(
            "statem_event_state_timeout",
            "the same ring re-arming a 1 s state timeout on every transition (the old one cancelled): time per event",
            unit: "ns/event", operations: messages, repetitions: repetitions(9, 5)
        ) { try await Scenarios.ringEvents(runtime, events: messages, stateTimeout: .seconds(1)) }
        return figures
    }
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

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
