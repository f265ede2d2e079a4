extension VendingMachine {
    /// The machine's data: credit, stock, and the money taken and returned.
    public struct Data: Sendable {
        /// The customer's credit, in cents.
        public var credit = 0
        /// The slots with their current stock, in the configured order.
        public var slots: [Slot]
        /// The money kept from sales, in cents.
        public var takings = 0
        /// Credit refunded by idle timeouts, in cents: it dropped into the coin-return tray, since no caller was
        /// there to answer. (A cancel's refund and a sale's change are the replies of those calls.)
        public var coinReturn = 0
        /// While dispensing: the sale whose product is dropping.
        public private(set) var dispensing: Vend?
        /// While dispensing: the caller waiting for ``dispensing``.
        private var customer: Reply<Result<Vend, VendingError>>?

        /// Data with no credit and `slots`.
        public init(slots: [Slot]) { self.slots = slots }

        /// Whether every slot is empty.
        public var isSoldOut: Bool { slots.allSatisfy { $0.count == 0 } }

        /// The slot with id `id`.
        ///
        /// - Complexity: O(*n*) in the number of slots.
        public func slot(_ id: String) -> Slot? { slots.first { $0.id == id } }

        /// Why a sale from `slot` is not possible now (`nil` when it is).
        ///
        /// - Complexity: O(*n*) in the number of slots.
        public func refusal(for slot: String) -> VendingError? {
            guard let stocked = self.slot(slot) else { return .unknownSlot(slot) }
            guard stocked.count > 0 else { return .soldOut(slot: slot) }
            guard credit >= stocked.price else { return .insufficientCredit(price: stocked.price, credit: credit) }
            return nil
        }

        /// Why restocking `slot` with `count` items is not possible (`nil` when it is).
        public func restockProblem(_ slot: String, adding count: Int) -> VendingError? {
            guard self.slot(slot) != nil else { return .unknownSlot(slot) }
            guard count > 0 else { return .invalidCount(count) }
            return nil
        }

        /// Takes the credit (setting it to zero) and returns it.
        mutating func takeCredit() -> Int {
            defer { credit = 0 }
            return credit
        }

        /// Sells one item of `slot` (whose ``refusal(for:)`` is `nil`): charges the price, returns the rest of the
        /// credit as change, and keeps the caller to answer once the product has dropped.
        mutating func vend(from slot: String, replyingTo reply: Reply<Result<Vend, VendingError>>) {
            guard let index = slots.firstIndex(where: { $0.id == slot }) else { return }
            slots[index].count -= 1
            let price = slots[index].price
            takings += price
            dispensing = Vend(slot: slot, product: slots[index].product, price: price, change: takeCredit() - price)
            customer = reply
        }

        /// The product has dropped: answers the waiting customer with the sale.
        mutating func deliver() -> [Action<VendingMachine>] {
            defer {
                dispensing = nil
                customer = nil
            }
            guard let dispensing, let customer else { return [] }
            return [.reply(customer, .success(dispensing))]
        }

        /// Adds `count` items to `slot`, or says why not.
        mutating func restock(_ slot: String, adding count: Int) -> Result<Int, VendingError> {
            guard let index = slots.firstIndex(where: { $0.id == slot }) else { return .failure(.unknownSlot(slot)) }
            guard count > 0 else { return .failure(.invalidCount(count)) }
            slots[index].count += count
            return .success(slots[index].count)
        }
    }
}
