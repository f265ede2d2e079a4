/// The machine every supervisor runs: a `StateMachine` on the same runtime as its children.
///
/// Children's ends arrive as ``Event/down(_:_:)`` events (through ``SupervisorInbox``); API requests are calls.
/// Everything that has to wait, stopping children one at a time with their shutdown timeouts, is a plan of steps
/// executed by the handler: a step that stops children moves the machine to `terminating(step:)` with a state
/// timeout for the shutdown timeout, and the plan continues when their `down` events arrive. Requests that change
/// the children are postponed meanwhile, so they run in order once the machine is back in `running`. Backoff
/// delays and restart retries are named timeouts, so virtual time controls them.
///
/// Concurrency: handled like any server, one event at a time; the machine itself is an immutable value.
struct SupervisorMachine: StateMachine {
    enum State: Hashable, Sendable {
        /// Supervising; requests are handled at once.
        case running
        /// Waiting for the children of one plan step to end.
        case terminating(step: UInt64)
    }

    typealias StartResult = Result<(any ServerHandle)?, SupervisorError>
    typealias DoneResult = Result<Void, SupervisorError>

    enum Call: Sendable {
        case whichChildren(Reply<[ChildInfo]>)
        case countChildren(Reply<ChildCounts>)
        case startChild(ChildSpec, Reply<StartResult>)
        case startDynamicChild(ChildSpec, Reply<StartResult>)
        case terminateChild(ChildID, Reply<DoneResult>)
        case terminateServer(ServerID, Reply<DoneResult>)
        case restartChild(ChildID, Reply<StartResult>)
        case deleteChild(ChildID, Reply<DoneResult>)
        /// Shut down in order; never answered: the caller learns of the end as `serverExited`.
        case stop(ExitReason, Reply<Void>)
    }

    enum Info: Sendable {
        /// Continue the plan (inserted by `start` when a child failed to start).
        case advance
        /// Stop every child in reverse start order, then end with the reason.
        case shutdown(ExitReason)
        /// End now (inserted after a plan's last actions).
        case stop(ExitReason)
    }

    enum Timer: Hashable, Sendable {
        /// Start the children of a delayed restart group.
        case backoff(UInt64)
        /// Try again to restart a child whose restart failed.
        case retry(UInt64)
    }

    /// What happens to a child's spec once the child, being terminated, has ended.
    enum AfterExit: Sendable {
        /// Keep the spec, not running (temporary: removed).
        case stay
        /// Mark it for restart (temporary: removed).
        case restart
        /// Remove the spec.
        case remove
    }

    /// One step of a plan.
    enum Step: Sendable {
        /// Stop these children together and wait for them to end.
        case terminate([UInt64], AfterExit)
        /// Start the children marked for restart, in order.
        case start([UInt64])
        /// Start them after a backoff delay.
        case delayedStart([UInt64], Duration)
        /// Answer a caller.
        case reply(@Sendable () -> Void)
        /// End the supervisor.
        case stop(ExitReason)
    }

    struct Child: Sendable {
        let key: UInt64
        var spec: ChildSpec
        var server: (any ServerHandle)?
        var reference: MonitorReference?
        var isRestarting = false
        var consecutiveRestarts = 0
        var startedAt: RuntimeInstant?
        var afterExit: AfterExit?
    }

    struct Data: Sendable {
        /// Children by key; keys grow in start order.
        var children: [UInt64: Child] = [:]
        var keysByID: [ChildID: UInt64] = [:]
        var keysByReference: [MonitorReference: UInt64] = [:]
        var keysByServer: [ServerID: UInt64] = [:]
        var nextKey: UInt64 = 0
        var nextDynamicNumber = 0
        var nextGroup: UInt64 = 0
        /// Restart decisions inside the current period.
        var restarts: [RuntimeInstant] = []
        var plan: [Step] = []
        var step: UInt64 = 0
        /// Children the current step waits for.
        var awaiting: Set<UInt64> = []
        /// Delayed restart groups by timer key.
        var backoffGroups: [UInt64: [UInt64]] = [:]
        var isShuttingDown = false

        var orderedKeys: [UInt64] { children.keys.sorted() }
    }

    struct Configuration: Sendable {
        var strategy: SupervisorSpec.Strategy
        var intensity: Int
        var period: Duration
        var backoff: RestartBackoff?
        var children: [ChildSpec]
        var isDynamic: Bool
        var maximumChildren: Int?
    }

    let configuration: Configuration
    let runtime: Runtime
    let inbox: SupervisorInbox

    // MARK: Start

    /// Starts the children in order. If one fails, the ones started are stopped in reverse order (a plan run from
    /// an inserted event) and the supervisor then ends with `shutdown`.
    func start() -> Start<Self> {
        var data = Data()
        for spec in configuration.children {
            let key = data.add(spec)
            switch startChild(key, &data) {
            case .started:
                continue
            case .ignored:
                if spec.restart == .temporary { data.remove(key) }
            case .failed(let error):
                data.remove(key)
                inbox.recordStartFailure(.failedToStart(spec.id, error))
                data.isShuttingDown = true
                data.plan = data.orderedKeys.reversed().map { .terminate([$0], .stay) }
                data.plan.append(.stop(.shutdown("failed to start child \(spec.id)")))
                return .ok(.running, data: data, .next(.advance))
            }
        }
        return .ok(.running, data: data)
    }

    // MARK: Events

    func handle(_ event: Event<Self>, in state: State, data: inout Data) -> Transition<Self> {
        switch event {
        case .call(let call):
            return handle(call, in: state, data: &data)
        case .down(let reference, let reason):
            return childEnded(reference, reason, in: state, data: &data)
        case .internal(.advance):
            return advance(&data)
        case .internal(.stop(let reason)):
            return .stop(reason)
        case .info(.shutdown(let reason)):
            return shutDown(reason, in: state, data: &data)
        case .exit(_, let reason):
            // A linked server (a parent, say) ended: like an unlinked server, end too unless it ended normally,
            // but in order.
            if case .normal = reason { return .keep }
            return shutDown(reason, in: state, data: &data)
        case .stateTimeout:
            // The shutdown timeout of the current step: kill whoever is still running.
            for key in data.awaiting {
                guard let child = data.children[key], let server = child.server else { continue }
                if child.spec.shutdown != .infinity { server.kill() }
            }
            return .keep
        case .timeout(let timer, _):
            if case .terminating = state { return .keep(.postpone) }
            if data.isShuttingDown { return .keep }
            switch timer {
            case .backoff(let group):
                let keys = data.backoffGroups.removeValue(forKey: group) ?? []
                var actions: [Action<Self>] = []
                startGroup(keys, data: &data, actions: &actions)
                return .keep(actions: actions)
            case .retry(let key):
                guard let child = data.children[key], child.isRestarting, child.server == nil else { return .keep }
                return restart(key, data: &data)
            }
        case .info, .internal, .cast, .enter, .eventTimeout:
            // Not used by the supervisor (`advance` and `stop` only come as inserted events).
            return .keep
        }
    }

    // MARK: Children ending

    private func childEnded(
        _ reference: MonitorReference, _ reason: ExitReason, in state: State, data: inout Data
    ) -> Transition<Self> {
        // An unknown reference is the end of a child the supervisor already forgot.
        guard let key = data.keysByReference[reference] else { return .keep }
        if case .terminating = state {
            guard data.awaiting.contains(key) else { return .keep(.postpone) }
            return awaitedChildEnded(key, reason, data: &data)
        }
        data.detach(key, inbox: inbox)
        guard !data.isShuttingDown, let child = data.children[key] else { return .keep }
        switch child.spec.restart {
        case .temporary:
            data.remove(key)
            return .keep
        case .transient where reason.isNormal:
            return .keep
        case .permanent, .transient:
            return restart(key, data: &data)
        }
    }

    private func awaitedChildEnded(_ key: UInt64, _ reason: ExitReason, data: inout Data) -> Transition<Self> {
        data.detach(key, inbox: inbox)
        data.awaiting.remove(key)
        var actions: [Action<Self>] = []
        if var child = data.children[key] {
            switch reason {
            case .shutdown, .killed: break
            case .normal, .error:
                actions.append(.report("child \(child.spec.id) ended with \(reason) while being shut down"))
            }
            let outcome = child.afterExit ?? .stay
            child.afterExit = nil
            if outcome == .remove || child.spec.restart == .temporary {
                data.remove(key)
            } else {
                child.isRestarting = outcome == .restart
                data.children[key] = child
            }
        }
        guard data.awaiting.isEmpty else { return .keep(actions: actions) }
        return advance(&data, actions: actions)
    }

    // MARK: Restarts

    /// A restart decision for `key`: counts toward the intensity, then restarts the child and, depending on the
    /// strategy, its siblings (stopping the running ones first, in reverse order).
    private func restart(_ key: UInt64, data: inout Data) -> Transition<Self> {
        let now = runtime.now
        data.restarts.append(now)
        let threshold = now.advanced(by: .zero - configuration.period)
        data.restarts.removeAll { $0 < threshold }
        if data.restarts.count > configuration.intensity {
            let message = "reached maximum restart intensity (\(configuration.intensity) restarts in "
                + "\(configuration.period.shortDescription)); shutting down"
            return shutDown(.shutdown("reached maximum restart intensity"), report: message, in: .running, data: &data)
        }
        guard var child = data.children[key] else { return .keep }
        var delay: Duration?
        if let backoff = configuration.backoff {
            if let started = child.startedAt, now.duration(since: started) >= backoff.resetAfter {
                child.consecutiveRestarts = 0
            }
            delay = backoff.delay(afterConsecutiveRestarts: child.consecutiveRestarts)
            child.consecutiveRestarts += 1
        }
        data.children[key] = child

        let group: [UInt64]
        switch configuration.isDynamic ? .oneForOne : configuration.strategy {
        case .oneForOne: group = [key]
        case .restForOne: group = data.orderedKeys.filter { $0 >= key }
        case .oneForAll: group = data.orderedKeys
        }
        var actions: [Action<Self>] = []
        data.claim(group, actions: &actions)
        for member in group where data.children[member]?.server == nil {
            data.children[member]?.isRestarting = true
        }
        for member in group.reversed() where member != key && data.children[member]?.server != nil {
            data.plan.append(.terminate([member], .restart))
        }
        data.plan.append(delay.map { .delayedStart(group, $0) } ?? .start(group))
        return advance(&data, actions: actions)
    }

    /// Starts the children of `keys` that are marked for restart, in order. If one fails, it and the rest stay
    /// marked and a retry is scheduled (each retry is a new restart decision).
    private func startGroup(_ keys: [UInt64], data: inout Data, actions: inout [Action<Self>]) {
        for key in keys {
            guard let child = data.children[key], child.isRestarting, child.server == nil else { continue }
            switch startChild(key, &data) {
            case .started:
                continue
            case .ignored:
                data.children[key]?.isRestarting = false
                if child.spec.restart == .temporary { data.remove(key) }
            case .failed(let error):
                actions.append(.report("child \(child.spec.id) failed to restart: \(error)"))
                let delay = configuration.backoff?.delay(afterConsecutiveRestarts: child.consecutiveRestarts) ?? .zero
                actions.append(.timeout(.retry(key), .after(delay)))
                return
            }
        }
    }

    enum StartOutcome {
        case started(any ServerHandle)
        case ignored
        case failed(any Error)
    }

    /// Runs the child's start closure and watches the child's end.
    func startChild(_ key: UInt64, _ data: inout Data) -> StartOutcome {
        guard let spec = data.children[key]?.spec else { return .ignored }
        let server: any ServerHandle
        do {
            server = try spec.start(runtime)
        } catch let error as StateServerError where error.code == .ignored {
            return .ignored
        } catch {
            return .failed(error)
        }
        let reference = MonitorReference(rawValue: IdentityCounter.next())
        data.attach(key, server, reference: reference, at: runtime.now)
        inbox.childStarted(key, server)
        let inbox = inbox
        server.monitor { reason in inbox.deliver(.down(reference, reason)) }
        return .started(server)
    }

    // MARK: Plans

    /// Runs the plan until it waits for children to end (in `terminating`) or is done (in `running`).
    func advance(_ data: inout Data, actions initialActions: [Action<Self>] = []) -> Transition<Self> {
        var actions = initialActions
        while !data.plan.isEmpty {
            switch data.plan.removeFirst() {
            case .terminate(let keys, let outcome):
                var timeout: Duration?
                for key in keys {
                    guard let server = data.children[key]?.server else { continue }
                    data.children[key]?.afterExit = outcome
                    data.awaiting.insert(key)
                    switch data.children[key]?.spec.shutdown ?? .infinity {
                    case .brutalKill:
                        server.kill()
                    case .timeout(let duration):
                        timeout = Swift.max(timeout ?? duration, duration)
                        requestShutdown(of: server, reason: .shutdown, from: inbox.supervisorID)
                    case .infinity:
                        requestShutdown(of: server, reason: .shutdown, from: inbox.supervisorID)
                    }
                }
                guard !data.awaiting.isEmpty else { continue }
                data.step += 1
                if let timeout { actions.append(.stateTimeout(.after(timeout))) }
                return .goto(.terminating(step: data.step), actions: actions)
            case .start(let keys):
                startGroup(keys, data: &data, actions: &actions)
            case .delayedStart(let keys, let delay):
                data.nextGroup += 1
                data.backoffGroups[data.nextGroup] = keys
                actions.append(.timeout(.backoff(data.nextGroup), .after(delay)))
            case .reply(let send):
                send()
            case .stop(let reason):
                if actions.isEmpty { return .stop(reason) }
                return .goto(.running, actions: actions + [.next(.stop(reason))])
            }
        }
        return .goto(.running, actions: actions)
    }

    /// Starts the ordered shutdown: every running child in reverse start order (a dynamic supervisor's all at
    /// once), then the end with `reason`. While a step is in progress, it finishes first.
    func shutDown(
        _ reason: ExitReason, report: String? = nil, in state: State, data: inout Data
    ) -> Transition<Self> {
        guard !data.isShuttingDown else { return .keep }
        data.isShuttingDown = true
        var actions: [Action<Self>] = []
        if let report { actions.append(.report(report)) }
        for group in data.backoffGroups.keys { actions.append(.cancelTimeout(.backoff(group))) }
        data.backoffGroups = [:]
        let replies = data.plan.filter { if case .reply = $0 { true } else { false } }
        let running = data.orderedKeys.reversed().filter { data.children[$0]?.server != nil && !data.awaiting.contains($0) }
        data.plan = configuration.isDynamic ? [.terminate(running, .stay)] : running.map { .terminate([$0], .stay) }
        data.plan += replies
        data.plan.append(.stop(reason))
        if case .terminating = state { return .keep(actions: actions) }
        return advance(&data, actions: actions)
    }
}

extension SupervisorMachine.Data {
    mutating func add(_ spec: ChildSpec) -> UInt64 {
        nextKey += 1
        children[nextKey] = SupervisorMachine.Child(key: nextKey, spec: spec)
        keysByID[spec.id] = nextKey
        return nextKey
    }

    mutating func remove(_ key: UInt64) {
        guard let child = children.removeValue(forKey: key) else { return }
        if keysByID[child.spec.id] == key { keysByID[child.spec.id] = nil }
    }

    mutating func attach(_ key: UInt64, _ server: any ServerHandle, reference: MonitorReference, at now: RuntimeInstant) {
        children[key]?.server = server
        children[key]?.reference = reference
        children[key]?.isRestarting = false
        children[key]?.startedAt = now
        keysByReference[reference] = key
        keysByServer[server.id] = key
    }

    /// The child's server has ended: forget it.
    mutating func detach(_ key: UInt64, inbox: SupervisorInbox) {
        guard let child = children[key] else { return }
        if let reference = child.reference { keysByReference[reference] = nil }
        if let server = child.server { keysByServer[server.id] = nil }
        children[key]?.server = nil
        children[key]?.reference = nil
        inbox.childEnded(key)
    }

    /// Takes `keys` out of any delayed restart group (they now belong to a new restart), cancelling the timers of
    /// groups left empty.
    mutating func claim(_ keys: [UInt64], actions: inout [Action<SupervisorMachine>]) {
        guard !backoffGroups.isEmpty else { return }
        let claimed = Set(keys)
        for (group, members) in backoffGroups {
            let remaining = members.filter { !claimed.contains($0) }
            guard remaining.count != members.count else { continue }
            if remaining.isEmpty {
                backoffGroups[group] = nil
                actions.append(.cancelTimeout(.backoff(group)))
            } else {
                backoffGroups[group] = remaining
            }
        }
    }

    var childInfos: [ChildInfo] {
        orderedKeys.compactMap { key in
            guard let child = children[key] else { return nil }
            let status: ChildStatus =
                if let server = child.server { .running(server) } else if child.isRestarting { .restarting } else { .notRunning }
            return ChildInfo(id: child.spec.id, status: status, type: child.spec.type, restart: child.spec.restart)
        }
    }

    var counts: ChildCounts {
        var counts = ChildCounts(specs: children.count, active: 0, supervisors: 0, workers: 0)
        for child in children.values {
            if child.server != nil { counts.active += 1 }
            switch child.spec.type {
            case .supervisor: counts.supervisors += 1
            case .worker: counts.workers += 1
            }
        }
        return counts
    }
}
