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

    /// A cast stream's two sides apart, then together (`cast_split`, `event_split`): `count` messages cast to a
    /// server held in its handler (the producer alone); the same server then draining them alone (from the gate's
    /// opening to the reply of a call queued behind them); and `count` messages cast to a fresh server while it
    /// drains them, as in `cast_1to1` (both sides at once). ns per message, each.
    static func split<M: StateMachine>(
        _ runtime: Runtime, count: Int, make: () -> M, hold: (Gate) -> M.Cast, message: M.Cast,
        finish: @escaping (Reply<Int>) -> M.Call
    ) async throws -> (producer: Double, server: Double, both: Double) {
        let held = try runtime.start(make())
        let gate = Gate()
        try held.cast(hold(gate))
        let start = clock.now
        for _ in 0..<count { try held.cast(message) }
        let filled = clock.now
        gate.open()
        _ = try await held.call(timeout: nil) { finish($0) }
        let drained = clock.now
        try await held.stop()

        let both = try runtime.start(make())
        let bothStart = clock.now
        for _ in 0..<count { try both.cast(message) }
        _ = try await both.call(timeout: nil) { finish($0) }
        let bothEnd = clock.now
        try await both.stop()
        let perMessage = { (duration: Duration) in nanoseconds(duration) / Double(count) }
        return (
            perMessage(start.duration(to: filled)), perMessage(filled.duration(to: drained)),
            perMessage(bothStart.duration(to: bothEnd))
        )
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
        /// Each arms a 1 s state timeout at start (a live timer per server), measured before any fires.
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
            try await hold(count, warmUp: 1_000, mustFinishWithin: .seconds(1)) { runtime in
                try runtime.start(Sleeper(timeout: .seconds(1)))
            }
        }
    }

    private static func hold<M: StateMachine>(
        _ count: Int, warmUp: Int, mustFinishWithin limit: Duration? = nil,
        _ makeServer: (Runtime) async throws -> Server<M>
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
        if let limit, start.duration(to: clock.now) >= limit {
            // The first machines' timeouts may have fired (and freed their timers) before the measurement.
            StateServerBenchmarks.log("warning: creating \(count) machines took longer than \(limit)")
        }
        withExtendedLifetime((warmUpServers, handles)) {}
        return (Double(after - before) / Double(count), nanoseconds(elapsed) / Double(count))
    }

    // MARK: Postpone

    /// `rounds` times: a fresh ``Postponer`` gets `events` casts while locked (each postponed), then `unlock`
    /// and a call that returns once all were replayed. Time from the unlock to that reply, per replayed event.
    static func postponeReplay(_ runtime: Runtime, events: Int, rounds: Int) async throws -> Double {
        var total = Duration.zero
        for _ in 0..<rounds {
            let server = try runtime.start(Postponer())
            for _ in 0..<events { try server.cast(.item) }
            let before = try await server.call(timeout: nil) { .count($0) }
            precondition(before == 0, "every item is postponed while locked")
            let start = clock.now
            try server.cast(.unlock)
            let after = try await server.call(timeout: nil) { .count($0) }
            total += start.duration(to: clock.now)
            precondition(after == events, "the call is handled after the replayed items")
            try await server.stop()
        }
        return nanoseconds(total) / Double(events * rounds)
    }

    // MARK: Timeouts

    /// Starts `count` ``Alarm`` machines on a fresh runtime, each with an absolute state timeout on a whole
    /// millisecond: from 2 s after the start (creating them must end before), spread evenly over the next second
    /// (machine `i` at `base + ⌊i × 1000 / count⌋` ms), or all at `base` for a herd. Waits until all fired;
    /// returns their lateness percentiles in µs (deadline → the machine's handler reading the clock) and the
    /// time per start. Runs in a child process.
    static func timeoutLateness(count: Int, herd: Bool) async throws
        -> (p50: Double, p99: Double, maximum: Double, nanosecondsPerMachine: Double)
    {
        let runtime = Runtime()
        let log = LatenessLog(count: count, runtime: runtime)
        var handles: [Server<Alarm>] = []
        handles.reserveCapacity(count)
        let baseMilliseconds = (runtime.now.nanoseconds + 999_999) / 1_000_000 + 2_000
        let start = clock.now
        for index in 0..<count {
            let milliseconds = herd ? baseMilliseconds : baseMilliseconds + Int64(index * 1_000 / count)
            let deadline = RuntimeInstant(nanoseconds: milliseconds * 1_000_000)
            handles.append(try runtime.start(Alarm(deadline: deadline, index: index, log: log)))
        }
        let created = start.duration(to: clock.now)
        if runtime.now.nanoseconds >= baseMilliseconds * 1_000_000 {
            StateServerBenchmarks.log("warning: creating \(count) alarms took past the first deadline")
        }
        let lateness = await log.sortedMicroseconds()
        withExtendedLifetime(handles) {}
        return (percentile(lateness, 0.5), percentile(lateness, 0.99), lateness.last ?? .nan,
                nanoseconds(created) / Double(count))
    }

    // MARK: Scaling

    /// Starts `machines` ``CountedRing`` machines (each arming a 10 s state timeout) on a fresh runtime, then one
    /// producer casts `events` steps to them round-robin (each a state change re-arming the timeout) and waits
    /// until all were handled. Returns ns per event, resident bytes per machine and ns per start. Runs in a child
    /// process.
    static func scaling(machines: Int, events: Int) async throws
        -> (nanosecondsPerEvent: Double, bytesPerMachine: Double, nanosecondsPerStart: Double)
    {
        let runtime = Runtime()
        let timeout = Duration.seconds(10)
        // Warm up the worker and timer threads and the allocator, as `hold` does.
        let warmUpCountdown = Countdown(1_000)
        var warmUp: [Server<CountedRing>] = []
        for _ in 0..<1_000 { warmUp.append(try runtime.start(CountedRing(stateTimeout: timeout, countdown: warmUpCountdown))) }
        for server in warmUp { try server.cast(.step) }
        await warmUpCountdown.wait()

        let countdown = Countdown(events)
        var handles: [Server<CountedRing>] = []
        handles.reserveCapacity(machines)
        guard let before = ProcessMemory.residentBytes() else { return (.nan, .nan, .nan) }
        let startCreating = clock.now
        for _ in 0..<machines { handles.append(try runtime.start(CountedRing(stateTimeout: timeout, countdown: countdown))) }
        let created = startCreating.duration(to: clock.now)
        guard let after = ProcessMemory.residentBytes() else { return (.nan, .nan, .nan) }

        let start = clock.now
        var next = 0
        for _ in 0..<events {
            try handles[next].cast(.step)
            next += 1
            if next == machines { next = 0 }
        }
        await countdown.wait()
        let elapsed = start.duration(to: clock.now)
        withExtendedLifetime((warmUp, handles)) {}
        return (nanoseconds(elapsed) / Double(events), Double(after - before) / Double(machines),
                nanoseconds(created) / Double(machines))
    }

    /// `callers` concurrent callers of one idle ``Counter`` server, `calls` calls in all (default call timeout),
    /// each call timed on its own: the median and 99th percentile of those times, in ns.
    static func callLatency(_ runtime: Runtime, callers: Int, calls: Int) async throws -> (p50: Double, p99: Double) {
        let server = try runtime.start(Counter())
        let each = Swift.max(1, calls / callers)
        let samples = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<callers {
                group.addTask {
                    var samples: [Double] = []
                    samples.reserveCapacity(each)
                    for _ in 0..<each {
                        let start = clock.now
                        _ = try await server.call { .count($0) }
                        samples.append(nanoseconds(start.duration(to: clock.now)))
                    }
                    return samples
                }
            }
            var all: [Double] = []
            all.reserveCapacity(each * callers)
            for try await part in group { all += part }
            return all.sorted()
        }
        try await server.stop()
        return (percentile(samples, 0.5), percentile(samples, 0.99))
    }
}
