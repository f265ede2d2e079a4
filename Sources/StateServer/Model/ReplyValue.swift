/// A reply's value with its type erased, cheap to copy: the bytes of a small value of a trivial type (an `Int`,
/// a `Bool`, a small enum or struct of such) kept inline, anything else in a box.
///
/// Unlike an `any Sendable`, whose copies go through the runtime's value witnesses, this has a fixed layout: the
/// actions and transitions that carry a reply are copied and destroyed with plain loads and stores, and the
/// caller gets its value back without a dynamic cast.
@usableFromInline
struct ReplyValue: @unchecked Sendable {
    // Safety: immutable; `bits` hold the bytes of a `Sendable` value of a trivial type, `box` a `Sendable` value.
    @usableFromInline let bits: (UInt64, UInt64)
    @usableFromInline let box: ReplyValueBox?
    /// The box class for the value's type: what the value is, and how to read inline bytes back.
    @usableFromInline let type: ReplyValueBox.Type

    @inlinable init<Value: Sendable>(_ value: Value) {
        type = TypedReplyValueBox<Value>.self
        if _isPOD(Value.self), MemoryLayout<Value>.size <= 16, MemoryLayout<Value>.alignment <= 8 {
            var bits: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &bits) { $0.storeBytes(of: value, as: Value.self) }
            self.bits = bits
            box = nil
        } else {
            bits = (0, 0)
            box = TypedReplyValueBox(value)
        }
    }

    /// The value, which must be of type `Value`: a reply cell is only read through the typed slot it was made for.
    @inlinable func value<Value: Sendable>(as _: Value.Type) -> Value {
        precondition(type == TypedReplyValueBox<Value>.self, "a reply read as another type")
        if let box { return unsafeDowncast(box, to: TypedReplyValueBox<Value>.self).value }
        return withUnsafeBytes(of: bits) { $0.load(as: Value.self) }
    }

    /// The value as an existential, for traces and descriptions.
    @usableFromInline var erased: any Sendable {
        box?.erased ?? type.erase(bits)
    }
}

/// The box of a ``ReplyValue`` not stored inline.
@usableFromInline
class ReplyValueBox: @unchecked Sendable {
    // Safety: immutable; subclasses hold one `Sendable` value.
    @usableFromInline init() {}
    /// The boxed value as an existential.
    @usableFromInline var erased: any Sendable { fatalError("abstract") }
    /// A value of the subclass's type stored inline as `bits`, as an existential.
    @usableFromInline class func erase(_ bits: (UInt64, UInt64)) -> any Sendable { fatalError("abstract") }
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
    @usableFromInline override class func erase(_ bits: (UInt64, UInt64)) -> any Sendable {
        withUnsafeBytes(of: bits) { $0.load(as: Value.self) }
    }
}
