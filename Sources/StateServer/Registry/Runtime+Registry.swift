extension Runtime {
    /// Starts a server running `machine` and registers it under `name`, atomically: the name is reserved before
    /// the machine's `start` runs (a taken name fails before it runs), and freed if the start fails.
    ///
    /// ```swift
    /// let cache = try runtime.start(Cache(), name: "cache", in: registry)
    /// ```
    ///
    /// While the machine starts, ``Registry/lookup(_:)`` does not find the name yet and other registrations of
    /// it fail. The name disappears when the server ends.
    ///
    /// - Throws: ``RegistryError`` with `alreadyRegistered` (carrying the server holding the name), or what
    ///   ``start(_:options:)`` throws.
    public func start<M: StateMachine, Key>(
        _ machine: M, name: Key, in registry: Registry<Key>, options: ServerOptions<M> = ServerOptions()
    ) throws -> Server<M> {
        let token = try registry.reserve(name)
        let server: Server<M>
        do {
            server = try start(machine, options: options)
        } catch {
            registry.cancelReservation(name, token: token)
            throw error
        }
        registry.complete(name, token: token, with: server)
        return server
    }
}
