import Synchronization

/// The process-wide source of unique identities for servers, monitors and timer references.
@usableFromInline
enum IdentityCounter {
    private static let counter = Atomic<UInt64>(0)

    /// A new identity, never returned before in this process.
    @usableFromInline static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }
}
