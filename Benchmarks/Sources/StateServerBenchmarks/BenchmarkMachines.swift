import StateServer

/// A one-state server holding a count: the subject of the call, cast and idle-memory scenarios.
///
/// Its types live in this module on purpose: a user's machines never live in the library, so the library's
/// generic engine and drain code run for them exactly as they do here.
struct Counter: StateMachine {
    enum State: Hashable, Sendable { case counting }
    enum Call: Sendable { case count(Reply<Int>) }
    enum Cast: Sendable { case add(Int) }

    func start() -> Start<Self> { .ok(.counting, data: 0) }

    func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
        switch event {
        case .call(.count(let reply)): return .keep(.reply(reply, data))
        case .cast(.add(let amount)):
            data &+= amount
            return .keep
        default: return .keep
        }
    }
}

/// A three-state ring, `a → b → c → a`, moving one step on every cast; optionally re-arms a state timeout
/// on every transition (the state change cancels the previous one, as `gen_statem` does).
struct Ring: StateMachine {
    enum State: Hashable, Sendable { case a, b, c }
    enum Call: Sendable { case steps(Reply<Int>) }
    enum Cast: Sendable { case step }

    /// The state timeout set on every transition, or `nil` for none.
    let stateTimeout: Duration?

    func start() -> Start<Self> { .ok(.a, data: 0) }

    func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
        switch event {
        case .cast(.step):
            data &+= 1
            let next: State = switch state {
            case .a: .b
            case .b: .c
            case .c: .a
            }
            if let stateTimeout { return .goto(next, .stateTimeout(stateTimeout)) }
            return .goto(next)
        case .call(.steps(let reply)):
            return .keep(.reply(reply, data))
        default:
            // A state timeout that fires after the run (the runs are far shorter than the timeout).
            return .keep
        }
    }
}

/// A server that arms a state timeout when it starts and waits for it: the subject of `machines_100k_*`, many
/// machines each with a live timer.
struct Sleeper: StateMachine {
    enum State: Hashable, Sendable { case waiting, done }

    /// When the timeout fires, after the start.
    let timeout: Duration

    func start() -> Start<Self> { .ok(.waiting, .stateTimeout(timeout)) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        if case .stateTimeout = event { return .goto(.done) }
        return .keep
    }
}
