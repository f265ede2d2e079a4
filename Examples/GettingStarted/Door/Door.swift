import StateServer

/// A door with a keypad: locked until someone enters the right code, then closed and free to open.
/// Ten seconds after it is closed it locks itself again.
///
/// This is the machine of the getting-started guide (`Docs/GettingStarted.md`); the example program and its
/// tests share it, which is why its declarations are `public`.
public struct Door: StateMachine {
    /// Where the door is.
    public enum State: Hashable, Sendable {
        case locked, closed, open
    }

    /// Requests that get an answer.
    public enum Call: Sendable {
        /// Try a code: succeeds when the door was locked and the code is right.
        case unlock(code: String, Reply<Result<Void, UnlockError>>)
        /// Where the door is now.
        case currentState(Reply<State>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        case open, close
    }

    /// Why the door refused to unlock.
    public enum UnlockError: Error, Equatable, Sendable {
        case wrongCode, notLocked
    }

    /// The code that unlocks the door.
    public let code: String

    /// A door that opens with `code`.
    public init(code: String) { self.code = code }

    /// A door starts locked.
    public func start() -> Start<Self> {
        .ok(.locked)
    }

    /// The door's rules: one `case` per thing that can happen in a state.
    public func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch (state, event) {
        case (_, .call(.currentState(let reply))):
            return .keep(.reply(reply, state))

        case (.locked, .call(.unlock(let entered, let reply))):
            guard entered == code else { return .keep(.reply(reply, .failure(.wrongCode))) }
            return .goto(.closed, .reply(reply, .success(())), .stateTimeout(.seconds(10)))

        case (_, .call(.unlock(_, let reply))):
            return .keep(.reply(reply, .failure(.notLocked)))

        case (.closed, .cast(.open)):
            return .goto(.open)

        case (.open, .cast(.close)):
            return .goto(.closed, .stateTimeout(.seconds(10)))

        case (.closed, .stateTimeout):
            return .goto(.locked)

        default:
            return .keep
        }
    }
}

/// The guide's demo: drives a door in virtual time and reports each step through `output`.
///
/// `runtime` must run on `clock` (`Runtime(clock: clock)`), so the demo moves time itself and its output is
/// the same on every run.
public func runDoorDemo(runtime: Runtime, clock: ManualClock, output: (String) -> Void) async throws {
    let door = try runtime.start(Door(code: "1234"))

    func report(_ what: String) async throws {
        let state = try await door.call { .currentState($0) }
        output("\(runtime.now): \(state) (\(what))")
    }

    try await report("started")

    let refused = try await door.call { .unlock(code: "0000", $0) }
    if case .failure(let error) = refused { try await report("code 0000 refused: \(error)") }

    try await door.call { .unlock(code: "1234", $0) }.get()
    try await report("code 1234 accepted")

    try door.cast(.open)
    try await report("opened")

    clock.advance(by: .seconds(30))
    try await report("an open door never relocks")

    try door.cast(.close)
    try await report("closed again")

    clock.advance(by: .seconds(9))
    try await report("9 s after closing")

    clock.advance(by: .seconds(1))
    try await report("10 s after closing: relocked")

    try await door.stop()
}
