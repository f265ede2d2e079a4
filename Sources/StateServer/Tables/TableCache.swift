import Synchronization

/// The process-wide cache of compiled tables, one per machine type and ``TableMachine/tableVariant``.
///
/// A table machine's `table` is a computed property; building and indexing it per event would dominate the cost
/// of handling one. The first server of a type (or the first event, when an engine is stepped by hand) compiles
/// it; every later lookup walks an append-only, lock-free list of compiled tables comparing type identifiers, so
/// servers on every core look tables up without a lock. The table is built outside any lock (it is user code);
/// if two threads compile the same table at once, the first to append it wins. Compiled tables live as long as
/// the process.
///
/// - Complexity: a lookup is O(number of compiled tables in the process): one per table machine type, plus one
///   per variant of the types that declare variants. Variants are meant to be a few configurations, not one per
///   server.
@usableFromInline
enum TableCache {
    /// One compiled table in the list. Nodes are never freed.
    @usableFromInline
    final class Node: Sendable {
        @usableFromInline let type: ObjectIdentifier?
        @usableFromInline let variant: Variant?
        @usableFromInline let table: (any AnyObject & Sendable)?
        /// The next node's address (a retained, never released `Node`), or 0 at the end of the list.
        @usableFromInline let next = Atomic<UInt>(0)

        @usableFromInline
        init(type: ObjectIdentifier?, variant: Variant?, table: (any AnyObject & Sendable)?) {
            self.type = type
            self.variant = variant
            self.table = table
        }

        @inlinable
        func holds(_ type: ObjectIdentifier, _ variant: Variant?) -> Bool {
            self.type == type && self.variant == variant
        }
    }

    /// A machine's ``TableMachine/tableVariant``, made `Equatable`.
    @usableFromInline
    struct Variant: Equatable, @unchecked Sendable {
        // Safety: `value` wraps a value of a `Sendable` type (``TableMachine/tableVariant`` is
        // `(any Hashable & Sendable)?`), so sharing the box across threads is sound.
        @usableFromInline let value: AnyHashable

        @usableFromInline
        init(_ value: any Hashable & Sendable) { self.value = AnyHashable(value) }
    }

    /// The list's sentinel head; compiled tables follow it in the order they were first used.
    @usableFromInline static let head = Node(type: nil, variant: nil, table: nil)

    /// The compiled table of `machine`'s type and variant, compiling it on first use.
    @inlinable
    static func compiled<M: TableMachine>(for machine: M) -> CompiledTable<M> {
        let type = ObjectIdentifier(M.self)
        var variant: Variant?
        if let value = machine.tableVariant { variant = Variant(value) }
        var address = head.next.load(ordering: .acquiring)
        while let raw = UnsafeRawPointer(bitPattern: address) {
            let node = Unmanaged<Node>.fromOpaque(raw)
            let table = node._withUnsafeGuaranteedRef { node -> CompiledTable<M>? in
                guard node.holds(type, variant) else {
                    address = node.next.load(ordering: .acquiring)
                    return nil
                }
                return unsafeDowncast(node.table!, to: CompiledTable<M>.self)
            }
            if let table { return table }
        }
        return insert(CompiledTable(machine.table), type: type, variant: variant)
    }

    /// Appends `table` unless another thread appended one for the same type and variant first; returns the one
    /// in the list.
    @usableFromInline
    static func insert<M: TableMachine>(
        _ table: CompiledTable<M>, type: ObjectIdentifier, variant: Variant?
    ) -> CompiledTable<M> {
        let fresh = Unmanaged.passRetained(Node(type: type, variant: variant, table: table))
        var tail = head
        while true {
            let (exchanged, next) = tail.next.compareExchange(
                expected: 0, desired: UInt(bitPattern: fresh.toOpaque()), ordering: .acquiringAndReleasing)
            if exchanged { return table }
            let node = Unmanaged<Node>.fromOpaque(UnsafeRawPointer(bitPattern: next)!).takeUnretainedValue()
            if node.holds(type, variant) {
                fresh.release()
                return unsafeDowncast(node.table!, to: CompiledTable<M>.self)
            }
            tail = node
        }
    }
}
