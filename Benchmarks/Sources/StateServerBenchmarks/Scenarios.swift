import StateServer

/// The measured scenarios. Each function runs one repetition on a fresh server and returns its figure in the
/// scenario's unit. They are `nonisolated` and run on the global executor, like the callers they stand for:
/// calling a server from the main actor would add an executor hop to every call.
enum Scenarios {
    static let clock = ContinuousClock()

    static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }

    /// One caller, one idle server: ns per `call` round trip (default 5 s call timeout).
    static func callRoundTrip(_ runtime: Runtime, calls: Int) async throws -> Double {
        let server = try runtime.start(Counter())
        var sink = 0
        let start = clock.now
        for _ in 0..<calls { sink &+= try await server.call { .count($0) } }
        let elapsed = start.duration(to: clock.now)
        precondition(sink == 0, "nothing was ever added")
        try await server.stop()
        return nanoseconds(elapsed) / Double(calls)
    }

    /// `callers` concurrent callers, one server: wall-clock ns per call over all of them.
    static func concurrentCalls(_ runtime: Runtime, callers: Int, callsEach: Int, timeout: Duration?) async throws
        -> Double
    {
        let server = try runtime.start(Counter())
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    for _ in 0..<callsEach { _ = try await server.call(timeout: timeout) { .count($0) } }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = start.duration(to: clock.now)
        try await server.stop()
        return nanoseconds(elapsed) / Double(callers * callsEach)
    }

    /// One producer casting to one server, then a call that returns once every cast was handled:
    /// ns per cast, the drain included.
    static func castThroughput(_ runtime: Runtime, casts: Int) async throws -> Double {
        let server = try runtime.start(Counter())
        let start = clock.now
        for _ in 0..<casts { try server.cast(.add(1)) }
        let total = try await server.call(timeout: nil) { .count($0) }
        let elapsed = start.duration(to: clock.now)
        precondition(total == casts, "the final call comes after every cast")
        try await server.stop()
        return nanoseconds(elapsed) / Double(casts)
    }

    /// The three-state ring driven by casts, each one a state change (and, with `stateTimeout`, a cancelled and
    /// re-armed state timeout): ns per event, the final drain included.
    static func ringEvents(_ runtime: Runtime, events: Int, stateTimeout: Duration?) async throws -> Double {
        let server = try runtime.start(Ring(stateTimeout: stateTimeout))
        let start = clock.now
        for _ in 0..<events { try server.cast(.step) }
        let steps = try await server.call(timeout: nil) { .steps($0) }
        let elapsed = start.duration(to: clock.now)
        precondition(steps == events, "the final call comes after every event")
        try await server.stop()
        return nanoseconds(elapsed) / Double(events)
    }

    /// What the servers of a memory scenario do before they idle.
    enum IdleMode: String, Sendable {
        /// Nothing: started and held.
        case idle
        /// Each answers one call first, so what a server keeps after handling a message counts too.
        case afterCall = "call"
        /// Each arms a 1 hour state timeout at start (a live timer per server).
        case timeout
    }

    /// Starts `count` servers on a fresh runtime, keeping their handles; returns the resident bytes and the
    /// nanoseconds per server (start, plus the call in `.afterCall` mode). Runs in a child process (see
    /// ``ProcessMemory``).
    static func idleServers(count: Int, mode: IdleMode) async throws
        -> (bytesPerServer: Double, nanosecondsPerServer: Double)
    {
        switch mode {
        case .idle: try await hold(count, warmUp: 1_000) { runtime in try runtime.start(Counter()) }
        case .afterCall:
            try await hold(count, warmUp: 1_000) { runtime in
                let server = try runtime.start(Counter())
                _ = try await server.call { .count($0) }
                return server
            }
        case .timeout:
            try await hold(count, warmUp: 1_000) { runtime in try runtime.start(Sleeper(timeout: .seconds(3_600))) }
        }
    }

    private static func hold<M: StateMachine>(
        _ count: Int, warmUp: Int, _ makeServer: (Runtime) async throws -> Server<M>
    ) async throws -> (bytesPerServer: Double, nanosecondsPerServer: Double) {
        let runtime = Runtime()
        // Warm up the runtime (its threads, if any) and the allocator's size classes before the baseline.
        var warmUpServers: [Server<M>] = []
        for _ in 0..<warmUp { warmUpServers.append(try await makeServer(runtime)) }
        var handles: [Server<M>] = []
        handles.reserveCapacity(count)  // untouched until filled: the 8 B handles count in the figure
        guard let before = ProcessMemory.residentBytes() else { return (.nan, .nan) }
        let start = clock.now
        for _ in 0..<count { handles.append(try await makeServer(runtime)) }
        let elapsed = start.duration(to: clock.now)
        guard let after = ProcessMemory.residentBytes() else { return (.nan, .nan) }
        withExtendedLifetime((warmUpServers, handles)) {}
        return (Double(after - before) / Double(count), nanoseconds(elapsed) / Double(count))
    }
}
