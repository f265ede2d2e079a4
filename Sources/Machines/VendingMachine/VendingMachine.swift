/// A vending machine: coins build up a credit, a selection sells the product of a slot and returns the change,
/// cancel (or an idle timeout) refunds the credit, and an operator restocks the slots.
///
/// ```swift
/// let machine = try runtime.start(VendingMachine(slots: [
///     .init(id: "A1", product: "Cola", price: 125, count: 10),
///     .init(id: "A2", product: "Water", price: 90, count: 10),
/// ]))
/// _ = try await machine.call { .insertCoin(cents: 100, $0) }       // .success(100): the credit
/// _ = try await machine.call { .insertCoin(cents: 50, $0) }        // .success(150)
/// let vend = try await machine.call { .select(slot: "A1", $0) }    // .success(Vend: Cola, change 25)
/// ```
///
/// Every request is a call with a typed reply, so a customer learns at once what happened:
/// - ``Call/insertCoin(cents:_:)`` answers the new credit, or ``VendingError/coinRejected(cents:)`` (the coin is
///   returned) for a denomination not in ``Configuration/acceptedCoins`` or one that would take the credit over
///   ``Configuration/maximumCredit``.
/// - ``Call/select(slot:_:)`` sells when the slot exists, is stocked and the credit covers its price: the machine
///   moves to ``State/dispensing`` while the motor turns (``Configuration/dispenseTime``), then answers a ``Vend``
///   with the product and the change (the whole credit is settled: nothing is left over for a second purchase).
///   Otherwise it answers ``VendingError/unknownSlot(_:)``, ``VendingError/soldOut(slot:)`` or
///   ``VendingError/insufficientCredit(price:credit:)`` and keeps the credit.
/// - ``Call/cancel(_:)`` refunds the whole credit (the reply is the amount).
/// - After ``Configuration/idleTimeout`` without a coin, the credit is refunded into the coin-return tray
///   (``Data/coinReturn``).
/// - Coins, selections and cancels that arrive while dispensing are postponed until the motor stops (like
///   `gen_statem`'s `postpone`), then handled in order.
/// - When the last item is sold the machine goes ``State/outOfService`` and refuses coins
///   (``VendingError/outOfService``) until ``Call/restock(slot:count:_:)`` refills a slot; a machine started with
///   every slot empty starts there.
///
/// The logic is ``table`` (drawn in `Docs/Machines/VendingMachine.md`); amounts are in cents.
///
/// Concurrency: a `Sendable` value; each server runs its handler one event at a time, so concurrent customers
/// are served in mailbox order.
public struct VendingMachine: TableMachine {
    /// The machine's states.
    public enum State: Hashable, Sendable, CaseIterable {
        /// No credit; waiting for a coin.
        case idle
        /// Holding credit: waiting for more coins, a selection or a cancel, until the idle timeout.
        case collecting
        /// The motor is turning: requests wait (they are postponed) until the product has dropped.
        case dispensing
        /// Every slot is empty: coins are refused until an operator restocks.
        case outOfService
    }

    /// A slot of the machine: an id (`A1`), its product and price, and how many items it holds.
    public struct Slot: Hashable, Sendable, CustomStringConvertible {
        /// The id a customer selects, such as `A1`.
        public var id: String
        /// The product's name.
        public var product: String
        /// The price in cents.
        public var price: Int
        /// Items left.
        public var count: Int

        /// Creates a slot.
        public init(id: String, product: String, price: Int, count: Int) {
            self.id = id
            self.product = product
            self.price = price
            self.count = count
        }

        /// `A1 Cola 125¢ ×10`.
        public var description: String { "\(id) \(product) \(price)¢ ×\(count)" }
    }

    /// A completed sale: what was sold, from which slot, and the change returned.
    public struct Vend: Hashable, Sendable, CustomStringConvertible {
        /// The slot sold from.
        public var slot: String
        /// The product sold.
        public var product: String
        /// The price paid, in cents.
        public var price: Int
        /// The change returned, in cents: the credit minus the price.
        public var change: Int

        /// Creates a sale.
        public init(slot: String, product: String, price: Int, change: Int) {
            self.slot = slot
            self.product = product
            self.price = price
            self.change = change
        }

        /// `Cola from A1, change 25¢`.
        public var description: String { "\(product) from \(slot), change \(change)¢" }
    }

    /// Requests, each with a typed reply.
    public enum Call: Sendable {
        /// A customer inserted a coin: replies the new credit, or why the coin was returned.
        case insertCoin(cents: Int, Reply<Result<Int, VendingError>>)
        /// A customer chose a slot: replies the sale (once dispensed), or why not.
        case select(slot: String, Reply<Result<Vend, VendingError>>)
        /// A customer pressed cancel: replies the credit refunded (0 when there was none).
        case cancel(Reply<Int>)
        /// The current credit.
        case credit(Reply<Int>)
        /// An operator added `count` items to a slot: replies the slot's new count, or why not.
        case restock(slot: String, count: Int, Reply<Result<Int, VendingError>>)
        /// Every slot, in the configured order.
        case inventory(Reply<[Slot]>)
    }

    /// The rules and timings of the machine.
    public struct Configuration: Hashable, Sendable {
        /// The coins taken, in cents; any other coin is returned.
        public var acceptedCoins: Set<Int>
        /// The most credit the machine holds; a coin that would exceed it is returned.
        public var maximumCredit: Int
        /// How long credit is held after the last coin before it is refunded to the coin-return tray.
        public var idleTimeout: Duration
        /// How long the motor takes to drop a product.
        public var dispenseTime: Duration

        /// Creates a configuration; the defaults take 5, 10, 25, 50, 100 and 200 cents up to 10.00, refund after
        /// 60 s without a coin, and dispense in 2 s.
        public init(
            acceptedCoins: Set<Int> = [5, 10, 25, 50, 100, 200], maximumCredit: Int = 1000,
            idleTimeout: Duration = .seconds(60), dispenseTime: Duration = .seconds(2)
        ) {
            self.acceptedCoins = acceptedCoins
            self.maximumCredit = maximumCredit
            self.idleTimeout = idleTimeout
            self.dispenseTime = dispenseTime
        }

        /// Whether a coin of `cents` is taken when the credit is `credit`.
        public func accepts(_ cents: Int, credit: Int) -> Bool {
            acceptedCoins.contains(cents) && credit + cents <= maximumCredit
        }

        /// Every duration divided by `factor` (for watching the machine in real time at higher speed).
        public func speeded(up factor: Double) -> Configuration {
            var configuration = self
            configuration.idleTimeout = idleTimeout / factor
            configuration.dispenseTime = dispenseTime / factor
            return configuration
        }
    }

    /// The slots the machine starts with (their order is the inventory's order).
    public var slots: [Slot]
    /// The rules and timings.
    public var configuration: Configuration

    /// Creates a machine stocked with `slots`.
    public init(slots: [Slot], configuration: Configuration = Configuration()) {
        self.slots = slots
        self.configuration = configuration
    }

    /// Starts ``State/idle`` with no credit, or ``State/outOfService`` when every slot is empty.
    ///
    /// Fails to start (``StateServerError/Code/startFailed``, with an ``StateServerError/Code/invalidArgument``
    /// error as the exit reason) when two slots share an id, a price is not positive or a count is negative.
    public func start() throws -> Start<Self> {
        var ids = Set<String>()
        for slot in slots {
            guard ids.insert(slot.id).inserted else {
                return .error(StateServerError(.invalidArgument, "two vending machine slots have the id \(slot.id)"))
            }
            guard slot.price > 0, slot.count >= 0 else {
                return .error(StateServerError(
                    .invalidArgument, "slot \(slot.id) needs a positive price and a count of at least zero"))
            }
        }
        let data = initialData()
        return try startTable(in: data.isSoldOut ? .outOfService : .idle, data: data)
    }

    /// No credit, the configured slots, nothing taken or returned yet.
    public func initialData() -> Data { Data(slots: slots) }

    /// The table depends on the configuration: one compiled table per configuration.
    public var tableVariant: (any Hashable & Sendable)? { configuration }

    /// The machine's transitions (drawn in `Docs/Machines/VendingMachine.md`).
    public var table: TransitionTable<Self> {
        let rules = configuration
        When(.idle) {
            On(call: "insertCoin", match: Self.coin, goto: .collecting, reply: Self.creditReply)
                .guard("isAccepted") { data, cents in rules.accepts(cents, credit: data.credit) }
                .action("addCredit") { data, cents in data.credit += cents }
            On(call: "insertCoin", match: Self.coin, reply: Self.rejectCoin)
        }
        When(.collecting, timeout: rules.idleTimeout) {
            On(call: "insertCoin", match: Self.coin, reply: Self.creditReply)
                .guard("isAccepted") { data, cents in rules.accepts(cents, credit: data.credit) }
                .action("addCredit") { data, cents in data.credit += cents }
                .action("restartIdleTimer") { _, _ in [.stateTimeout(rules.idleTimeout)] }
            On(call: "insertCoin", match: Self.coin, reply: Self.rejectCoin)
            On(call: "select", match: Self.selection, goto: .dispensing)
                .guard("canVend") { data, request in data.refusal(for: request.0) == nil }
                .action("vend") { data, request in data.vend(from: request.0, replyingTo: request.1) }
            On(call: "cancel", match: Self.cancellation, goto: .idle, reply: { data in data.takeCredit() })
            On(.stateTimeout, goto: .idle).action("refundToTray") { data in data.coinReturn += data.takeCredit() }
        }
        When(.dispensing, timeout: rules.dispenseTime) {
            On(.stateTimeout, goto: .outOfService).guard("isSoldOut") { data in data.isSoldOut }
                .action("deliver") { data in data.deliver() }
            On(.stateTimeout, goto: .idle).action("deliver") { data in data.deliver() }
            On(call: "insertCoin", match: Self.coin).action("postpone") { _, _ in [.postpone] }
            On(call: "select", match: Self.selection).action("postpone") { _, _ in [.postpone] }
            On(call: "cancel", match: Self.cancellation).action("postpone") { _, _ in [.postpone] }
        }
        When(.outOfService) {
            On(call: "restock", match: Self.restocking, goto: .idle, reply: { data, request in
                data.restock(request.slot, adding: request.count)
            })
            .guard("refillsASlot") { data, request in data.restockProblem(request.slot, adding: request.count) == nil }
            On(call: "insertCoin", match: Self.coin, reply: { _, _ in .failure(.outOfService) })
        }
        Always {
            On(call: "select", match: Self.selection, reply: { data, slot in
                // Prices are positive, so outside `collecting` (whose row sells) the credit never covers a price.
                .failure(data.refusal(for: slot) ?? .insufficientCredit(price: data.credit + 1, credit: data.credit))
            })
            On(call: "cancel", match: Self.cancellation, reply: { data in data.takeCredit() })
            On(call: "credit", match: { if case .credit(let reply) = $0 { reply } else { nil } },
               reply: { data in data.credit })
            On(call: "restock", match: Self.restocking, reply: { data, request in
                data.restock(request.slot, adding: request.count)
            })
            On(call: "inventory", match: { if case .inventory(let reply) = $0 { reply } else { nil } },
               reply: { data in data.slots })
        }
    }

    // MARK: Matchers and replies shared by rows

    /// A coin's value and reply handle.
    static let coin: @Sendable (Call) -> (Int, Reply<Result<Int, VendingError>>)? = {
        if case .insertCoin(let cents, let reply) = $0 { (cents, reply) } else { nil }
    }

    /// A selection's slot and reply handle.
    static let selection: @Sendable (Call) -> (String, Reply<Result<Vend, VendingError>>)? = {
        if case .select(let slot, let reply) = $0 { (slot, reply) } else { nil }
    }

    /// A cancel's reply handle.
    static let cancellation: @Sendable (Call) -> Reply<Int>? = {
        if case .cancel(let reply) = $0 { reply } else { nil }
    }

    /// A restock's slot and count, and its reply handle.
    static let restocking: @Sendable (Call) -> ((slot: String, count: Int), Reply<Result<Int, VendingError>>)? = {
        if case .restock(let slot, let count, let reply) = $0 { ((slot, count), reply) } else { nil }
    }

    /// The reply to an accepted coin: the new credit.
    static let creditReply: @Sendable (inout Data, Int) -> Result<Int, VendingError> = { data, _ in
        .success(data.credit)
    }

    /// The reply to a refused coin.
    static let rejectCoin: @Sendable (inout Data, Int) -> Result<Int, VendingError> = { _, cents in
        .failure(.coinRejected(cents: cents))
    }
}
