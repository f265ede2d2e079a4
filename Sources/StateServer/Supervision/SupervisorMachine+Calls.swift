/// The supervisor's API requests (`start_child`, `terminate_child`, `restart_child`, `delete_child`,
/// `which_children`, `count_children`), with OTP's error cases.
extension SupervisorMachine {
    func handle(_ call: Call, in state: State, data: inout Data) -> Transition<Self> {
        switch call {
        case .whichChildren(let reply):
            return .keep(.reply(reply, data.childInfos))
        case .countChildren(let reply):
            return .keep(.reply(reply, data.counts))
        case .stop(let reason, _):
            return shutDown(reason, in: state, data: &data)
        default:
            break
        }
        // Requests that change the children wait until the current plan step is done.
        if case .terminating = state { return .keep(.postpone) }
        switch call {
        case .whichChildren, .countChildren, .stop:
            return .keep
        case .startChild(let spec, let reply):
            return .keep(.reply(reply, startNewChild(spec, data: &data)))
        case .startDynamicChild(var spec, let reply):
            if let maximum = configuration.maximumChildren, data.children.count >= maximum {
                return .keep(.reply(reply, .failure(SupervisorError(
                    .maximumChildren, "the supervisor already has its maximum of \(maximum) children"))))
            }
            data.nextDynamicNumber += 1
            spec.id = ChildID(data.nextDynamicNumber)
            return .keep(.reply(reply, startNewChild(spec, data: &data)))
        case .terminateChild(let id, let reply):
            guard let key = data.keysByID[id] else { return .keep(.reply(reply, .failure(notFound(id)))) }
            return terminate(key, outcome: .stay, data: &data) { reply.send(.success(())) }
        case .terminateServer(let server, let reply):
            guard let key = data.keysByServer[server] else {
                return .keep(.reply(reply, .failure(SupervisorError(.notFound, "no child runs as server \(server)"))))
            }
            return terminate(key, outcome: .remove, data: &data) { reply.send(.success(())) }
        case .restartChild(let id, let reply):
            guard let key = data.keysByID[id], let child = data.children[key] else {
                return .keep(.reply(reply, .failure(notFound(id))))
            }
            if let server = child.server {
                return .keep(.reply(reply, .failure(SupervisorError(
                    .running, "child \(id) is running", childID: id, server: server))))
            }
            if child.isRestarting { return .keep(.reply(reply, .failure(restarting(id)))) }
            switch startChild(key, &data) {
            case .started(let server): return .keep(.reply(reply, .success(server)))
            case .ignored: return .keep(.reply(reply, .success(nil)))
            case .failed(let error): return .keep(.reply(reply, .failure(.failedToStart(id, error))))
            }
        case .deleteChild(let id, let reply):
            guard let key = data.keysByID[id], let child = data.children[key] else {
                return .keep(.reply(reply, .failure(notFound(id))))
            }
            if let server = child.server {
                return .keep(.reply(reply, .failure(SupervisorError(
                    .running, "child \(id) is running", childID: id, server: server))))
            }
            if child.isRestarting { return .keep(.reply(reply, .failure(restarting(id)))) }
            data.remove(key)
            return .keep(.reply(reply, .success(())))
        }
    }

    /// Adds and starts a child (`start_child`): a started child is kept; an ignored one is kept without a server
    /// (temporary and dynamic: dropped); a failed one is not added.
    private func startNewChild(_ spec: ChildSpec, data: inout Data) -> StartResult {
        if let key = data.keysByID[spec.id], let existing = data.children[key] {
            if let server = existing.server {
                return .failure(SupervisorError(
                    .alreadyStarted, "child \(spec.id) is already running as \(server.id)", childID: spec.id,
                    server: server))
            }
            return .failure(SupervisorError(.alreadyPresent, "child \(spec.id) already exists", childID: spec.id))
        }
        let key = data.add(spec)
        switch startChild(key, &data) {
        case .started(let server):
            return .success(server)
        case .ignored:
            if spec.restart == .temporary || configuration.isDynamic { data.remove(key) }
            return .success(nil)
        case .failed(let error):
            data.remove(key)
            return .failure(.failedToStart(spec.id, error))
        }
    }

    /// Stops one child (if it runs) and answers once it has ended. A child waiting for a restart is simply no
    /// longer restarted.
    private func terminate(
        _ key: UInt64, outcome: AfterExit, data: inout Data, then answer: @escaping @Sendable () -> Void
    ) -> Transition<Self> {
        guard let child = data.children[key] else {
            answer()
            return .keep
        }
        if child.server != nil {
            data.plan = [.terminate([key], outcome), .reply(answer)]
            return advance(&data)
        }
        var actions: [Action<Self>] = []
        data.claim([key], actions: &actions)
        data.children[key]?.isRestarting = false
        if outcome == .remove || child.spec.restart == .temporary { data.remove(key) }
        answer()
        return .keep(actions: actions)
    }

    private func notFound(_ id: ChildID) -> SupervisorError {
        SupervisorError(.notFound, "no child has id \(id)", childID: id)
    }

    private func restarting(_ id: ChildID) -> SupervisorError {
        SupervisorError(.restarting, "child \(id) is waiting to be restarted", childID: id)
    }
}
