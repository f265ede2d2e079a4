/// The one state of a ``GenServer`` seen as a ``StateMachine``: ``running``, until a stop that still has to
/// answer its caller after `terminate`.
///
/// A `GenServer`'s own state is the machine's `Data`; this is what ``ServerStatus/state`` and
/// ``StateSnapshot/state`` show for it. Do not replace it with ``Server/replaceState(timeout:_:)``: change only
/// the data.
public struct GenServerPhase: Hashable, Sendable, CustomStringConvertible {
    /// The reply of a `.stop(reason, reply: handle, value)`, sent after `terminate`; `nil` while running.
    let pendingStop: PendingStopReply?

    private init(pendingStop: PendingStopReply?) { self.pendingStop = pendingStop }

    /// The server is handling messages.
    public static let running = GenServerPhase(pendingStop: nil)

    /// The phase of a server stopping after `.stop(reason, reply:…)`: its `terminate` runs next, then the reply.
    static func stopping(_ reply: PendingStopReply) -> GenServerPhase { GenServerPhase(pendingStop: reply) }

    /// Whether the server is stopping and will answer its caller after `terminate`.
    public var isStopping: Bool { pendingStop != nil }

    /// `running` or `stopping`.
    public var description: String { isStopping ? "stopping" : "running" }
}

/// A reply held back until `terminate` has run (the order of `gen_server`'s `{stop, Reason, Reply, State}`).
final class PendingStopReply: Hashable, Sendable {
    let slot: ReplySlotBase
    let value: ReplyValue

    init(slot: ReplySlotBase, value: ReplyValue) {
        self.slot = slot
        self.value = value
    }

    /// Sends the reply; a caller that timed out or gave up drops it.
    func send() { _ = slot.deliver(value) }

    static func == (lhs: PendingStopReply, rhs: PendingStopReply) -> Bool { lhs === rhs }

    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// What a ``GenServer`` signals itself through the engine's event timeout: its inactivity timeout, a continue,
/// or a stop that replies after `terminate`. This is the machine's `Timeout` type; only the adapter creates values.
public struct GenServerSignal<Continue: Sendable>: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// The inactivity timeout expired: no message arrived in time.
        case inactivity
        /// Run `handleContinue` with this value.
        case proceed(Continue)
        /// Stop with this reason (the reply waits in the phase).
        case stop(ExitReason)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// `inactivity`, `continue(…)` or `stop(reason)`.
    public var description: String {
        switch kind {
        case .inactivity: "inactivity"
        case .proceed(let work): "continue(\(work))"
        case .stop(let reason): "stop(\(reason))"
        }
    }
}
