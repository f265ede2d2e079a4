// The adapter: a GenServer is a StateMachine with one state. These are the StateMachine requirements, implemented
// once for every GenServer; a GenServer does not implement them itself.

extension GenServer {
    /// Runs ``initialize()`` and starts in ``GenServerPhase/running`` with its state as the machine's data.
    public func start() throws -> Start<Self> {
        switch try initialize().outcome {
        case .ok(let data, let actions, let followUp):
            if let invalid = Self.invalidAction(in: actions) { return .stop(invalid) }
            return .ok(.running, data: data, actions: actions + Self.actions(for: followUp))
        case .ignore:
            return .ignore
        case .stop(let reason):
            return .stop(reason)
        case .error(let error):
            return .error(error)
        }
    }

    /// Routes each event to its callback and turns the callback's result into a transition.
    public func handle(_ event: Event<Self>, in phase: GenServerPhase, data: inout Data) throws -> Transition<Self> {
        let result: GenServerResult<Self>
        switch event {
        case .call(let request):
            result = try handleCall(request, state: &data)
        case .cast(let message):
            result = try handleCast(message, state: &data)
        case .info(let message), .internal(let message):
            result = try handleInfo(message, state: &data)
        case .eventTimeout(let signal):
            switch signal.kind {
            case .inactivity: result = try handleTimeout(state: &data)
            case .proceed(let work): result = try handleContinue(work, state: &data)
            case .stop(let reason): return .stop(reason)
            }
        case .down(let monitor, let reason):
            result = try handleDown(monitor, reason: reason, state: &data)
        case .exit(let server, let reason):
            result = try handleExit(from: server, reason: reason, state: &data)
        case .enter, .stateTimeout, .timeout:
            return .keep
        }
        return Self.transition(for: result)
    }

    /// Calls ``terminate(reason:state:)``; after a stop with a reply, sends the reply once it has returned or
    /// thrown.
    public func terminate(reason: ExitReason, state phase: GenServerPhase, data: Data) throws {
        defer { phase.pendingStop?.send() }
        try terminate(reason: reason, state: data)
    }

    // MARK: Translation

    private static func transition(for result: GenServerResult<Self>) -> Transition<Self> {
        switch result.outcome {
        case .proceed(let actions, let followUp):
            if let invalid = invalidAction(in: actions) { return .stop(invalid) }
            let extra = Self.actions(for: followUp)
            return .keep(actions: extra.isEmpty ? actions : actions + extra)
        case .stop(let reason):
            return .stop(reason)
        case .stopAndReply(let reason, let reply):
            // gen_server answers after terminate: move to a phase holding the reply, then stop from there, so
            // the engine's terminate call (which sees the phase) sends it after the server's terminate.
            return .goto(.stopping(reply), .nextEvent(.eventTimeout(GenServerSignal(.stop(reason)))))
        }
    }

    private static func actions(for followUp: GenServerFollowUp<Continue>) -> [Action<Self>] {
        switch followUp {
        case .none: []
        case .timeout(let duration): [.eventTimeout(.after(duration), GenServerSignal(.inactivity))]
        case .proceed(let work): [.nextEvent(.eventTimeout(GenServerSignal(.proceed(work))))]
        }
    }

    /// The exit reason for an action a single-state server cannot take, if any.
    private static func invalidAction(in actions: [Action<Self>]) -> ExitReason? {
        for action in actions {
            if case .postpone(true) = action.kind {
                return .error(StateServerError(
                    .invalidAction,
                    "postpone in \(Self.self): a GenServer has one state, so a postponed message is never retried"))
            }
        }
        return nil
    }
}
