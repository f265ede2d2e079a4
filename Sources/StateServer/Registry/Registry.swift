import Synchronization

/// Unique names for servers: register a server under a key, look it up by key, and the name disappears by itself
/// when the server ends (Elixir's `Registry` with unique keys, Erlang's `register/2` with any key type).
///
/// ```swift
/// let registry = Registry<String>()
/// let cache = try runtime.start(Cache(), name: "cache", in: registry)   // atomic start-and-register
/// let found = registry.lookup("cache", as: Cache.self)                  // Server<Cache>?
/// ```
///
/// Under a supervisor, register in the child's start closure: after a crash and restart, the name points at
/// the new server.
///
/// ```swift
/// ChildSpec(id: "cache") { runtime in try runtime.start(Cache(), name: "cache", in: registry) }
/// ```
///
/// A server may hold several names. A name whose server has ended is free: it is removed when the server
/// ends, and a registration that races with that removal replaces it.
///
/// Concurrency: `Sendable`; every method may be called from any thread or task, and never blocks beyond a
/// short lock.
public final class Registry<Key: Hashable & Sendable>: Sendable {
    private struct Entry {
        /// The server, or `nil` while a start-and-register is in progress.
        var server: (any ServerHandle)?
        /// Identifies this registration, so a late cleanup cannot remove a newer one.
        var token: UInt64
        var monitor: MonitorReference?
    }

    private let entries = Locked<[Key: Entry]>([:])

    /// Creates an empty registry.
    public init() {}

    /// Registers `server` under `key`.
    ///
    /// - Throws: ``RegistryError`` with ``StateServerError/Code/alreadyRegistered`` if a running server (or a
    ///   start in progress) holds the name, with ``StateServerError/Code/noSuchServer`` if `server` has ended.
    public func register(_ key: Key, _ server: some ServerHandle) throws {
        guard server.isAlive else {
            throw RegistryError(.noSuchServer, "cannot register \(key): server \(server.id) has ended")
        }
        let token = IdentityCounter.next()
        try entries.withLock { entries in
            try Self.checkFree(key, in: entries)
            entries[key] = Entry(server: server, token: token)
        }
        watch(key, server, token: token)
    }

    /// Removes the name; returns false if it was not registered. The server keeps running.
    @discardableResult
    public func unregister(_ key: Key) -> Bool {
        let removed = entries.withLock { entries -> Entry? in
            guard let entry = entries[key], entry.server != nil else { return nil }
            entries[key] = nil
            return entry
        }
        guard let removed else { return false }
        if let monitor = removed.monitor { removed.server?.demonitor(monitor) }
        return removed.server?.isAlive ?? false
    }

    /// The running server registered under `key`, or `nil`.
    public func lookup(_ key: Key) -> (any ServerHandle)? {
        guard let server = entries.withLock({ $0[key]?.server }), server.isAlive else { return nil }
        return server
    }

    /// The running server registered under `key` if it runs machine `M`, or `nil`.
    public func lookup<M: StateMachine>(_ key: Key, as type: M.Type) -> Server<M>? {
        lookup(key) as? Server<M>
    }

    /// The names of running servers, in no particular order.
    ///
    /// - Complexity: O(n) in the number of names.
    public var keys: [Key] {
        entries.withLock { entries in entries.compactMap { $0.value.server?.isAlive == true ? $0.key : nil } }
    }

    /// The names held by `server`.
    ///
    /// - Complexity: O(n) in the number of names.
    public func keys(of server: some ServerHandle) -> [Key] {
        let id = server.id
        return entries.withLock { entries in entries.compactMap { $0.value.server?.id == id ? $0.key : nil } }
    }

    /// How many names are registered to running servers.
    public var count: Int { keys.count }

    // MARK: Start-and-register

    /// Reserves `key` for a server about to start; the name stays invisible to ``lookup(_:)`` until
    /// ``complete(_:token:with:)``.
    func reserve(_ key: Key) throws -> UInt64 {
        let token = IdentityCounter.next()
        try entries.withLock { entries in
            try Self.checkFree(key, in: entries)
            entries[key] = Entry(server: nil, token: token)
        }
        return token
    }

    /// Frees a reservation whose start failed.
    func cancelReservation(_ key: Key, token: UInt64) {
        entries.withLock { entries in
            if entries[key]?.token == token { entries[key] = nil }
        }
    }

    /// Turns a reservation into the registration of `server`.
    func complete(_ key: Key, token: UInt64, with server: any ServerHandle) {
        let isCurrent = entries.withLock { entries -> Bool in
            guard entries[key]?.token == token else { return false }
            entries[key]?.server = server
            return true
        }
        if isCurrent { watch(key, server, token: token) }
    }

    // MARK: Internals

    private static func checkFree(_ key: Key, in entries: [Key: Entry]) throws {
        guard let existing = entries[key] else { return }
        guard let holder = existing.server else {
            throw RegistryError(.alreadyRegistered, "\(key) is reserved by a server that is starting")
        }
        // A server that has ended frees its name even before its cleanup has run.
        guard holder.isAlive else { return }
        throw RegistryError(
            .alreadyRegistered, "\(key) is already registered to server \(holder.id)", existingServer: holder)
    }

    /// Removes the registration `token` when `server` ends (at once if it has).
    private func watch(_ key: Key, _ server: any ServerHandle, token: UInt64) {
        let monitor = server.monitor { [weak self] _ in
            self?.entries.withLock { entries in
                if entries[key]?.token == token { entries[key] = nil }
            }
        }
        entries.withLock { entries in
            if entries[key]?.token == token { entries[key]?.monitor = monitor }
        }
    }
}
