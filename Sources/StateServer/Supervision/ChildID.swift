/// Identifies a child of a ``Supervisor``: any `Hashable & Sendable` value, usually a string.
///
/// ```swift
/// .worker(id: "cache") { Cache() }          // a String id
/// .worker(id: Shard.east) { Store() }       // any Hashable & Sendable value
/// try await supervisor.terminateChild("cache")
/// ```
///
/// Children of a ``DynamicSupervisor`` are numbered in start order (`ChildID(1)`, `ChildID(2)`, …).
///
/// Concurrency: an immutable value; `Sendable`.
public struct ChildID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The wrapped identifier.
    public let base: any Hashable & Sendable

    /// Wraps `value`; wrapping a `ChildID` returns it unchanged.
    public init(_ value: some Hashable & Sendable) {
        if let id = value as? ChildID { self = id } else { base = value }
    }

    /// A string identifier.
    public init(stringLiteral value: String) { base = value }

    /// Identifiers are equal when their wrapped values are (values of different types are never equal).
    public static func == (lhs: ChildID, rhs: ChildID) -> Bool { AnyHashable(lhs.base) == AnyHashable(rhs.base) }

    /// Hashes the wrapped value.
    public func hash(into hasher: inout Hasher) { AnyHashable(base).hash(into: &hasher) }

    /// The wrapped value, quoted when it is a string: `"cache"`, `east`, `3`.
    public var description: String {
        if let string = base as? String { return "\"\(string)\"" }
        return "\(base)"
    }
}
