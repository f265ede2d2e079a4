extension Event: CustomStringConvertible {
    /// A short, readable form: `cast(walkButtonPressed)`, `stateTimeout`, `timeout(blink)`, `enter(from: red)`.
    public var description: String {
        switch self {
        case .call(let request): "call(\(request))"
        case .cast(let message): "cast(\(message))"
        case .info(let info): "info(\(info))"
        case .internal(let info): "internal(\(info))"
        case .enter(let from): "enter(from: \(from))"
        case .eventTimeout(let content): Self.timeoutDescription("eventTimeout", content)
        case .stateTimeout(let content): Self.timeoutDescription("stateTimeout", content)
        case .timeout(let name, let content):
            content is Void ? "timeout(\(name))" : "timeout(\(name), \(content))"
        case .down(let reference, let reason): "down(\(reference), \(reason))"
        case .exit(let server, let reason): "exit(\(server), \(reason))"
        }
    }

    private static func timeoutDescription(_ name: String, _ content: M.Timeout) -> String {
        content is Void ? name : "\(name)(\(content))"
    }
}

extension Reply: CustomStringConvertible {
    /// `reply`, so that a call case prints as `balance(reply)`.
    public var description: String { "reply" }
}

extension TraceEvent: CustomStringConvertible {
    /// One line describing the step, as the `statem` tool prints it.
    public var description: String {
        switch self {
        case .started(let state): "started in \(state)"
        case .handling(let event, let state): "\(event) in \(state)"
        case .transition(let from, let to): "\(from) → \(to)"
        case .postponed(let event): "postponed \(event)"
        case .replied(let value, let wasDelivered): wasDelivered ? "replied \(value)" : "reply \(value) dropped"
        case .timeoutArmed(let kind, let time): "armed \(kind) \(time)"
        case .timeoutCancelled(let kind): "cancelled \(kind)"
        case .stopping(let reason, let state): "stopping in \(state): \(reason)"
        case .exited(let reason): "exited: \(reason)"
        case .messageDropped: "message dropped (mailbox full)"
        case .discardedAtExit(let count): "\(count) queued message(s) discarded at exit"
        case .reported(let message): "reported: \(message)"
        }
    }
}
