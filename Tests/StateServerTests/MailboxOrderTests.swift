import Synchronization
import Testing
@testable import StateServer

/// System requests (stop, kill, status…) take their turn in the mailbox like OTP's `sys` messages: messages that
/// arrived before them are handled first.
@Suite struct MailboxOrderTests {
    private struct Echo: StateMachine {
        enum State: Hashable, Sendable { case running }
        typealias Data = [String]
        enum Cast: Sendable { case burst }
        enum Info: Sendable { case first, second }
        func start() -> Start<Self> { .ok(.running, data: []) }
        func handle(_ event: Event<Self>, in state: State, data: inout [String]) -> Transition<Self> {
            switch event {
            case .cast(.burst): return .keep(.send(.first), .send(.second))
            case .info(let info): data.append("\(info)"); return .keep
            default: return .keep
            }
        }
    }

    private final class Box: Sendable {
        let server = Locked<Server<Echo>?>(nil)
        let handled = Locked<[String]>([])
    }

    @Test func aSystemRequestQueuedBehindMessagesWaitsForThem() async throws {
        let runtime = Runtime(clock: ManualClock())
        let box = Box()
        let server = try runtime.start(Echo(), options: ServerOptions(observer: { observation in
            switch observation.event {
            case .handling(.cast(.burst), _):
                // Runs on the draining thread after the handler queued `.first` and `.second`: the stop is behind them.
                _ = box.server.withLock { $0 }?.core.enqueueSystem(.stop(.shutdown))
            case .handling(.info(let info), _):
                box.handled.withLock { $0.append("\(info)") }
            default:
                break
            }
        }))
        box.server.withLock { $0 = server }
        try server.cast(.burst)
        #expect(box.handled.withLock { $0 } == ["first", "second"])
        guard case .shutdown? = server.exitReason else {
            Issue.record("expected the stop to end the server after the queued messages, got \(String(describing: server.exitReason))")
            return
        }
    }

    @Test func aKillGoesAheadOfQueuedMessages() async throws {
        let runtime = Runtime(clock: ManualClock())
        let box = Box()
        let server = try runtime.start(Echo(), options: ServerOptions(observer: { observation in
            switch observation.event {
            case .handling(.cast(.burst), _):
                // An exit signal, not a message: it overtakes `.first` and `.second`.
                box.server.withLock { $0 }?.kill()
            case .handling(.info(let info), _):
                box.handled.withLock { $0.append("\(info)") }
            default:
                break
            }
        }))
        box.server.withLock { $0 = server }
        try server.cast(.burst)
        #expect(box.handled.withLock { $0 }.isEmpty)
        guard case .killed? = server.exitReason else {
            Issue.record("expected killed, got \(String(describing: server.exitReason))")
            return
        }
    }
}
