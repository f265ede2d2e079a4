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
    public static func == (lhs: Reply, rhs: Reply) -> Bool { lhs.slot.cell === rhs.slot.cell }

    /// Hashes the identity of the call.
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(slot.cell)) }
}

/// The type-erased side of a reply slot that the engine and runtime work with.
@usableFromInline
typealias ReplySlotBase = ReplyCell

/// One call's reply cell, not generic: pending (optionally with suspended waiters), or resolved exactly once with
/// a type-erased value. The typed view is ``ReplySlot``; the value's type is guaranteed by ``Reply``.
///
/// It is made and freed on every call, so it is kept lean: the outcome is a word and a tag (a failure is boxed),
/// and everything only a waiting caller needs (continuations, observers, the timeout's timer) lives in one box
/// allocated when the first of them arrives. An inline call, answered before its caller would wait, allocates
/// the cell alone and frees it without running any array or error destructor.
@usableFromInline
final class ReplyCell: @unchecked Sendable {
    // Safety: `owner` is set once, before the cell is shared (when the call is enqueued), and only read after.
    // `outcome` is written once, under the lock, before `isPublished` is set with release ordering, and read only
    // after `isPublished` was seen set with acquire ordering (or under the lock). All other mutable state is inside
    // `state`, a mutex.
    // Both are class properties read on every call: their dynamic exclusivity checks (a thread-local access set)
    // are off, the safety note above is what orders the accesses.
    @usableFromInline @exclusivity(unchecked) var owner: ServerID?

    /// The outcome, once resolved: see the safety note.
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) var outcome: ReplyOutcome?
    /// Set once `outcome` is written: a caller reads its reply back without taking the lock.
    @usableFromInline let isPublished = Atomic<Bool>(false)

    @usableFromInline
    struct State {
        @usableFromInline var isResolved = false
        /// Who waits for the outcome, `nil` until the first arrives.
        @usableFromInline var parties: ReplyParties?

        @inlinable init() {}

        /// The waiting parties, created on first use.
        @inlinable var waiting: ReplyParties {
            mutating get {
                if let parties { return parties }
                let created = ReplyParties()
                parties = created
                return created
            }
        }
    }

    @usableFromInline let state = Locked(State())

    /// The box class of the value type this cell carries: how a value stored inline is read back for traces.
    @usableFromInline let valueType: ReplyValueBox.Type

    @usableFromInline init(owner: ServerID?, valueType: ReplyValueBox.Type) {
        self.owner = owner
        self.valueType = valueType
    }

    /// Delivers a value; false if the cell was already resolved.
    @usableFromInline func deliver(_ value: ReplyValue) -> Bool { resolve(.success(value)) }

    /// Fails the call; false if the cell was already resolved.
    @usableFromInline func fail(_ error: StateServerError) -> Bool { resolve(.failure(ReplyFailure(error))) }

    /// Whether the cell holds an outcome.
    @usableFromInline var isResolved: Bool { isPublished.load(ordering: .acquiring) }

    /// The outcome, once resolved.
    @inlinable var publishedOutcome: ReplyOutcome? {
        isPublished.load(ordering: .acquiring) ? outcome : nil
    }

    /// Records the outcome and wakes the waiters; false if an outcome was already recorded.
    @usableFromInline
    func resolve(_ result: ReplyOutcome) -> Bool {
        // The waiting parties are taken out only when there are any: the common resolve (an inline call's reply,
        // nobody suspended yet) allocates nothing and copies nothing.
        var parties: ReplyParties?
        let accepted = state.withLock { state -> Bool in
            guard !state.isResolved else { return false }
            state.isResolved = true
            outcome = result
            isPublished.store(true, ordering: .releasing)
            if state.parties != nil { swap(&parties, &state.parties) }
            return true
        }
        guard accepted else { return false }
        if let parties { parties.notify(result) }
        return true
    }

    /// Suspends until the cell is resolved (returns at once if it already is).
    ///
    /// If the awaiting task is cancelled: with `abandonsOnCancel` (the caller owns the request, as in `call`),
    /// the request fails with ``StateServerError/Code/cancelled`` and a late reply is dropped; otherwise only
    /// this wait ends with `cancelled` and the request stays pending for other waiters.
    @usableFromInline
    func wait(abandonsOnCancel: Bool) async throws -> ReplyValue {
        let token = IdentityCounter.next()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<ReplyValue, any Error>) in
                let ready = state.withLock { state -> ReplyOutcome? in
                    if state.isResolved { return outcome }
                    // A task cancelled before this registration ran its cancellation handler already: end the
                    // wait now instead of waiting for an outcome.
                    if !abandonsOnCancel, Task.isCancelled {
                        return .failure(ReplyFailure(StateServerError(.cancelled, "the awaiting task was cancelled")))
                    }
                    state.waiting.continuations.append((token, continuation))
                    return nil
                }
                if let ready { ReplyParties.resume(continuation, with: ready) }
            }
        } onCancel: {
            let cancelled = StateServerError(.cancelled, "the awaiting task was cancelled")
            if abandonsOnCancel {
                _ = self.fail(cancelled)
                return
            }
            let continuation = self.state.withLock { state -> UnsafeContinuation<ReplyValue, any Error>? in
                guard let parties = state.parties,
                    let index = parties.continuations.firstIndex(where: { $0.token == token })
                else { return nil }
                return parties.continuations.remove(at: index).continuation
            }
            continuation?.resume(throwing: cancelled)
        }
    }

    /// Runs `observer` once the cell is resolved (at once if it already is).
    func onResolve(_ observer: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.isResolved { return true }
            state.waiting.observers.append(observer)
            return false
        }
        if runNow { observer() }
    }

    /// Arms a timer that fails the call with `code` after `timeout`, unless it is answered first; `elapsed` of the
    /// timeout has already passed (a caller that watched for its reply), and the failure still names the whole
    /// `timeout`. A cell has one timeout: arming it again does nothing (every caller arms a fresh cell once).
    func armTimeout(
        after timeout: Duration, elapsed: Duration = .zero, on timers: any TimerService, server: ServerID,
        code: StateServerError.Code = .callTimeout
    ) {
        // The clock is read before the lock: the server that answers the call may be waiting for it.
        let deadline = RuntimeInstant(nanoseconds: timers.now).advanced(by: timeout - elapsed).nanoseconds
        state.withLock { state in
            guard !state.isResolved else { return }
            // The parties' box is the timer's node: no allocation of its own.
            let parties = state.waiting
            guard parties.timeout == nil else { return }
            parties.timeout = CallTimeout(code: code, duration: timeout, server: server, service: timers)
            timers.arm(parties, at: deadline, generation: 0, target: self)
        }
    }
}

/// What a reply cell holds once resolved: the value, or the failure in a box (failures are rare; the box keeps the
/// outcome a word and a tag, copied and destroyed without the runtime's generic value witnesses).
@usableFromInline
enum ReplyOutcome: Sendable {
    case success(ReplyValue)
    case failure(ReplyFailure)

    /// The outcome typed as the value type `Value` of the cell's slot (unchecked, see ``ReplyValue/value(as:)``).
    @inlinable func result<Value: Sendable>(as _: Value.Type) -> Result<Value, StateServerError> {
        switch self {
        case .success(let value): .success(value.value(as: Value.self))
        case .failure(let failure): .failure(failure.error)
        }
    }

    /// The value typed as `Value`, or the failure thrown.
    @inlinable func get<Value: Sendable>(as _: Value.Type) throws(StateServerError) -> Value {
        switch self {
        case .success(let value): return value.value(as: Value.self)
        case .failure(let failure): throw failure.error
        }
    }
}

/// The error a call failed with, boxed.
@usableFromInline
final class ReplyFailure: Sendable {
    @usableFromInline let error: StateServerError
    @usableFromInline init(_ error: StateServerError) { self.error = error }
}

/// Who waits on a pending reply cell: suspended callers, observers, the caller's timeout. Guarded by the cell's
/// lock until the cell is resolved, then owned by the resolving thread. The box is also the timeout's timer node
/// (its target the cell), so a caller that waits with a timeout allocates one object for both.
@usableFromInline
final class ReplyParties: TimerNode, @unchecked Sendable {
    // Safety: see the type's documentation; `timeout` is set once, under the cell's lock, before the node is armed,
    // and never changed; the base class's state is guarded by the timer service.
    @usableFromInline var continuations: [(token: UInt64, continuation: UnsafeContinuation<ReplyValue, any Error>)] = []
    @usableFromInline var observers: [@Sendable () -> Void] = []
    /// The caller's timeout, once armed.
    @usableFromInline var timeout: CallTimeout?

    @usableFromInline override init() { super.init() }

    /// Disarms the timeout and wakes everyone with `outcome`.
    func notify(_ outcome: ReplyOutcome) {
        if let timeout { timeout.service.cancel(self) }
        for (_, continuation) in continuations { Self.resume(continuation, with: outcome) }
        for observer in observers { observer() }
    }

    static func resume(_ continuation: UnsafeContinuation<ReplyValue, any Error>, with outcome: ReplyOutcome) {
        switch outcome {
        case .success(let value): continuation.resume(returning: value)
        case .failure(let failure): continuation.resume(throwing: failure.error)
        }
    }

    /// The caller's timeout fired: fails the call (the target is its reply cell) unless it was answered first.
    override func fire(_ target: AnyObject, generation: UInt64) -> (any Schedulable)? {
        guard let timeout else { return nil }
        let message = timeout.code == .callTimeout
            ? "no reply from server \(timeout.server) within \(timeout.duration)"
            : "server \(timeout.server) did not end within \(timeout.duration)"
        _ = unsafeDowncast(target, to: ReplyCell.self).fail(StateServerError(timeout.code, message))
        return nil
    }
}

/// The typed view of a ``ReplyCell``: a value type, cheap to copy, specialized at each use.
@usableFromInline
struct ReplySlot<Value: Sendable>: Sendable {
    @usableFromInline let cell: ReplyCell

    @inlinable init(owner: ServerID?) { cell = ReplyCell(owner: owner, valueType: TypedReplyValueBox<Value>.self) }

    @inlinable var owner: ServerID? { cell.owner }

    @inlinable var isResolved: Bool { cell.isResolved }

    /// The outcome, typed. The cast cannot fail: only a `Reply<Value>` or this slot resolves the cell.
    @inlinable var currentResult: Result<Value, StateServerError>? { cell.publishedOutcome?.result(as: Value.self) }

    /// The outcome untyped (read with ``ReplyOutcome/get(as:)``), or `nil` while pending.
    @inlinable var currentOutcome: ReplyOutcome? { cell.publishedOutcome }

    @inlinable func resolve(_ result: Result<Value, StateServerError>) -> Bool {
        switch result {
        case .success(let value): cell.deliver(ReplyValue(value))
        case .failure(let error): cell.fail(error)
        }
    }

    @inlinable func fail(_ error: StateServerError) -> Bool { cell.fail(error) }

    @inlinable func wait(abandonsOnCancel: Bool = true) async throws -> Value {
        try await cell.wait(abandonsOnCancel: abandonsOnCancel).value(as: Value.self)
    }

    func onResolve(_ observer: @escaping @Sendable () -> Void) { cell.onResolve(observer) }

    @usableFromInline
    func armTimeout(
        after timeout: Duration, elapsed: Duration = .zero, on timers: any TimerService, server: ServerID,
        code: StateServerError.Code = .callTimeout
    ) {
        cell.armTimeout(after: timeout, elapsed: elapsed, on: timers, server: server, code: code)
    }
}

/// A caller's timeout: what its failure says, and the service its timer is armed in (held strongly: the service
/// holds the timer only while it is armed, and an answer or the timeout disarms it).
@usableFromInline
struct CallTimeout: Sendable {
    let code: StateServerError.Code
    let duration: Duration
    let server: ServerID
    let service: any TimerService
}
