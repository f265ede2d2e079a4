import Machines
import StateServerTesting
import Testing

// Every row of VendingMachine's table, including every timeout, in virtual time; its guide, checked against the
// code. Rows are named as in the table (`collecting: select [canVend] / vend → dispensing`).

@Suite struct MachineVendingMachineTests {
    typealias Vending = VendingMachine
    typealias CoinResult = Result<Int, VendingError>
    typealias VendResult = Result<Vending.Vend, VendingError>

    static let slots: [Vending.Slot] = [
        .init(id: "A1", product: "Cola", price: 125, count: 2),
        .init(id: "A2", product: "Water", price: 90, count: 1),
        .init(id: "B1", product: "Chips", price: 150, count: 0),
    ]

    func tester(
        slots: [Vending.Slot] = Self.slots, configuration: Vending.Configuration = Vending.Configuration(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MachineTester<Vending> {
        try MachineTester(Vending(slots: slots, configuration: configuration), sourceLocation: sourceLocation)
    }

    /// Inserts a coin and claims its reply (and the move to collecting, for the first coin).
    @discardableResult
    func insert(
        _ cents: Int, into tester: MachineTester<Vending>, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> CoinResult? {
        let wasIdle = tester.state == .idle
        let reply = tester.call { .insertCoin(cents: cents, $0) }
        let result = try reply.result?.get()
        if let result { tester.expectReply(result, sourceLocation: sourceLocation) }
        if wasIdle, case .success? = result {
            tester.expectTransition(from: .idle, to: .collecting, sourceLocation: sourceLocation)
        }
        return result
    }

    // MARK: The table

    @Test func tableIsValid() throws {
        try Vending(slots: Self.slots).validateTable().check()
        try Vending(slots: [], configuration: .init(acceptedCoins: [1], idleTimeout: .seconds(5)))
            .validateTable().check()
    }

    @Test func diagramShowsEveryStateAndTimeout() {
        #expect(Vending(slots: Self.slots).table.mermaidDiagram() == """
            stateDiagram-v2
                [*] --> idle
                idle --> collecting : insertCoin [isAccepted] / addCredit
                collecting --> dispensing : select [canVend] / vend
                collecting --> idle : cancel
                collecting --> idle : after 60s / refundToTray
                dispensing --> outOfService : after 2s [isSoldOut] / deliver
                dispensing --> idle : after 2s / deliver
                outOfService --> idle : restock [refillsASlot]

            """)
    }

    // MARK: Start

    @Test func startsIdleWithTheSlots() async throws {
        let tester = try tester()
        tester.expectState(.idle)
        #expect(tester.data?.slots == Self.slots)
        #expect(tester.data?.credit == 0)
        tester.finish()
    }

    @Test func startsOutOfServiceWhenEverySlotIsEmpty() async throws {
        let tester = try tester(slots: [.init(id: "A1", product: "Cola", price: 125, count: 0)])
        tester.expectState(.outOfService)
        tester.finish()
    }

    @Test(arguments: [
        [Vending.Slot(id: "A1", product: "Cola", price: 125, count: 1),
         .init(id: "A1", product: "Tea", price: 80, count: 1)],
        [.init(id: "A1", product: "Cola", price: 0, count: 1)],
        [.init(id: "A1", product: "Cola", price: 125, count: -1)],
    ])
    func invalidSlotsFailTheStart(_ slots: [Vending.Slot]) throws {
        let error = try #require(throws: StateServerError.self) { try MachineTester(Vending(slots: slots)) }
        #expect(error.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error.exitReason else {
            Issue.record("unexpected exit reason \(String(describing: error.exitReason))")
            return
        }
        #expect(cause.code == .invalidArgument)
    }

    // MARK: idle

    @Test func acceptedCoinInIdleStartsCollecting() async throws {
        let tester = try tester()
        #expect(try insert(25, into: tester) == .success(25))
        tester.expectState(.collecting)
        tester.finish()
    }

    @Test(arguments: [3, 0, -25, 500])
    func refusedCoinInIdleIsReturned(_ cents: Int) async throws {
        let tester = try tester(configuration: .init(maximumCredit: 200, idleTimeout: .seconds(60)))
        #expect(try insert(cents, into: tester) == .failure(.coinRejected(cents: cents)))
        tester.expectState(.idle)
        #expect(tester.data?.credit == 0)
        tester.finish()
    }

    // MARK: collecting

    @Test func acceptedCoinsAddUpAndRestartTheIdleTimer() async throws {
        let tester = try tester()
        try insert(100, into: tester)
        tester.advance(by: .seconds(50))
        #expect(try insert(25, into: tester) == .success(125))
        tester.advance(by: .seconds(59))                         // 109 s after the first coin, 59 s after the last
        tester.expectNoMoreSteps()
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .collecting, to: .idle)
        tester.finish()
    }

    @Test func coinsOverTheMaximumCreditAreReturned() async throws {
        let tester = try tester(configuration: .init(maximumCredit: 150))
        try insert(100, into: tester)
        #expect(try insert(100, into: tester) == .failure(.coinRejected(cents: 100)))
        #expect(try insert(50, into: tester) == .success(150))
        tester.finish()
    }

    @Test func refusedCoinWhileCollectingKeepsTheCreditAndTheTimer() async throws {
        let tester = try tester()
        try insert(100, into: tester)
        tester.advance(by: .seconds(30))
        #expect(try insert(7, into: tester) == .failure(.coinRejected(cents: 7)))
        tester.advance(by: .seconds(30))                         // the refusal did not restart the timer
        tester.expectTimeout(.state)
        tester.expectTransition(from: .collecting, to: .idle)
        #expect(tester.data?.coinReturn == 100)
        tester.finish()
    }

    @Test func selectionWithEnoughCreditDispensesThenAnswersTheSaleWithChange() async throws {
        let tester = try tester()
        try insert(100, into: tester)
        try insert(50, into: tester)
        let sale = tester.call { .select(slot: "A1", $0) }
        tester.expectTransition(from: .collecting, to: .dispensing)
        #expect(!sale.isResolved)                                 // the motor is turning
        #expect(tester.data?.dispensing == Vending.Vend(slot: "A1", product: "Cola", price: 125, change: 25))
        #expect(tester.data?.credit == 0)
        tester.advance(by: .milliseconds(1999))
        tester.expectNoMoreSteps()
        tester.advance(by: .milliseconds(1))
        tester.expectTimeout(.state)
        let vend = Vending.Vend(slot: "A1", product: "Cola", price: 125, change: 25)
        tester.expectReply(VendResult.success(vend))
        tester.expectTransition(from: .dispensing, to: .idle)
        #expect(try sale.result?.get() == .success(vend))
        #expect(tester.data?.slot("A1")?.count == 1)
        #expect(tester.data?.takings == 125)
        #expect(tester.data?.dispensing == nil)
        tester.finish()
    }

    @Test func cancelRefundsTheCredit() async throws {
        let tester = try tester()
        try insert(100, into: tester)
        try insert(10, into: tester)
        #expect(try tester.call { .cancel($0) }.result?.get() == 110)
        tester.expectReply(110)
        tester.expectTransition(from: .collecting, to: .idle)
        #expect(tester.data?.credit == 0)
        tester.advance(by: .seconds(60))                         // the idle timer went with the state
        tester.finish()
    }

    @Test func idleTimeoutRefundsTheCreditToTheCoinReturn() async throws {
        let tester = try tester()
        try insert(200, into: tester)
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .collecting, to: .idle)
        #expect(tester.data?.credit == 0)
        #expect(tester.data?.coinReturn == 200)
        tester.finish()
    }

    // MARK: Refused selections (Always)

    @Test(arguments: [
        ("Z9", 200, VendingError.unknownSlot("Z9")),
        ("B1", 200, .soldOut(slot: "B1")),
        ("A1", 100, .insufficientCredit(price: 125, credit: 100)),
    ])
    func refusedSelectionWhileCollectingKeepsTheCredit(
        _ slot: String, _ credit: Int, _ error: VendingError
    ) async throws {
        let tester = try tester()
        try insert(credit, into: tester)
        #expect(try tester.call { .select(slot: slot, $0) }.result?.get() == .failure(error))
        tester.expectReply(VendResult.failure(error))
        tester.expectState(.collecting)
        #expect(tester.data?.credit == credit)
        tester.finish()
    }

    @Test func selectionWithoutCreditIsRefused() async throws {
        let tester = try tester()
        let refusal = VendingError.insufficientCredit(price: 90, credit: 0)
        #expect(try tester.call { .select(slot: "A2", $0) }.result?.get() == .failure(refusal))
        tester.expectReply(VendResult.failure(refusal))
        tester.expectState(.idle)
        tester.finish()
    }

    @Test func cancelWithoutCreditRefundsNothing() async throws {
        let tester = try tester()
        #expect(try tester.call { .cancel($0) }.result?.get() == 0)
        tester.expectReply(0)
        tester.expectState(.idle)
        tester.finish()
    }

    // MARK: dispensing

    @Test func requestsWhileDispensingWaitForTheProduct() async throws {
        let tester = try tester()
        try insert(100, into: tester)
        try insert(25, into: tester)
        let sale = tester.call { .select(slot: "A1", $0) }
        tester.expectTransition(from: .collecting, to: .dispensing)
        let coin = tester.call { .insertCoin(cents: 25, $0) }
        let second = tester.call { .select(slot: "A2", $0) }
        let cancel = tester.call { .cancel($0) }
        tester.expect(.postponed("call(insertCoin(cents: 25, reply))"))
        tester.expect(.postponed("call(select(slot: \"A2\", reply))"))
        tester.expect(.postponed("call(cancel(reply))"))
        #expect(!coin.isResolved && !second.isResolved && !cancel.isResolved)
        #expect(try tester.call { .credit($0) }.result?.get() == 0)   // answered at once: nothing is charged twice
        tester.expectReply(0)

        tester.advance(by: .seconds(2))
        tester.expectTimeout(.state)
        let vend = Vending.Vend(slot: "A1", product: "Cola", price: 125, change: 0)
        tester.expectReply(VendResult.success(vend))
        tester.expectTransition(from: .dispensing, to: .idle)
        // Then the postponed requests, in their order: the coin, the selection (too little), the cancel.
        tester.expectReply(CoinResult.success(25))
        tester.expectTransition(from: .idle, to: .collecting)
        tester.expectReply(VendResult.failure(.insufficientCredit(price: 90, credit: 25)))
        tester.expectReply(25)
        tester.expectTransition(from: .collecting, to: .idle)
        #expect(try sale.result?.get() == .success(vend))
        #expect(try coin.result?.get() == .success(25))
        #expect(try cancel.result?.get() == 25)
        tester.finish()
    }

    @Test func sellingTheLastItemTakesTheMachineOutOfService() async throws {
        let tester = try tester(slots: [.init(id: "A2", product: "Water", price: 90, count: 1)])
        try insert(100, into: tester)
        let sale = tester.call { .select(slot: "A2", $0) }
        tester.expectTransition(from: .collecting, to: .dispensing)
        tester.advance(by: .seconds(2))
        tester.expectTimeout(.state)
        let vend = Vending.Vend(slot: "A2", product: "Water", price: 90, change: 10)
        tester.expectReply(VendResult.success(vend))
        tester.expectTransition(from: .dispensing, to: .outOfService)
        #expect(try sale.result?.get() == .success(vend))
        tester.finish()
    }

    @Test func restockWhileDispensingAvoidsGoingOutOfService() async throws {
        let tester = try tester(slots: [.init(id: "A2", product: "Water", price: 90, count: 1)])
        try insert(100, into: tester)
        tester.call { .select(slot: "A2", $0) }
        tester.expectTransition(from: .collecting, to: .dispensing)
        #expect(try tester.call { .restock(slot: "A2", count: 4, $0) }.result?.get() == .success(4))
        tester.expectReply(CoinResult.success(4))
        tester.advance(by: .seconds(2))
        tester.expectTimeout(.state)
        tester.expectReply(VendResult.success(.init(slot: "A2", product: "Water", price: 90, change: 10)))
        tester.expectTransition(from: .dispensing, to: .idle)
        tester.finish()
    }

    // MARK: outOfService

    @Test func coinsAreReturnedOutOfService() async throws {
        let tester = try tester(slots: [.init(id: "A1", product: "Cola", price: 125, count: 0)])
        #expect(try insert(100, into: tester) == .failure(.outOfService))
        #expect(try tester.call { .select(slot: "A1", $0) }.result?.get() == .failure(.soldOut(slot: "A1")))
        tester.expectReply(VendResult.failure(.soldOut(slot: "A1")))
        #expect(try tester.call { .cancel($0) }.result?.get() == 0)
        tester.expectReply(0)
        tester.expectState(.outOfService)
        tester.finish()
    }

    @Test func restockPutsTheMachineBackInService() async throws {
        let tester = try tester(slots: [.init(id: "A1", product: "Cola", price: 125, count: 0)])
        #expect(try tester.call { .restock(slot: "A1", count: 6, $0) }.result?.get() == .success(6))
        tester.expectReply(CoinResult.success(6))
        tester.expectTransition(from: .outOfService, to: .idle)
        #expect(try insert(100, into: tester) == .success(100))
        tester.finish()
    }

    @Test(arguments: [
        ("Z9", 3, VendingError.unknownSlot("Z9")), ("A1", 0, .invalidCount(0)), ("A1", -2, .invalidCount(-2)),
    ])
    func invalidRestockIsRefused(_ slot: String, _ count: Int, _ error: VendingError) async throws {
        for stock in [0, 5] {                                    // out of service, and idle
            let tester = try tester(slots: [.init(id: "A1", product: "Cola", price: 125, count: stock)])
            #expect(try tester.call { .restock(slot: slot, count: count, $0) }.result?.get() == .failure(error))
            tester.expectReply(CoinResult.failure(error))
            tester.expectState(stock == 0 ? .outOfService : .idle)
            #expect(tester.data?.slot("A1")?.count == stock)
            tester.finish()
        }
    }

    // MARK: Always: credit, restock, inventory

    @Test func creditAndInventoryAreAnsweredInEveryState() async throws {
        let tester = try tester()
        #expect(try tester.call { .credit($0) }.result?.get() == 0)
        tester.expectReply(0)
        #expect(try tester.call { .inventory($0) }.result?.get() == Self.slots)
        tester.expectReply(Self.slots)
        try insert(50, into: tester)
        #expect(try tester.call { .credit($0) }.result?.get() == 50)
        tester.expectReply(50)
        #expect(try tester.call { .restock(slot: "B1", count: 3, $0) }.result?.get() == .success(3))
        tester.expectReply(CoinResult.success(3))
        #expect(try tester.call { .inventory($0) }.result?.get().map(\.count) == [2, 1, 3])
        tester.expectReply(try #require(tester.data?.slots))
        tester.expectState(.collecting)
        tester.finish()
    }

    // MARK: Configuration

    @Test func configurationSetsCoinsAndTimings() async throws {
        let configuration = Vending.Configuration(
            acceptedCoins: [1, 2], maximumCredit: 3, idleTimeout: .seconds(5), dispenseTime: .milliseconds(300))
        let gum = Vending.Slot(id: "X", product: "Gum", price: 3, count: 9)
        let tester = try tester(slots: [gum], configuration: configuration)
        #expect(try insert(25, into: tester) == .failure(.coinRejected(cents: 25)))
        #expect(try insert(2, into: tester) == .success(2))
        #expect(try insert(2, into: tester) == .failure(.coinRejected(cents: 2)))   // over the maximum
        #expect(try insert(1, into: tester) == .success(3))
        tester.call { .select(slot: "X", $0) }
        tester.expectTransition(from: .collecting, to: .dispensing)
        tester.advance(by: .milliseconds(300))
        tester.expectTimeout(.state)
        tester.expectReply(VendResult.success(.init(slot: "X", product: "Gum", price: 3, change: 0)))
        tester.expectTransition(from: .dispensing, to: .idle)
        try insert(1, into: tester)
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .collecting, to: .idle)
        tester.finish()
    }

    @Test func speededUpDividesTheTimings() {
        let fast = Vending.Configuration().speeded(up: 4)
        #expect(fast == Vending.Configuration(idleTimeout: .seconds(15), dispenseTime: .milliseconds(500)))
    }

    @Test func errorsAndSalesReadWell() {
        #expect("\(VendingError.insufficientCredit(price: 125, credit: 100))"
            == "price 125¢, credit 100¢: insert 25¢ more")
        #expect("\(Vending.Vend(slot: "A1", product: "Cola", price: 125, change: 25))" == "Cola from A1, change 25¢")
        #expect("\(Self.slots[0])" == "A1 Cola 125¢ ×2")
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/VendingMachine.md"))
        let diagram = Vending(slots: Self.slots).table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/VendingMachine.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/VendingMachine/VendingMachine.swift"))
        let table = try #require(MachineGuide.declaration(in: source, startingWith: "public var table:"))
        #expect(guide.contains(table), "paste this table:\n\(table)")
    }

    @Test func guideShowsTheUsageOfThisFile() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/VendingMachine.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        // usage:begin
        let clock = ManualClock()
        let runtime = Runtime(clock: clock)                      // virtual time here; Runtime() in an app
        let machine = try runtime.start(VendingMachine(slots: [
            .init(id: "A1", product: "Cola", price: 125, count: 10),
            .init(id: "A2", product: "Water", price: 90, count: 10),
        ]))

        #expect(try await machine.call { .insertCoin(cents: 100, $0) } == .success(100))
        #expect(try await machine.call { .insertCoin(cents: 3, $0) } == .failure(.coinRejected(cents: 3)))
        #expect(try await machine.call { .select(slot: "A1", $0) }
            == .failure(.insufficientCredit(price: 125, credit: 100)))
        _ = try await machine.call { .insertCoin(cents: 50, $0) }

        let sale = machine.request { .select(slot: "A1", $0) }  // answered once the product has dropped
        clock.advance(by: .seconds(2))
        let cola = try await sale.value().get()
        #expect(cola == VendingMachine.Vend(slot: "A1", product: "Cola", price: 125, change: 25))

        _ = try await machine.call { .insertCoin(cents: 200, $0) }
        #expect(try await machine.call { .cancel($0) } == 200)  // cancel refunds the credit
        #expect(try await machine.call { .restock(slot: "A1", count: 5, $0) } == .success(14))
        // usage:end
    }
}
