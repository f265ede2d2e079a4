import StateServer
import Synchronization

/// Answers requests that take a while without blocking: each `compute` starts the slow work as an effect and
/// keeps the caller's ``Reply`` handle in the state; the answer goes out when the work's result arrives, while
/// other requests are served in the meantime (a deferred reply, `{noreply, State}` then `GenServer.reply/2`).
public struct SlowOperation: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Runs the slow operation on the input and answers its result, later.
        case compute(Int, Reply<Result<Int, SlowOperationError>>)
        /// Answers how many computations are in flight, at once.
        case inFlight(Reply<Int>)
    }

    /// Messages the server receives from its effects.
    public enum Info: Sendable {
        /// The computation `request` finished.
        case finished(request: Int, Result<Int, any Error>)
    }

    /// The server's state: the callers waiting for an answer.
    public struct Waiting: Sendable {
        var replies: [Int: Reply<Result<Int, SlowOperationError>>] = [:]
        var nextRequest = 1

        /// How many callers are waiting.
        public var count: Int { replies.count }
    }

    /// The slow work, run off the server.
    public let operation: @Sendable (Int) async throws -> Int

    /// A server running `operation` for each `compute` request.
    public init(operation: @escaping @Sendable (Int) async throws -> Int) { self.operation = operation }

    /// Starts with nobody waiting.
    public func initialize() -> GenServerStart<Self> {
        .ok(Waiting())
    }

    /// Starts a computation (answered later) or answers `inFlight` now.
    public func handleCall(_ request: Call, state waiting: inout Waiting) -> GenServerResult<Self> {
        switch request {
        case .compute(let input, let reply):
            let number = waiting.nextRequest
            waiting.nextRequest += 1
            waiting.replies[number] = reply
            let operation = self.operation
            return .noreply(.run { try await operation(input) } then: { .finished(request: number, $0) })
        case .inFlight(let reply):
            return .reply(reply, waiting.count)
        }
    }

    /// A computation finished: answers its caller through the kept handle.
    public func handleInfo(_ message: Info, state waiting: inout Waiting) -> GenServerResult<Self> {
        switch message {
        case .finished(let number, let result):
            guard let reply = waiting.replies.removeValue(forKey: number) else { return .noreply }
            return .noreply(.reply(reply, result.mapError { SlowOperationError(description: "\($0)") }))
        }
    }
}

/// A slow operation failed.
public struct SlowOperationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// An error described by `description`.
    public init(description: String) { self.description = description }
}

/// The `SlowOperation` example: three slow computations in flight, another request served meanwhile, then the
/// answers. The computations wait for a gate the demo opens, so the output is the same on every run.
public func runSlowOperationDemo(runtime: Runtime, output: (String) -> Void) async throws {
    let gate = DemoGate()
    let server = try runtime.start(SlowOperation { input in
        await gate.wait()
        guard input >= 0 else { throw DemoInputError() }
        return input * input
    })

    let three = server.request { .compute(3, $0) }
    let four = server.request { .compute(4, $0) }
    let negative = server.request { .compute(-1, $0) }
    output("compute(3), compute(4), compute(-1) sent")
    output("in flight -> \(try await server.call { .inFlight($0) }) (answered while the computations run)")
    output("compute(3) answered yet -> \(three.isResolved)")

    gate.open()
    await runtime.waitForEffects()
    output("computations finished")
    for (input, pending) in [(3, three), (4, four), (-1, negative)] {
        switch try await pending.value() {
        case .success(let value): output("compute(\(input)) -> \(value)")
        case .failure(let error): output("compute(\(input)) -> failed: \(error)")
        }
    }
    output("in flight -> \(try await server.call { .inFlight($0) })")
}

private struct DemoInputError: Error, CustomStringConvertible {
    var description: String { "negative input" }
}

/// A one-shot latch: `wait()` suspends until `open()` is called (at once if it already was).
private final class DemoGate: Sendable {
    private let state = Locked<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
