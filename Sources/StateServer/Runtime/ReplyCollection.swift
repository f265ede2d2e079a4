import Synchronization

/// Many requests in flight at once, their outcomes delivered as they arrive, with one deadline for all.
///
/// ```swift
/// let replies = ReplyCollection<ServerID, Int>(deadline: .milliseconds(200), on: runtime)
/// for shard in shards { replies.add(shard.id, shard.request { .count($0) }) }
/// for await (shard, result) in replies { … }   // arrival order; ends when every request has an outcome
/// ```
///
/// When the deadline passes, every request still pending gets ``StateServerError/Code/callTimeout`` (and its
/// late reply is dropped), so the sequence always finishes. The sequence can be iterated once.
///
/// Concurrency: `Sendable`; add from any task, iterate from one.
public final class ReplyCollection<Key: Hashable & Sendable, Value: Sendable>: AsyncSequence, Sendable {
    /// One request's key and outcome.
    public typealias Element = (key: Key, result: Result<Value, StateServerError>)

    private struct State {
        /// Requests without an outcome, by a token unique to each `add` (a key may be added twice).
        var pending: [UInt64: PendingReply<Value>] = [:]
        var added = 0
        var delivered = 0
        var isSealed = false
    }

    private let state = Locked(State())
    private let stream: AsyncStream<Element>
    private let continuation: AsyncStream<Element>.Continuation
    private let deadline: ReplySlot<Void>?

    /// Creates an empty collection with no deadline: the sequence ends when every request has an outcome (each
    /// request still has its own call timeout).
    public convenience init() {
        self.init(deadline: nil, on: nil)
    }

    /// Creates an empty collection: every request not answered within `deadline` (from now, on `runtime`'s
    /// clock, so virtual time controls it in tests) fails with `callTimeout`.
    public convenience init(deadline: Duration, on runtime: Runtime) {
        self.init(deadline: Optional(deadline), on: Optional(runtime))
    }

    private init(deadline: Duration?, on runtime: Runtime?) {
        (stream, continuation) = AsyncStream.makeStream(of: Element.self)
        if let deadline, let runtime {
            let slot = ReplySlot<Void>(owner: nil)
            self.deadline = slot
            slot.armTimeout(after: deadline, on: runtime.timers, server: ServerID(rawValue: 0))
        } else {
            self.deadline = nil
        }
        self.deadline?.onResolve { [weak self] in self?.expire() }
    }

    /// Adds a request under `key`; its outcome is yielded when it arrives (at once if already known).
    /// Adding a key twice replaces nothing: both outcomes are yielded.
    public func add(_ key: Key, _ request: PendingReply<Value>) {
        let token = IdentityCounter.next()
        state.withLock { state in
            state.pending[token] = request
            state.added += 1
        }
        request.slot.onResolve { [self] in
            guard let result = request.result else { return }
            continuation.yield((key, result))
            let finished = state.withLock { state -> Bool in
                state.pending[token] = nil
                state.delivered += 1
                return state.isSealed && state.delivered == state.added
            }
            if finished { continuation.finish() }
        }
        if deadline?.isResolved == true { expire() }
    }

    /// Says no more requests will be added: the sequence finishes once every added one has an outcome.
    /// Iterating seals the collection automatically.
    public func seal() {
        let finished = state.withLock { state -> Bool in
            state.isSealed = true
            return state.delivered == state.added
        }
        if finished { continuation.finish() }
    }

    /// Requests without an outcome yet.
    public var pendingCount: Int { state.withLock { $0.added - $0.delivered } }

    /// Cancels every request still pending (each gets ``StateServerError/Code/cancelled``).
    public func cancelRemaining() {
        for request in state.withLock({ Array($0.pending.values) }) { request.cancel() }
    }

    private func expire() {
        let remaining = state.withLock { Array($0.pending.values) }
        for request in remaining {
            _ = request.slot.fail(StateServerError(.callTimeout, "no reply before the collection's deadline"))
        }
    }

    /// Iterates the outcomes in arrival order.
    public func makeAsyncIterator() -> AsyncStream<Element>.Iterator {
        seal()
        return stream.makeAsyncIterator()
    }
}
