import Synchronization
import Testing
import StateServer

// Machines and helpers shared by the Table* tests. Every name starts with `Table` so it cannot collide with the
// helpers of other test files.

/// The traffic light of DESIGN §8, written exactly as the table DSL's target shape.
struct TableLight: TableMachine {
    enum State: Hashable, Sendable { case red, green, yellow }
    enum Cast: Hashable, Sendable { case walkButton, emergency }

    var table: TransitionTable<Self> {
        When(.red, timeout: .seconds(30))    { On(.stateTimeout, goto: .green) }
        When(.green, timeout: .seconds(25))  { On(.stateTimeout, goto: .yellow); On(cast: .walkButton, goto: .yellow) }
        When(.yellow, timeout: .seconds(5))  { On(.stateTimeout, goto: .red) }
        Always                               { On(cast: .emergency, goto: .red) }
    }
}

/// Records what a server does, with the virtual time of each step.
final class TableTrace<M: StateMachine>: Sendable {
    private let steps = Locked<[(time: RuntimeInstant, event: TraceEvent<M>)]>([])

    init() {}

    /// Options whose observer records into this trace.
    var options: ServerOptions<M> {
        ServerOptions(observer: { observation in
            self.steps.withLock { $0.append((observation.time, observation.event)) }
        })
    }

    /// Every state change as `"<seconds>s from→to"`.
    var transitions: [String] {
        steps.withLock { steps in
            steps.compactMap { step in
                guard case .transition(let from, let to) = step.event else { return nil }
                return "\(step.time.nanoseconds / 1_000_000_000)s \(from)→\(to)"
            }
        }
    }

    /// How many state timeouts the server handled.
    var stateTimeoutsHandled: Int {
        steps.withLock { steps in
            steps.filter { step in
                if case .handling(.stateTimeout, _) = step.event { true } else { false }
            }.count
        }
    }

    /// The warnings the machine reported.
    var reports: [String] {
        steps.withLock { steps in
            steps.compactMap { step in if case .reported(let message) = step.event { message } else { nil } }
        }
    }
}

/// A virtual-time runtime and its clock.
func tableVirtualRuntime() -> (Runtime, ManualClock) {
    let clock = ManualClock()
    return (Runtime(clock: clock), clock)
}

/// The current state of `server`.
func tableState<M: StateMachine>(of server: Server<M>) async throws -> M.State {
    try await server.getState().state
}

/// The current data of `server`.
func tableData<M: StateMachine>(of server: Server<M>) async throws -> M.Data {
    try await server.getState().data
}

/// The inner error of a start that failed because the table is invalid, or `nil` (recording an issue) when the
/// error is anything else.
func tableInvalidTableError(
    _ error: any Error, sourceLocation: SourceLocation = #_sourceLocation
) -> StateServerError? {
    guard let outer = error as? StateServerError, outer.code == .startFailed,
        case .error(let inner as StateServerError)? = outer.exitReason, inner.code == .invalidTable
    else {
        Issue.record("expected startFailed with an invalidTable error, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
    return inner
}
