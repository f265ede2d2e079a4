import Testing
import StateServer

@Suite struct ReplyCollectionTests {
    /// Keeps each `ask` unanswered until `answer` names it.
    private struct Desk: StateMachine {
        enum State: Hashable, Sendable { case open }
        typealias Data = [Int: Reply<Int>]
        enum Call: Sendable { case ask(Int, Reply<Int>) }
        enum Cast: Sendable { case answer(Int) }
        func start() -> Start<Self> { .ok(.open, data: [:]) }
        func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
            switch event {
            case .call(.ask(let number, let reply)):
                data[number] = reply
                return .keep
            case .cast(.answer(let number)):
                guard let reply = data.removeValue(forKey: number) else { return .keep }
                return .keep(.reply(reply, number * 10))
            default:
                return .keep
            }
        }
    }

    @Test func outcomesArriveInArrivalOrderAndTheDeadlineEndsTheRest() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let desk = try runtime.start(Desk())
        let replies = ReplyCollection<String, Int>(deadline: .seconds(1), on: runtime)
        for (key, number) in [("a", 1), ("b", 2), ("c", 3)] {
            replies.add(key, desk.request(timeout: nil) { .ask(number, $0) })
        }
        try desk.cast(.answer(3))
        try desk.cast(.answer(1))
        #expect(replies.pendingCount == 1)
        clock.advance(by: .seconds(1))
        var seen: [String] = []
        for await (key, result) in replies {
            switch result {
            case .success(let value): seen.append("\(key)=\(value)")
            case .failure(let error): seen.append("\(key):\(error.code)")
            }
        }
        #expect(seen == ["c=30", "a=10", "b:callTimeout"])
    }

    @Test func aKeyAddedTwiceYieldsBothOutcomesAndStillFinishes() async throws {
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)
        let desk = try runtime.start(Desk())
        let replies = ReplyCollection<String, Int>(deadline: .seconds(1), on: runtime)
        replies.add("same", desk.request(timeout: nil) { .ask(1, $0) })
        replies.add("same", desk.request(timeout: nil) { .ask(2, $0) })
        clock.advance(by: .seconds(1))
        #expect(replies.pendingCount == 0)
        var count = 0
        for await _ in replies { count += 1 }
        #expect(count == 2)
    }

    @Test func cancelRemainingEndsEveryPendingRequest() async throws {
        let runtime = Runtime(clock: ManualClock())
        let desk = try runtime.start(Desk())
        let replies = ReplyCollection<Int, Int>()
        for number in 1...3 { replies.add(number, desk.request(timeout: nil) { .ask(number, $0) }) }
        replies.cancelRemaining()
        var codes: [StateServerError.Code] = []
        for await (_, result) in replies {
            if case .failure(let error) = result { codes.append(error.code) }
        }
        #expect(codes == [.cancelled, .cancelled, .cancelled])
    }
}
