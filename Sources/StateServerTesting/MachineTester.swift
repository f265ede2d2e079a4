import StateServer
import Synchronization
import Testing

/// Drives one machine in virtual time and checks, by default exhaustively, everything it does.
///
/// The tester starts the machine on its own ``Runtime`` with a ``ManualClock`` and records every state change,
/// reply, fired timeout, report and exit. Each recorded step must be claimed by an `expect…` call, in order;
/// ``finish(sourceLocation:)`` reports the steps nobody asserted. Failures point at the test's line and show
/// the expected and the actual step.
///
/// ```swift
/// @Test func walkButtonShortensGreen() async throws {
///     let tester = try MachineTester(TrafficLight())
///     tester.advance(by: .seconds(30))
///     tester.expectTimeout(.state)
///     tester.expectTransition(from: .red, to: .green)
///     try tester.cast(.walkButtonPressed)
///     tester.advance(by: .seconds(5))
///     tester.expectTimeout(.named(.walk))
///     tester.expectTransition(from: .green, to: .yellow)
///     tester.finish()
/// }
/// ```
///
/// With `exhaustive: false`, `expect…` calls skip over steps that do not match and `finish` reports nothing
/// left over.
///
/// Concurrency: use a tester from one test at a time; it is `Sendable` so it can be captured by async code.
public final class MachineTester<M: StateMachine>: Sendable {
    /// One observable step of the machine, as the tester records it.
    public enum Step: Sendable, CustomStringConvertible {
        /// The state changed.
        case transition(from: M.State, to: M.State)
        /// A caller was answered (the value's description, since replies have many types).
        case reply(String)
        /// A timeout fired and was handled.
        case timeout(TimeoutKind<M.Timer>)
        /// An event was postponed.
        case postponed(String)
        /// The machine reported a warning.
        case report(String)
        /// The server ended.
        case exit(String)

        /// A readable form, used in failure messages.
        public var description: String {
            switch self {
            case .transition(let from, let to): "transition \(from) → \(to)"
            case .reply(let value): "reply \(value)"
            case .timeout(let kind): "timeout \(kind)"
            case .postponed(let event): "postponed \(event)"
            case .report(let message): "report \(message)"
            case .exit(let reason): "exit \(reason)"
            }
        }

        fileprivate func matches(_ other: Step) -> Bool { description == other.description }
    }

    /// The virtual clock the machine runs on.
    public let clock: ManualClock
    /// The runtime the machine runs on.
    public let runtime: Runtime
    /// The server under test.
    public let server: Server<M>
    /// Whether every step must be asserted.
    public let isExhaustive: Bool

    private let recorded: Recorder

    /// Starts `machine` in virtual time. Recording starts with the start itself (its timeouts armed, any
    /// transitions made by inserted events).
    public init(_ machine: M, exhaustive: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let recorder = Recorder()
        self.clock = clock
        self.runtime = runtime
        self.isExhaustive = exhaustive
        self.recorded = recorder
        self.server = try runtime.start(machine, options: ServerOptions(observer: { observation in
            if let step = Self.step(for: observation.event) { recorder.append(step) }
        }))
    }

    private static func step(for event: TraceEvent<M>) -> Step? {
        switch event {
        case .transition(let from, let to): .transition(from: from, to: to)
        case .replied(let value, true): .reply("\(value)")
        case .handling(.eventTimeout, _): .timeout(.event)
        case .handling(.stateTimeout, _): .timeout(.state)
        case .handling(.timeout(let name, _), _): .timeout(.named(name))
        case .postponed(let event): .postponed("\(event)")
        case .reported(let message): .report(message)
        case .exited(let reason): .exit("\(reason)")
        default: nil
        }
    }

    // MARK: Driving

    /// Sends a cast; it is handled before this returns.
    public func cast(_ message: M.Cast) throws { try server.cast(message) }

    /// Sends an info message; it is handled before this returns.
    public func send(_ info: M.Info) throws { try server.send(info) }

    /// Sends a call and returns its outcome handle; an immediate reply is already in it.
    @discardableResult
    public func call<Value: Sendable>(
        timeout: Duration? = nil, _ makeRequest: (Reply<Value>) -> M.Call
    ) -> PendingReply<Value> {
        server.request(timeout: timeout, makeRequest)
    }

    /// Advances virtual time, firing and handling every timer due on the way.
    public func advance(by duration: Duration) { clock.advance(by: duration) }

    /// The current state.
    public var state: M.State? { server.snapshotNow()?.state }

    /// The current data.
    public var data: M.Data? { server.snapshotNow()?.data }

    /// Steps recorded but not yet asserted.
    public var unassertedSteps: [Step] { recorded.pending }

    // MARK: Expectations

    /// Claims the next recorded step, which must equal `expected` (exhaustive mode), or the next matching step
    /// (non-exhaustive mode).
    public func expect(_ expected: Step, sourceLocation: SourceLocation = #_sourceLocation) {
        if isExhaustive {
            guard let actual = recorded.popFirst() else {
                Issue.record("expected: \(expected)\n  actual: nothing (no step left)", sourceLocation: sourceLocation)
                return
            }
            if !actual.matches(expected) {
                Issue.record("expected: \(expected)\n  actual: \(actual)", sourceLocation: sourceLocation)
            }
        } else if recorded.popFirst(where: { $0.matches(expected) }) == nil {
            Issue.record(
                "expected: \(expected)\n  actual: no such step among \(recorded.pending.map(\.description))",
                sourceLocation: sourceLocation)
        }
    }

    /// Claims the next step as a transition from `from` to `to`.
    public func expectTransition(from: M.State, to: M.State, sourceLocation: SourceLocation = #_sourceLocation) {
        expect(.transition(from: from, to: to), sourceLocation: sourceLocation)
    }

    /// Claims the next step as a reply of `value` to some caller.
    public func expectReply(_ value: some Sendable, sourceLocation: SourceLocation = #_sourceLocation) {
        expect(.reply("\(value)"), sourceLocation: sourceLocation)
    }

    /// Claims the next step as a fired timeout of `kind`.
    public func expectTimeout(_ kind: TimeoutKind<M.Timer>, sourceLocation: SourceLocation = #_sourceLocation) {
        expect(.timeout(kind), sourceLocation: sourceLocation)
    }

    /// Claims the next step as the server's exit with `reason` (compared by description).
    public func expectExit(_ reason: ExitReason, sourceLocation: SourceLocation = #_sourceLocation) {
        expect(.exit("\(reason)"), sourceLocation: sourceLocation)
    }

    /// Checks the current state without claiming a step.
    public func expectState(_ expected: M.State, sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = state
        if actual != expected {
            Issue.record(
                "expected state: \(expected)\n  actual state: \(actual.map { "\($0)" } ?? "none (server ended)")",
                sourceLocation: sourceLocation)
        }
    }

    /// Checks that every recorded step has been claimed.
    public func expectNoMoreSteps(sourceLocation: SourceLocation = #_sourceLocation) {
        let left = recorded.pending
        if !left.isEmpty {
            let list = left.map { "  - \($0.description)" }.joined(separator: "\n")
            Issue.record(Comment(rawValue: "\(left.count) step(s) not asserted:\n\(list)"), sourceLocation: sourceLocation)
        }
    }

    /// Discards every recorded step not yet claimed.
    public func skipRecordedSteps() { recorded.removeAll() }

    /// Ends the test: in exhaustive mode, every step must have been claimed; the server is stopped.
    public func finish(sourceLocation: SourceLocation = #_sourceLocation) {
        if isExhaustive { expectNoMoreSteps(sourceLocation: sourceLocation) }
        server.kill()
    }
}

extension MachineTester {
    /// The tester's thread-safe log of steps.
    final class Recorder: Sendable {
        private let steps = Locked<[Step]>([])

        func append(_ step: Step) { steps.withLock { $0.append(step) } }
        func removeAll() { steps.withLock { $0.removeAll() } }
        var pending: [Step] { steps.withLock { $0 } }

        func popFirst() -> Step? {
            steps.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        }

        /// Removes and returns the first step matching `predicate`, dropping the steps before it.
        func popFirst(where predicate: (Step) -> Bool) -> Step? {
            steps.withLock { steps in
                guard let index = steps.firstIndex(where: predicate) else { return nil }
                let step = steps[index]
                steps.removeSubrange(0...index)
                return step
            }
        }
    }
}
