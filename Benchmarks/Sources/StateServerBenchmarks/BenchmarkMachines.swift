import Dispatch
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
            let next = Self.following(state)
            if let stateTimeout { return .goto(next, .stateTimeout(stateTimeout)) }
            return .goto(next)
        case .call(.steps(let reply)):
            return .keep(.reply(reply, data))
        default:
            // A state timeout that fires after the run (the runs are far shorter than the timeout).
            return .keep
        }
    }

    /// The state after `state` around the ring.
    static func following(_ state: State) -> State {
        switch state {
        case .a: .b
        case .b: .c
        case .c: .a
        }
    }
}

/// A server that arms a state timeout when it starts and waits for it: the subject of `machines_100k_*`, many
/// machines each with a live timer (`ss_timeout:start({after_ms, 1000}, none)` on the OTP side).
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

/// A server that arms a state timeout for an absolute deadline when it starts and, when it fires, records how
/// late it ran: the subject of `timeouts_100k_*` (`ss_timeout:start({at_ms, Deadline}, Collector)` on the OTP
/// side, whose handler reads `erlang:monotonic_time` the same way).
struct Alarm: StateMachine {
    enum State: Hashable, Sendable { case waiting, done }

    /// The deadline, on the runtime's clock.
    let deadline: RuntimeInstant
    /// This machine's slot in `log`.
    let index: Int
    let log: LatenessLog

    func start() -> Start<Self> { .ok(.waiting, .stateTimeout(.at(deadline))) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        if case .stateTimeout = event {
            // The handler reads the clock itself, as the OTP machine does: lateness is deadline → handler running.
            log.record(index, deadline: deadline)
            return .goto(.done)
        }
        return .keep
    }
}

/// A machine that postpones every `item` cast while locked; `unlock` replays them all: `postpone_1000_replay`
/// (`ss_postpone` on the OTP side).
struct Postponer: StateMachine {
    enum State: Hashable, Sendable { case locked, open }
    enum Call: Sendable { case count(Reply<Int>) }
    enum Cast: Sendable { case item, unlock }

    func start() -> Start<Self> { .ok(.locked, data: 0) }

    func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
        switch (event, state) {
        case (.cast(.unlock), .locked): return .goto(.open)
        case (.cast(.item), .locked): return .keep(.postpone)
        case (.cast(.item), .open):
            data &+= 1
            return .keep
        case (.call(.count(let reply)), _): return .keep(.reply(reply, data))
        default: return .keep
        }
    }
}

/// The three-state ring of `statem_event_state_timeout`, for the scaling runs: it arms its state timeout at the
/// start too (so that every machine holds a live timer while it is measured), and counts each handled event down
/// on a shared ``Countdown`` (`ss_ring` on the OTP side, with an `atomics` counter).
struct CountedRing: StateMachine {
    typealias State = Ring.State
    enum Cast: Sendable { case step }

    let stateTimeout: Duration
    let countdown: Countdown

    func start() -> Start<Self> { .ok(.a, .stateTimeout(stateTimeout)) }

    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        guard case .cast(.step) = event else { return .keep }
        countdown.tick()
        return .goto(Ring.following(state), .stateTimeout(stateTimeout))
    }
}

/// A gate a handler can wait at: holds a server's worker in its handler while a producer fills its mailbox
/// (`cast_split`).
final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)

    /// Blocks the calling thread until ``open()``.
    func wait() { semaphore.wait() }

    /// Lets the waiting handler return.
    func open() { semaphore.signal() }
}

/// ``Counter`` with one more cast, `hold`, whose handler waits at a gate: `cast_split` measures each side of a
/// cast stream alone with it (the producer while the server is held; the server draining the queue alone after).
struct HeldCounter: StateMachine {
    enum State: Hashable, Sendable { case counting }
    enum Call: Sendable { case count(Reply<Int>) }
    enum Cast: Sendable { case add(Int), hold(Gate) }

    func start() -> Start<Self> { .ok(.counting, data: 0) }

    func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
        switch event {
        case .call(.count(let reply)): return .keep(.reply(reply, data))
        case .cast(.add(let amount)):
            data &+= amount
            return .keep
        case .cast(.hold(let gate)):
            gate.wait()
            return .keep
        default: return .keep
        }
    }
}

/// ``Ring`` with the `hold` cast of ``HeldCounter`` (`event_split`).
struct HeldRing: StateMachine {
    typealias State = Ring.State
    enum Call: Sendable { case steps(Reply<Int>) }
    enum Cast: Sendable { case step, hold(Gate) }

    /// The state timeout set on every transition, or `nil` for none.
    let stateTimeout: Duration?

    func start() -> Start<Self> { .ok(.a, data: 0) }

    func handle(_ event: Event<Self>, in state: State, data: inout Int) -> Transition<Self> {
        switch event {
        case .cast(.step):
            data &+= 1
            let next = Ring.following(state)
            if let stateTimeout { return .goto(next, .stateTimeout(stateTimeout)) }
            return .goto(next)
        case .cast(.hold(let gate)):
            gate.wait()
            return .keep
        case .call(.steps(let reply)):
            return .keep(.reply(reply, data))
        default:
            return .keep
        }
    }
}
