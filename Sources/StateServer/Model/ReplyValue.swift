/// A reply's value with its type erased, cheap to copy: the bytes of a value of a trivial type of at most eight
/// bytes (an `Int`, a `Bool`, a `Double`, a small enum or struct of such) inline, anything else in a box.
///
/// An `any Sendable` would make every action and transition that carries a reply address-only, copied and
/// destroyed through the runtime's value witnesses; this is one word and a tag. Its type is known to the reply
/// cell it is delivered to (``ReplyCell/valueType``), so the caller reads its value back without a dynamic cast.
@usableFromInline
enum ReplyValue: @unchecked Sendable {
    // Safety: immutable; `inline` holds the bytes of a `Sendable` value of a trivial type, `boxed` a `Sendable`
    // value.
    case inline(UInt64)
    case boxed(ReplyValueBox)

    /// Whether values of `Value` are stored inline.
    @inlinable static func isInline<Value>(_: Value.Type) -> Bool {
        _isPOD(Value.self) && MemoryLayout<Value>.size <= 8 && MemoryLayout<Value>.alignment <= 8
    }

    @inlinable init<Value: Sendable>(_ value: Value) {
        if Self.isInline(Value.self) {
            var bits: UInt64 = 0
            withUnsafeMutableBytes(of: &bits) { $0.storeBytes(of: value, as: Value.self) }
            self = .inline(bits)
        } else {
            self = .boxed(TypedReplyValueBox(value))
        }
    }

    /// The value, which must be of type `Value` (unchecked): a cell is only resolved and read through the
    /// `ReplySlot<Value>` it was made for, so its values are all of that slot's type.
    @inlinable func value<Value: Sendable>(as _: Value.Type) -> Value {
        switch self {
        case .inline(let bits): withUnsafeBytes(of: bits) { $0.load(as: Value.self) }
        case .boxed(let box): unsafeDowncast(box, to: TypedReplyValueBox<Value>.self).value
        }
    }

    /// The value as an existential, for traces; `type` is the cell's ``ReplyCell/valueType``.
    @usableFromInline func erased(as type: ReplyValueBox.Type) -> any Sendable {
        switch self {
        case .inline(let bits): type.erase(bits)
        case .boxed(let box): box.erased
        }
    }
}

/// The box of a ``ReplyValue`` not stored inline; its subclass for a type also names that type.
@usableFromInline
class ReplyValueBox: @unchecked Sendable {
    // Safety: immutable; subclasses hold one `Sendable` value.
    @usableFromInline init() {}
    /// The boxed value as an existential.
    @usableFromInline var erased: any Sendable { fatalError("abstract") }
    /// A value of the subclass's type stored inline as `bits`, as an existential.
    @usableFromInline class func erase(_ bits: UInt64) -> any Sendable { fatalError("abstract") }
}

@usableFromInline
final class TypedReplyValueBox<Value: Sendable>: ReplyValueBox, @unchecked Sendable {
    // Safety: `value` is immutable and `Sendable`.
    @usableFromInline let value: Value
    @inlinable init(_ value: Value) {
        self.value = value
        super.init()
    }
    @usableFromInline override var erased: any Sendable { value }
    @usableFromInline override class func erase(_ bits: UInt64) -> any Sendable {
        withUnsafeBytes(of: bits) { $0.load(as: Value.self) }
    }
}
