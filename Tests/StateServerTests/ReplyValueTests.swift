import Testing
@testable import StateServer

// Replies travel type-erased (`ReplyValue`): trivial values of up to 8 bytes inline, everything else boxed. Every
// layout must come back to the caller intact, and traces must show the value itself.

@Suite("Reply values of every layout")
struct ReplyValueTests {
    final class Token: Sendable, Equatable {
        let name: String
        init(_ name: String) { self.name = name }
        static func == (lhs: Token, rhs: Token) -> Bool { lhs.name == rhs.name }
    }

    struct Pair: Sendable, Equatable { var a: Int; var b: Int }  // 16 bytes: boxed
    struct Triple: Sendable, Equatable { var a: Int; var b: Int; var c: Int }  // 24 bytes: boxed
    struct Named: Sendable, Equatable { var id: UInt8; var name: String }  // holds a reference: boxed
    enum Small: Sendable, Equatable { case on, off(UInt16) }

    @Test func eachLayoutRoundTripsThroughReplySend() {
        func roundTrip<Value: Sendable & Equatable>(_ value: Value) -> Value? {
            let reply = Reply<Value>()
            #expect(reply.send(value))
            return reply.value
        }
        #expect(roundTrip(42) == 42)
        #expect(roundTrip(Int.min) == Int.min)
        #expect(roundTrip(true) == true)
        #expect(roundTrip(UInt8(7)) == 7)
        #expect(roundTrip(2.5) == 2.5)
        #expect(roundTrip(Pair(a: -1, b: .max)) == Pair(a: -1, b: .max))
        #expect(roundTrip(Triple(a: 1, b: 2, c: 3)) == Triple(a: 1, b: 2, c: 3))
        #expect(roundTrip(Named(id: 3, name: "a name longer than fifteen bytes")) == Named(id: 3, name: "a name longer than fifteen bytes"))
        #expect(roundTrip(Small.off(9)) == .off(9))
        #expect(roundTrip(Optional<Int>.none) == .some(nil))
        #expect(roundTrip("text") == "text")
        #expect(roundTrip([1, 2, 3]) == [1, 2, 3])
        #expect(roundTrip(Token("t")) == Token("t"))
    }

    @Test func smallTrivialValuesAreInlineAndTheRestBoxedAndEachErasesToItself() {
        func check<Value: Sendable & Equatable>(_ value: Value, inline: Bool) {
            let stored = ReplyValue(value)
            if case .inline = stored { #expect(inline, "\(Value.self) stored inline") } else { #expect(!inline, "\(Value.self) boxed") }
            #expect(stored.value(as: Value.self) == value)
            #expect(stored.erased(as: TypedReplyValueBox<Value>.self) as? Value == value)
        }
        check(42, inline: true)
        check(-1.5, inline: true)
        check(true, inline: true)
        check(Small.off(3), inline: true)
        check(Pair(a: 1, b: 2), inline: false)
        check(Optional(7), inline: false)
        check(Triple(a: 1, b: 2, c: 3), inline: false)
        check("x", inline: false)
        check(Token("t"), inline: false)
    }

    struct Echo: StateMachine {
        typealias State = Int
        enum Call: Sendable {
            case pair(Reply<Pair>)
            case triple(Reply<Triple>)
            case named(Reply<Named>)
            case token(Reply<Token>)
        }
        func start() -> Start<Self> { .ok(0) }
        func handle(_ event: Event<Self>, in state: Int, data: inout Void) -> Transition<Self> {
            guard case .call(let call) = event else { return .keep }
            switch call {
            case .pair(let reply): return .keep(.reply(reply, Pair(a: 1, b: 2)))
            case .triple(let reply): return .keep(.reply(reply, Triple(a: 4, b: 5, c: 6)))
            case .named(let reply): return .keep(.reply(reply, Named(id: 1, name: "named")))
            case .token(let reply): return .keep(.reply(reply, Token("token")))
            }
        }
    }

    @Test func callsGetEachLayoutBackAndTracesShowTheValue() async throws {
        let runtime = Runtime(clock: ManualClock())
        let traces = Locked<[String]>([])
        let server = try runtime.start(Echo(), options: ServerOptions(observer: { observation in
            if case .replied(let value, _) = observation.event { traces.withLock { $0.append("\(value)") } }
        }))
        #expect(try await server.call { .pair($0) } == Pair(a: 1, b: 2))
        #expect(try await server.call { .triple($0) } == Triple(a: 4, b: 5, c: 6))
        #expect(try await server.call { .named($0) } == Named(id: 1, name: "named"))
        #expect(try await server.call { .token($0) } == Token("token"))
        #expect(traces.withLock { $0 }.count == 4)
        #expect(traces.withLock { $0 }.first == "Pair(a: 1, b: 2)")
        #expect(traces.withLock { $0 }.dropFirst().first == "Triple(a: 4, b: 5, c: 6)")
    }
}
