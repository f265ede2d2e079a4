import Synchronization

/// The handle through which a machine answers one call; its type parameter is the call's reply type.
///
/// A call case carries one: `case balance(Reply<Int>)`. The handler answers with ``Action/reply(_:_:)``, now or
/// from a later event after keeping the handle in `Data` (a deferred reply). Any code may also answer with
/// ``send(_:)`` (like `gen_statem:reply/2`). The first answer wins: a second one, or one that arrives after the
/// caller timed out or gave up, is dropped and never crashes anything.
///
/// Concurrency: `Sendable`; answering is thread-safe and never blocks.
public struct Reply<Value: Sendable>: Sendable, Hashable {
    @usableFromInline let slot: ReplySlot<Value>

    @usableFromInline init(slot: ReplySlot<Value>) { self.slot = slot }

    /// Creates a handle not tied to any caller or server, for stepping an ``Engine`` by hand or injecting a
    /// call with ``Action/nextEvent(_:)``; read the answer with ``result``.
    public init() { self.slot = ReplySlot(owner: nil) }

    /// Answers the call from any thread. Returns `false` when the answer was dropped because the call was
    /// already answered, timed out or abandoned.
    @discardableResult
    public func send(_ value: Value) -> Bool { slot.resolve(.success(value)) }

    /// Whether an answer (or a failure) has been recorded.
    public var isAnswered: Bool { slot.isResolved }

    /// The recorded outcome, or `nil` while the call is unanswered.
    public var result: Result<Value, StateServerError>? { slot.currentResult }

    /// The recorded reply value, or `nil` while unanswered or failed.
    public var value: Value? { if case .success(let value)? = slot.currentResult { value } else { nil } }

    /// Handles are equal when they answer the same call.
    public static func == (lhs: Reply, rhs: Reply) -> Bool { lhs.slot === rhs.slot }

    /// Hashes the identity of the call.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(slot)) }
}

/// The type-erased side of a reply slot that the engine and runtime work with.
@usableFromInline
class ReplySlotBase: @unchecked Sendable {
    // Safety: `owner` is set once, before the slot is shared (when the call is enqueued), and only read after.
    @usableFromInline var owner: ServerID?

    @usableFromInline init(owner: ServerID?) { self.owner = owner }

    /// Delivers a type-erased value; false if the slot was already resolved.
    @usableFromInline func deliver(_ value: any Sendable) -> Bool { fatalError("abstract") }
    /// Fails the call; false if the slot was already resolved.
    @usableFromInline func fail(_ error: StateServerError) -> Bool { fatalError("abstract") }
    /// Whether the slot holds an outcome.
    @usableFromInline var isResolved: Bool { fatalError("abstract") }
}

/// One call's reply cell: pending (optionally with a suspended caller), or resolved exactly once.
@usableFromInline
final class ReplySlot<Value: Sendable>: ReplySlotBase, @unchecked Sendable {
    // Safety: all mutable state is inside `state`, a mutex.
    @usableFromInline
    struct State {
        var result: Result<Value, StateServerError>?
        var continuations: [(token: UInt64, continuation: UnsafeContinuation<Value, any Error>)] = []
        var observers: [@Sendable () -> Void] = []
        var timeoutNode: CallTimeoutNode?
    }

    @usableFromInline let state = Mutex(State())

    @usableFromInline
    override func deliver(_ value: any Sendable) -> Bool {
        guard let typed = value as? Value else {
            return fail(StateServerError(.invalidAction, "reply of type \(type(of: value)) for a call expecting \(Value.self)"))
        }
        return resolve(.success(typed))
    }

    @usableFromInline
    override func fail(_ error: StateServerError) -> Bool { resolve(.failure(error)) }

    @usableFromInline
    override var isResolved: Bool { state.withLock { $0.result != nil } }

    var currentResult: Result<Value, StateServerError>? { state.withLock { $0.result } }

    /// Records the outcome and wakes the caller; false if an outcome was already recorded.
    @usableFromInline
    func resolve(_ result: Result<Value, StateServerError>) -> Bool {
        let (accepted, continuations, observers, timeoutNode) = state.withLock { state in
            guard state.result == nil else {
                return (false, [(token: UInt64, continuation: UnsafeContinuation<Value, any Error>)](),
                        [@Sendable () -> Void](), CallTimeoutNode?.none)
            }
            state.result = result
            defer {
                state.continuations = []
                state.observers = []
                state.timeoutNode = nil
            }
            return (true, state.continuations, state.observers, state.timeoutNode)
        }
        guard accepted else { return false }
        if let timeoutNode { timeoutNode.service?.cancel(timeoutNode) }
        for (_, continuation) in continuations {
            switch result {
            case .success(let value): continuation.resume(returning: value)
            case .failure(let error): continuation.resume(throwing: error)
            }
        }
        for observer in observers { observer() }
        return true
    }

    /// Suspends until the slot is resolved (returns at once if it already is).
    ///
    /// If the awaiting task is cancelled: with `abandonsOnCancel` (the caller owns the request, as in `call`),
    /// the request fails with ``StateServerError/Code/cancelled`` and a late reply is dropped; otherwise only
    /// this wait ends with `cancelled` and the request stays pending for other waiters.
    @usableFromInline
    func wait(abandonsOnCancel: Bool = true) async throws -> Value {
        let token = IdentityCounter.next()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
                let ready = state.withLock { state -> Result<Value, StateServerError>? in
                    if let result = state.result { return result }
                    state.continuations.append((token, continuation))
                    return nil
                }
                if let ready {
                    switch ready {
                    case .success(let value): continuation.resume(returning: value)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            }
        } onCancel: {
            let cancelled = StateServerError(.cancelled, "the awaiting task was cancelled")
            if abandonsOnCancel {
                _ = self.fail(cancelled)
                return
            }
            let continuation = self.state.withLock { state -> UnsafeContinuation<Value, any Error>? in
                guard let index = state.continuations.firstIndex(where: { $0.token == token }) else { return nil }
                return state.continuations.remove(at: index).continuation
            }
            continuation?.resume(throwing: cancelled)
        }
    }

    /// Runs `observer` once the slot is resolved (at once if it already is).
    func onResolve(_ observer: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.result != nil { return true }
            state.observers.append(observer)
            return false
        }
        if runNow { observer() }
    }
}

extension ReplySlot: TimerTarget {
    /// Arms a timer that fails the call with `code` after `timeout`, unless it is answered first.
    func armTimeout(
        after timeout: Duration, on timers: any TimerService, server: ServerID,
        code: StateServerError.Code = .callTimeout
    ) {
        let node = CallTimeoutNode(code: code, timeout: timeout, server: server)
        node.service = timers
        state.withLock { state in
            guard state.result == nil else { return }
            state.timeoutNode = node
            let deadline = RuntimeInstant(nanoseconds: timers.now).advanced(by: timeout).nanoseconds
            timers.arm(node, at: deadline, generation: 0, target: self)
        }
    }

    func timerFired(_ node: TimerNode, generation: UInt64) {
        guard let node = node as? CallTimeoutNode else { return }
        let message = node.code == .callTimeout
            ? "no reply from server \(node.server) within \(node.timeout)"
            : "server \(node.server) did not end within \(node.timeout)"
        _ = fail(StateServerError(node.code, message))
    }
}

/// The timer of one caller's timeout.
final class CallTimeoutNode: TimerNode, @unchecked Sendable {
    // Safety: the fields below are immutable; the base class's state is guarded by the timer service.
    let code: StateServerError.Code
    let timeout: Duration
    let server: ServerID
    init(code: StateServerError.Code, timeout: Duration, server: ServerID) {
        self.code = code
        self.timeout = timeout
        self.server = server
        super.init()
    }
}
