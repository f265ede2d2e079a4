import Testing
@testable import StateServer

struct Light: StateMachine {
    enum State: Hashable, Sendable { case red, green, yellow }
    enum Call: Sendable { case current(Reply<State>) }
    enum Cast: Sendable { case walk }
    func start() -> Start<Self> { .ok(.red, data: (), actions: [.stateTimeout(.seconds(30))]) }
    func handle(_ event: Event<Self>, in state: State, data: inout Void) -> Transition<Self> {
        switch (state, event) {
        case (_, .call(.current(let r))): return .keep(.reply(r, state))
        case (.red, .stateTimeout): return .goto(.green, .stateTimeout(.seconds(25)))
        case (.green, .stateTimeout), (.green, .cast(.walk)): return .goto(.yellow, .stateTimeout(.seconds(5)))
        case (.yellow, .stateTimeout): return .goto(.red, .stateTimeout(.seconds(30)))
        default: return .keep
        }
    }
}

@Test func smokeVirtual() async throws {
    let clock = ManualClock()
    let runtime = Runtime(clock: clock)
    let light = try runtime.start(Light())
    #expect(try await light.call { .current($0) } == .red)
    clock.advance(by: .seconds(29))
    #expect(try await light.call { .current($0) } == .red)
    clock.advance(by: .seconds(1))
    #expect(try await light.call { .current($0) } == .green)
    try light.cast(.walk)
    #expect(try await light.call { .current($0) } == .yellow)
    clock.advance(by: .seconds(5))
    #expect(try await light.call { .current($0) } == .red)
    try await light.stop()
    #expect(!light.isAlive)
    await #expect(throws: StateServerError.self) { try await light.call { .current($0) } }
}

@Test func smokeReal() async throws {
    let runtime = Runtime()
    let light = try runtime.start(Light())
    for _ in 0..<1000 { #expect(try await light.call { .current($0) } == .red) }
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<8 { group.addTask { for _ in 0..<1000 { _ = try? await light.call { .current($0) } } } }
    }
    try await light.stop()
}
