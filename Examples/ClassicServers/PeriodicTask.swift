import StateServer

/// Does something every `interval` (here: counts ticks) until cancelled.
///
/// The `Process.send_after(self(), :tick, interval)` shape: each tick schedules the next one with
/// ``Action/send(_:after:reference:)``, keeping the reference so that `cancel` can call it off with
/// ``Action/cancelSend(_:)``.
public struct PeriodicTask: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Answers how many ticks have run.
        case count(Reply<Int>)
        /// Stops the ticks; answers whether they were running.
        case cancel(Reply<Bool>)
    }

    /// Messages the task sends itself.
    public enum Info: Sendable {
        /// Time for the next tick.
        case tick
    }

    /// The task's state.
    public struct Ticks: Sendable {
        /// How many ticks have run.
        public internal(set) var count = 0
        /// The scheduled next tick, or `nil` once cancelled.
        var next: SelfMessageReference?

        /// Whether ticks are still scheduled.
        public var isRunning: Bool { next != nil }
    }

    /// The time between ticks.
    public let interval: Duration

    /// A task ticking every `interval`, the first tick one `interval` after the start.
    public init(every interval: Duration) { self.interval = interval }

    /// Starts with the first tick scheduled.
    public func initialize() -> GenServerStart<Self> {
        let next = SelfMessageReference()
        return .ok(Ticks(next: next), .send(.tick, after: interval, reference: next))
    }

    /// Answers `count` and `cancel`.
    public func handleCall(_ request: Call, state ticks: inout Ticks) -> GenServerResult<Self> {
        switch request {
        case .count(let reply):
            return .reply(reply, ticks.count)
        case .cancel(let reply):
            guard let next = ticks.next else { return .reply(reply, false) }
            ticks.next = nil
            return .reply(reply, true, .cancelSend(next))
        }
    }

    /// Runs a tick and schedules the next one.
    public func handleInfo(_ message: Info, state ticks: inout Ticks) -> GenServerResult<Self> {
        switch message {
        case .tick:
            guard ticks.isRunning else { return .noreply }
            ticks.count += 1
            let next = SelfMessageReference()
            ticks.next = next
            return .noreply(.send(.tick, after: interval, reference: next))
        }
    }
}

/// The `PeriodicTask` example: a tick every second, cancelled after 3.5 seconds.
public func runPeriodicTaskDemo(runtime: Runtime, clock: ManualClock, output: (String) -> Void) async throws {
    let task = try runtime.start(PeriodicTask(every: .seconds(1)))
    func say(_ line: String) { output("\(runtime.now): \(line)") }

    say("started, ticking every second")
    clock.advance(by: .milliseconds(3_500))
    say("count -> \(try await task.call { .count($0) })")
    say("cancel -> \(try await task.call { .cancel($0) })")
    clock.advance(by: .seconds(5))
    say("count -> \(try await task.call { .count($0) })")
    say("cancel -> \(try await task.call { .cancel($0) })")
}
