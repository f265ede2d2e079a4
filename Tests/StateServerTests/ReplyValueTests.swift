import Testing
@testable import StateServer

// Replies travel type-erased (`ReplyValue`): small values of trivial types inline, everything else boxed. Every
// layout must come back to the caller intact, and traces must show the value itself.

@Suite("Reply values of every layout")
struct ReplyValueTests {
    final class Token: Sendable, Equatable {
        let name: String
        init(_ name: String) { self.name = name }
        static func == (lhs: Token, rhs: Token) -> Bool { lhs.name == rhs.name }
    }

    struct Pair: Sendable, Equatable { var a: Int; var b: Int }  // 16 bytes, trivial: inline
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

    @Test func inlineAndBoxedValuesAreErasedToThemselves() {
        #expect(ReplyValue(42).box == nil)
        #expect(ReplyValue(Pair(a: 1, b: 2)).box == nil)
        #expect(ReplyValue(Triple(a: 1, b: 2, c: 3)).box != nil)
        #expect(ReplyValue("x").box != nil)
        #expect(ReplyValue(42).erased as? Int == 42)
        #expect(ReplyValue(Pair(a: 1, b: 2)).erased as? Pair == Pair(a: 1, b: 2))
        #expect(ReplyValue(Triple(a: 1, b: 2, c: 3)).erased as? Triple == Triple(a: 1, b: 2, c: 3))
        #expect(ReplyValue("x").erased as? String == "x")
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
