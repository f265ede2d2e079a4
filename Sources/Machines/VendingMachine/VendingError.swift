/// Why a ``VendingMachine`` refused a request; the failure of its `Result` replies.
///
/// ```swift
/// switch try await machine.call({ .select(slot: "A1", $0) }) {
/// case .success(let vend): print("\(vend.product), change \(vend.change)")
/// case .failure(.insufficientCredit(let price, let credit)): print("insert \(price - credit) more")
/// case .failure(let error): print(error)
/// }
/// ```
///
/// A refused coin is returned to the customer; a refused selection leaves the credit as it was.
public enum VendingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The coin is not an accepted denomination, or would take the credit over the maximum; it is returned.
    case coinRejected(cents: Int)
    /// Every slot is empty, so the machine takes no coins until restocked; the coin is returned.
    case outOfService
    /// No slot has this id.
    case unknownSlot(String)
    /// The slot is empty.
    case soldOut(slot: String)
    /// The credit does not cover the price.
    case insufficientCredit(price: Int, credit: Int)
    /// A restock count must be positive.
    case invalidCount(Int)

    /// A sentence for people: `coin of 3¢ rejected (returned)`.
    public var description: String {
        switch self {
        case .coinRejected(let cents): "coin of \(cents)¢ rejected (returned)"
        case .outOfService: "out of service: every slot is empty (coin returned)"
        case .unknownSlot(let slot): "no slot \(slot)"
        case .soldOut(let slot): "slot \(slot) is sold out"
        case .insufficientCredit(let price, let credit):
            "price \(price)¢, credit \(credit)¢: insert \(price - credit)¢ more"
        case .invalidCount(let count): "cannot restock \(count) items: the count must be positive"
        }
    }
}
