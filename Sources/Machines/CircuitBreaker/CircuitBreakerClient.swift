import Synchronization

/// Runs async operations under a ``CircuitBreaker``: fails fast with ``CircuitBreakerError/open(remaining:)``
/// while the breaker is open, and streams the breaker's state changes.
///
/// ```swift
/// let breaker = try CircuitBreakerClient(runtime: runtime)
/// Task {
///     for await change in breaker.stateChanges() { logger.warning("payments breaker: \(change)") }
/// }
/// do {
///     let receipt = try await breaker.run { try await payments.charge(order) }
/// } catch CircuitBreakerError.open(let remaining) {
///     // fail fast: the payment service is down; retry after `remaining`
/// }
/// ```
///
/// The client owns one breaker server, started by the initializer and ended by ``stop()``. ``run(_:)`` asks the
/// server for permission (a call), runs the operation in the calling task (never on the server, which only
/// counts), and reports the outcome (a cast) stamped with `runtime.now`, so under a ``ManualClock`` a test
/// controls every timestamp. An error for which `isFailure` returns `false` (and a cancellation) is reported as
/// neither a success nor a failure.
///
/// Concurrency: `Sendable`; ``run(_:)`` may be called from any number of tasks at once, the breaker sees their
/// permissions and outcomes one at a time.
public final class CircuitBreakerClient: Sendable {
    /// The breaker's server (for ``Server/getState(timeout:)``, monitors, or a supervisor).
    public let server: Server<CircuitBreaker>
    /// Decides which errors count as failures of the dependency.
    private let isFailure: @Sendable (any Error) -> Bool
    /// The subscribers to ``stateChanges()``, fed by the server's observer.
    private let subscribers: Subscribers

    /// Starts a breaker with `configuration` on `runtime`.
    ///
    /// - Parameters:
    ///   - isFailure: Whether an error thrown by an operation is a failure of the dependency; errors for which it
    ///     returns `false` (bad input, say) neither open nor close the breaker. Defaults to every error.
    ///   - observer: Also receives everything the server does (tracing), besides the client's own observer.
    /// - Throws: ``StateServerError/Code/startFailed`` for an invalid configuration.
    public init(
        runtime: Runtime, configuration: CircuitBreaker.Configuration = CircuitBreaker.Configuration(),
        isFailure: @escaping @Sendable (any Error) -> Bool = { _ in true },
        observer: (@Sendable (Server<CircuitBreaker>.Observation) -> Void)? = nil
    ) throws {
        let subscribers = Subscribers()
        self.subscribers = subscribers
        self.isFailure = isFailure
        server = try runtime.start(CircuitBreaker(configuration: configuration), options: ServerOptions(observer: {
            observation in
            observer?(observation)
            switch observation.event {
            case .transition(let from, let to):
                subscribers.publish(CircuitBreaker.StateChange(from: from, to: to, at: observation.time))
            case .exited:
                subscribers.finish()
            default:
                break
            }
        }))
    }

    /// Runs `operation` if the breaker permits it, and reports its outcome.
    ///
    /// - Returns: The operation's result.
    /// - Throws: ``CircuitBreakerError/open(remaining:)`` without running the operation when the breaker is open
    ///   (or half-open with every trial slot taken); the operation's own error when it fails;
    ///   `CancellationError` when the task was cancelled while asking; ``StateServerError`` when the breaker's
    ///   server has ended.
    public func run<T>(_ operation: @Sendable () async throws -> T) async throws -> T {
        let runtime = server.runtime
        let request = server.request(timeout: nil) { .requestPermission(at: runtime.now, $0) }
        let permission: CircuitBreaker.Permission
        do {
            permission = try await request.value()
        } catch let error as StateServerError where error.code == .cancelled {
            // Cancelled while asking: the request stays pending, so release its permit when the answer comes.
            let server = server
            request.onResolve { result in
                if case .success(.granted(let permit)) = result { try? server.cast(.released(permit)) }
            }
            throw CancellationError()
        }
        let permit: CircuitBreaker.Permit
        switch permission {
        case .granted(let granted): permit = granted
        case .rejected(let remaining): throw CircuitBreakerError.open(remaining: remaining)
        }
        if Task.isCancelled {
            try? server.cast(.released(permit))
            throw CancellationError()
        }
        let value: T
        do {
            value = try await operation()
        } catch {
            let counts = !(error is CancellationError) && isFailure(error)
            try? server.cast(counts ? .failed(permit, at: runtime.now) : .released(permit))
            throw error
        }
        try? server.cast(.succeeded(permit, at: runtime.now))
        return value
    }

    /// The breaker's state changes from now on, each as it happens; the stream ends when the server ends.
    ///
    /// Each call returns a new stream, so several tasks may follow the breaker. Changes are buffered until read.
    public func stateChanges() -> AsyncStream<CircuitBreaker.StateChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: CircuitBreaker.StateChange.self)
        subscribers.add(continuation)
        return stream
    }

    /// The breaker's current state.
    public var state: CircuitBreaker.State {
        get async throws { try await server.call { .currentState($0) } }
    }

    /// The breaker's statistics (see ``CircuitBreaker/Data``).
    public var statistics: CircuitBreaker.Data {
        get async throws { try await server.getState().data }
    }

    /// Closes the breaker now and forgets its statistics (an operator's override).
    public func reset() throws { try server.cast(.reset) }

    /// Stops the breaker's server; ``run(_:)`` then throws ``StateServerError/Code/noSuchServer`` and the
    /// state-change streams end.
    public func stop() async throws { try await server.stop() }
}

extension CircuitBreakerClient {
    /// The continuations of the state-change streams.
    ///
    /// Continuations are yielded to and finished outside the lock, so a stream's termination handler (which
    /// removes it) never runs while the lock is held.
    final class Subscribers: Sendable {
        private struct Registry {
            var continuations: [Int: AsyncStream<CircuitBreaker.StateChange>.Continuation] = [:]
            var nextID = 0
            var isFinished = false
        }

        private let registry = Locked(Registry())

        /// Adds a stream, or finishes it at once when the server has already ended.
        func add(_ continuation: AsyncStream<CircuitBreaker.StateChange>.Continuation) {
            let id: Int? = registry.withLock { registry in
                guard !registry.isFinished else { return nil }
                defer { registry.nextID += 1 }
                registry.continuations[registry.nextID] = continuation
                return registry.nextID
            }
            guard let id else { return continuation.finish() }
            continuation.onTermination = { [weak self] _ in
                _ = self?.registry.withLock { $0.continuations.removeValue(forKey: id) }
            }
        }

        /// Sends `change` to every stream.
        func publish(_ change: CircuitBreaker.StateChange) {
            for continuation in registry.withLock({ Array($0.continuations.values) }) { continuation.yield(change) }
        }

        /// Ends every stream, and any added later.
        func finish() {
            let continuations = registry.withLock { registry in
                registry.isFinished = true
                defer { registry.continuations.removeAll() }
                return Array(registry.continuations.values)
            }
            for continuation in continuations { continuation.finish() }
        }
    }
}
