import Machines

extension CatalogEntry {
    static let vendingMachine = CatalogEntry.machine(
        name: "vending-machine",
        summary: "coins → credit, select a slot → product and change; refund on cancel or after 60 s idle",
        words: [
            EventWord(usage: "coin <cents>", summary: "insert a coin: 5, 10, 25, 50, 100 or 200 (a call)") {
                server, arguments in
                let cents = try EventWord<VendingMachine>.integer(arguments, at: 0, for: "coin <cents>")
                return try await VendingWords.ask(server, { .insertCoin(cents: cents, $0) }) { result in
                    switch result {
                    case .success(let credit): "credit \(credit)¢"
                    case .failure(let error): "\(error)"
                    }
                }
            },
            EventWord(usage: "select <slot>", summary: "buy from a slot, e.g. A1 (a call, answered once dispensed)") {
                server, arguments in
                let slot = try VendingWords.slot(arguments, for: "select <slot>")
                return try await VendingWords.ask(server, { .select(slot: slot, $0) }) { result in
                    switch result {
                    case .success(let vend): "\(vend)"
                    case .failure(let error): "\(error)"
                    }
                }
            },
            EventWord(usage: "cancel", summary: "refund the credit (a call)") { server, arguments in
                try EventWord<VendingMachine>.expectNoArguments(arguments, for: "cancel")
                return try await VendingWords.ask(server, { .cancel($0) }) { "refunded \($0)¢" }
            },
            EventWord(usage: "credit", summary: "ask for the credit (a call)") { server, arguments in
                try EventWord<VendingMachine>.expectNoArguments(arguments, for: "credit")
                return try await VendingWords.ask(server, { .credit($0) }) { "credit \($0)¢" }
            },
            EventWord(usage: "restock <slot> <count>", summary: "operator: add items to a slot (a call)") {
                server, arguments in
                let slot = try VendingWords.slot(arguments, for: "restock <slot> <count>")
                let count = try EventWord<VendingMachine>.integer(arguments, at: 1, for: "restock <slot> <count>")
                return try await VendingWords.ask(server, { .restock(slot: slot, count: count, $0) }) { result in
                    switch result {
                    case .success(let stock): "\(slot) now holds \(stock)"
                    case .failure(let error): "\(error)"
                    }
                }
            },
            EventWord(usage: "stock", summary: "list the slots with prices and stock (a call)") { server, arguments in
                try EventWord<VendingMachine>.expectNoArguments(arguments, for: "stock")
                return try await VendingWords.ask(server, { .inventory($0) }) { slots in
                    slots.map(\.description).joined(separator: ", ")
                }
            },
        ],
        make: { speed in
            VendingMachine(
                slots: [
                    .init(id: "A1", product: "Cola", price: 125, count: 5),
                    .init(id: "A2", product: "Water", price: 90, count: 5),
                    .init(id: "B1", product: "Chips", price: 150, count: 2),
                ],
                configuration: VendingMachine.Configuration().speeded(up: speed))
        })
}

/// Helpers of the vending machine's words.
enum VendingWords {
    /// Sends a call and formats its reply. In virtual time a deferred reply (a selection, answered once the
    /// product has dropped) is not waited for: the trace shows it when time moves.
    static func ask<Value: Sendable>(
        _ server: Server<VendingMachine>, _ makeRequest: @escaping @Sendable (Reply<Value>) -> VendingMachine.Call,
        format: (Value) -> String
    ) async throws -> String {
        guard server.runtime.isVirtual else { return format(try await server.call(timeout: .seconds(5), makeRequest)) }
        switch server.request(timeout: .seconds(5), makeRequest).result {
        case .success(let value)?: return format(value)
        case .failure(let error)?: throw error
        case nil: return "no reply yet: the machine answers once the product has dropped (advance time)"
        }
    }

    /// The slot id in the first argument.
    static func slot(_ arguments: [String], for usage: String) throws -> String {
        guard let slot = arguments.first else {
            throw UsageError("'\(usage)' needs a slot, such as A1", help: "usage: \(usage)")
        }
        return slot
    }
}
