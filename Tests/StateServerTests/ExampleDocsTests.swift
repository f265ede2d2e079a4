import ClassicServers
import StateServer
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The guide's own snippets, verbatim, so they compile.

private struct Counter: GenServer {
    enum Call: Sendable { case increment(Reply<Int>) }

    func initialize() -> GenServerStart<Self> { .ok(0) }

    func handleCall(_ request: Call, state count: inout Int) -> GenServerResult<Self> {
        switch request {
        case .increment(let reply):
            count += 1
            return .reply(reply, count)
        }
    }
}

/// Docs/ComingFromElixir.md shows the examples' code and output; these tests keep it true.
@Suite struct ExampleDocsTests {
    /// A fenced block of the guide, with the marker comment right above it.
    struct MarkedBlock: CustomTestStringConvertible {
        var marker: String
        var argument: String
        var body: String
        var testDescription: String { "\(marker) \(argument)" }
    }

    static let packageRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        return path
    }()

    static func read(_ relativePath: String) -> String? {
        guard let file = fopen(packageRoot + "/" + relativePath, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Every fenced block preceded by `<!-- marker: argument -->`.
    static func blocks(marked marker: String) -> [MarkedBlock] {
        guard let guide = read("Docs/ComingFromElixir.md") else { return [] }
        let lines = guide.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [MarkedBlock] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let prefix = "<!-- \(marker): "
            guard line.hasPrefix(prefix), line.hasSuffix(" -->"), index + 1 < lines.count,
                  lines[index + 1].hasPrefix("```")
            else {
                index += 1
                continue
            }
            let argument = String(line.dropFirst(prefix.count).dropLast(" -->".count))
            var end = index + 2
            while end < lines.count, lines[end] != "```" { end += 1 }
            let body = lines[(index + 2)..<end].joined(separator: "\n")
            blocks.append(MarkedBlock(marker: marker, argument: argument, body: body))
            index = end + 1
        }
        return blocks
    }

    @Test func theShapeOfAServerCounts() async throws {
        let counter = try Runtime(clock: ManualClock()).start(Counter())
        #expect(try await counter.call { .increment($0) } == 1)
        #expect(try await counter.call { .increment($0) } == 2)
    }

    @Test func testingWithoutSleeping() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let store = try runtime.start(SessionStore(idleTimeout: .seconds(60), cleanupInterval: .seconds(100)))
        let id = try await store.call { .create(user: "ann", $0) }
        clock.advance(by: .seconds(60))          // fires the expiry, handled before this returns
        #expect(try await store.call { .get(id, $0) } == .failure(.expired))
    }

    @Test func theGuideShowsEveryExample() throws {
        let outputs = Self.blocks(marked: "output").map(\.argument)
        #expect(outputs == [
            "Counter", "Stack", "KeyValueStore", "SessionStore", "ConfigurableCache", "PeriodicTask",
            "CacheWithTimeout", "SlowOperation",
        ])
        #expect(Self.blocks(marked: "verbatim").count >= 9)
    }

    @Test(arguments: blocks(marked: "verbatim"))
    func swiftCodeInTheGuideIsTheExamplesCode(_ block: MarkedBlock) throws {
        let source = try #require(Self.read(block.argument), "cannot read \(block.argument)")
        #expect(source.contains(block.body), "the guide's code differs from \(block.argument)")
    }

    @Test(arguments: blocks(marked: "output"))
    func outputInTheGuideIsTheDemosOutput(_ block: MarkedBlock) async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        var lines: [String] = []
        let output: (String) -> Void = { lines.append($0) }
        switch block.argument {
        case "Counter": try await runCounterDemo(runtime: runtime, output: output)
        case "Stack": try await runStackDemo(runtime: runtime, output: output)
        case "KeyValueStore": try await runKeyValueStoreDemo(runtime: runtime, output: output)
        case "SessionStore": try await runSessionStoreDemo(runtime: runtime, clock: clock, output: output)
        case "ConfigurableCache": try await runConfigurableCacheDemo(runtime: runtime, clock: clock, output: output)
        case "PeriodicTask": try await runPeriodicTaskDemo(runtime: runtime, clock: clock, output: output)
        case "CacheWithTimeout": try await runCacheWithTimeoutDemo(runtime: runtime, clock: clock, output: output)
        case "SlowOperation": try await runSlowOperationDemo(runtime: runtime, output: output)
        default: Issue.record("no demo named \(block.argument)")
        }
        #expect(lines.joined(separator: "\n") == block.body)
    }
}
