import Synchronization
import Testing
@testable import StateServer

// Shared servers and helpers of the GenServer* tests. Names carry a `GenServer` prefix so they cannot collide
// with the helpers of other test files.

/// A thread-safe append-only list, for `terminate` calls, reports and callers' observations in order.
final class GenServerRecording<Element: Sendable>: Sendable {
    private let storage = Locked<[Element]>([])

    init() {}

    func append(_ element: Element) { storage.withLock { $0.append(element) } }

    var elements: [Element] { storage.withLock { $0 } }
}

/// The error the probe throws, identified by its tag.
struct GenServerTestError: Error, Equatable, CustomStringConvertible {
    var tag: String
    var description: String { "GenServerTestError(\(tag))" }
}

/// A server exercising every callback rule: it logs each callback into its state, and its requests ask for
/// each kind of result.
struct GenServerProbe: GenServer {
    /// What `initialize` returns.
    enum InitOutcome: Sendable {
        case ok
        case okWithTimeout(Duration)
        case okWithContinue(String)
        case okWithMessageToSelf(String, after: Duration)
        case ignore
        case stop(ExitReason)
        case error(GenServerTestError)
        case throwing(GenServerTestError)
    }

    enum Call: Sendable {
        case echo(Int, Reply<Int>)
        case log(Reply<[String]>)
        /// Kept in the state, answered later by `.release` (with `Reply.send`) or `.releaseWithAction`.
        case hold(Reply<String>)
        case replyWithTimeout(Duration, Reply<String>)
        case replyWithContinue(String, Reply<String>)
        case stopWithReply(ExitReason, Reply<String>)
        case stopWithoutReply(ExitReason, Reply<String>)
        case crash(Reply<Int>)
        case postpone(Reply<Int>)
    }

    enum Cast: Sendable {
        case note(String)
        case noteWithTimeout(String, Duration)
        case continueWith(String)
        case chain(Int)
        case release(String)
        case releaseWithAction(String)
        case sendAfter(String, Duration)
        case cancelSend
        case stop(ExitReason)
    }

    enum Info: Sendable {
        case note(String)
        case noteWithTimeout(String, Duration)
    }

    enum Continue: Sendable {
        case note(String)
        case chain(remaining: Int)
    }

    struct Probe: Sendable {
        var log: [String] = []
        var held: [Reply<String>] = []
        var timer: SelfMessageReference?
    }

    var outcome: InitOutcome = .ok
    /// Receives a line from `terminate`, with whether the held calls were answered at that moment.
    var terminations = GenServerRecording<String>()
    var terminateThrows = false

    func initialize() throws -> GenServerStart<Self> {
        switch outcome {
        case .ok: return .ok(Probe(log: ["init"]))
        case .okWithTimeout(let timeout): return .ok(Probe(log: ["init"]), timeout: timeout)
        case .okWithContinue(let work): return .ok(Probe(log: ["init"]), continue: .note(work))
        case .okWithMessageToSelf(let text, let delay):
            return .ok(Probe(log: ["init"]), .send(.note(text), after: delay))
        case .ignore: return .ignore
        case .stop(let reason): return .stop(reason)
        case .error(let error): return .error(error)
        case .throwing(let error): throw error
        }
    }

    func handleCall(_ request: Call, state probe: inout Probe) throws -> GenServerResult<Self> {
        switch request {
        case .echo(let value, let reply):
            probe.log.append("call:echo \(value)")
            return .reply(reply, value)
        case .log(let reply):
            return .reply(reply, probe.log)
        case .hold(let reply):
            probe.log.append("call:hold")
            probe.held.append(reply)
            return .noreply
        case .replyWithTimeout(let timeout, let reply):
            probe.log.append("call:replyWithTimeout")
            return .reply(reply, "ok", timeout: timeout)
        case .replyWithContinue(let work, let reply):
            probe.log.append("call:replyWithContinue")
            return .reply(reply, "ok", continue: .note(work))
        case .stopWithReply(let reason, let reply):
            probe.log.append("call:stopWithReply")
            probe.held.append(reply)
            return .stop(reason, reply: reply, "bye")
        case .stopWithoutReply(let reason, _):
            return .stop(reason)
        case .crash:
            throw GenServerTestError(tag: "crash")
        case .postpone:
            return .noreply(.postpone)
        }
    }

    func handleCast(_ message: Cast, state probe: inout Probe) throws -> GenServerResult<Self> {
        switch message {
        case .note(let text):
            probe.log.append("cast:\(text)")
            return .noreply
        case .noteWithTimeout(let text, let timeout):
            probe.log.append("cast:\(text)")
            return .noreply(timeout: timeout)
        case .continueWith(let work):
            probe.log.append("cast:continueWith \(work)")
            return .noreply(continue: .note(work))
        case .chain(let count):
            probe.log.append("cast:chain \(count)")
            return .noreply(continue: .chain(remaining: count))
        case .release(let value):
            probe.log.append("cast:release")
            for reply in probe.held { reply.send(value) }
            probe.held = []
            return .noreply
        case .releaseWithAction(let value):
            probe.log.append("cast:releaseWithAction")
            let replies = probe.held.map { Action<Self>.reply($0, value) }
            probe.held = []
            return .noreply(actions: replies)
        case .sendAfter(let text, let delay):
            let timer = SelfMessageReference()
            probe.timer = timer
            return .noreply(.send(.note(text), after: delay, reference: timer))
        case .cancelSend:
            guard let timer = probe.timer else { return .noreply }
            return .noreply(.cancelSend(timer))
        case .stop(let reason):
            return .stop(reason)
        }
    }

    func handleInfo(_ message: Info, state probe: inout Probe) throws -> GenServerResult<Self> {
        switch message {
        case .note(let text):
            probe.log.append("info:\(text)")
            return .noreply
        case .noteWithTimeout(let text, let timeout):
            probe.log.append("info:\(text)")
            return .noreply(timeout: timeout)
        }
    }

    func handleContinue(_ work: Continue, state probe: inout Probe) throws -> GenServerResult<Self> {
        switch work {
        case .note(let text):
            probe.log.append("continue:\(text)")
            return .noreply
        case .chain(let remaining):
            probe.log.append("continue:chain \(remaining)")
            return remaining > 1 ? .noreply(continue: .chain(remaining: remaining - 1)) : .noreply
        }
    }

    func handleTimeout(state probe: inout Probe) throws -> GenServerResult<Self> {
        probe.log.append("timeout")
        return .noreply
    }

    func terminate(reason: ExitReason, state probe: Probe) throws {
        terminations.append("terminate(\(reason)) held answered: \(probe.held.map(\.isAnswered))")
        if terminateThrows { throw GenServerTestError(tag: "terminate") }
    }
}

/// A server with an `Info` type but no `handleInfo`, and no `handleTimeout`, `handleDown` or `handleExit`: the
/// defaults apply.
struct GenServerWithDefaults: GenServer {
    enum Call: Sendable { case count(Reply<Int>) }
    enum Cast: Sendable { case armTimeout(Duration) }
    enum Info: Sendable { case surprise(Int) }

    func initialize() -> GenServerStart<Self> { .ok(0) }

    func handleCall(_ request: Call, state count: inout Int) -> GenServerResult<Self> {
        switch request {
        case .count(let reply): return .reply(reply, count)
        }
    }

    func handleCast(_ message: Cast, state count: inout Int) -> GenServerResult<Self> {
        switch message {
        case .armTimeout(let timeout):
            count += 1
            return .noreply(timeout: timeout)
        }
    }
}

/// A virtual-time runtime whose reports are recorded.
struct GenServerHarness {
    let clock = ManualClock()
    let reports = GenServerRecording<RuntimeReport>()
    let runtime: Runtime

    init() {
        let reports = self.reports
        runtime = Runtime(clock: clock, reporter: { reports.append($0) })
    }

    /// The warnings reported so far.
    var warnings: [String] {
        reports.elements.compactMap { report in
            if case .warning(let message) = report.kind { message } else { nil }
        }
    }

    /// The probe's log, read without sending it a message (a system request).
    func log(_ server: Server<GenServerProbe>) async throws -> [String] {
        try await server.getState().data.log
    }
}
