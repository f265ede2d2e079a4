import StateServer

/// A counter: `increment` and `value` are calls, `reset` is a cast. The "hello world" of `GenServer`.
public struct Counter: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Adds one and answers the new count.
        case increment(Reply<Int>)
        /// Answers the count.
        case value(Reply<Int>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// Sets the count back to zero.
        case reset
    }

    /// The count the server starts with.
    public let initialValue: Int

    /// A counter starting at `initialValue`.
    public init(initialValue: Int = 0) { self.initialValue = initialValue }

    /// The state is the count.
    public func initialize() -> GenServerStart<Self> {
        .ok(initialValue)
    }

    /// Answers `increment` and `value`.
    public func handleCall(_ request: Call, state count: inout Int) -> GenServerResult<Self> {
        switch request {
        case .increment(let reply):
            count += 1
            return .reply(reply, count)
        case .value(let reply):
            return .reply(reply, count)
        }
    }

    /// Handles `reset`.
    public func handleCast(_ message: Cast, state count: inout Int) -> GenServerResult<Self> {
        switch message {
        case .reset:
            count = 0
            return .noreply
        }
    }
}

/// The client API, as an Elixir module wraps `GenServer.call` in functions.
extension Server where M == Counter {
    /// Adds one and returns the new count.
    public func increment() async throws -> Int { try await call { .increment($0) } }
    /// The current count.
    public func value() async throws -> Int { try await call { .value($0) } }
    /// Sets the count back to zero, without waiting.
    public func reset() throws { try cast(.reset) }
}

/// The `Counter` example: start, increment three times, reset, increment again.
public func runCounterDemo(runtime: Runtime, output: (String) -> Void) async throws {
    let counter = try runtime.start(Counter())
    for _ in 1...3 {
        output("increment -> \(try await counter.increment())")
    }
    output("value -> \(try await counter.value())")
    try counter.reset()
    output("reset")
    output("value -> \(try await counter.value())")
    output("increment -> \(try await counter.increment())")
    try await counter.stop()
    output("stopped: \(counter.exitReason.map(String.init(describing:)) ?? "running")")
}
