import Synchronization

/// Carries the ends of a supervisor's children into its mailbox, and ends the children if the supervisor itself
/// ends without stopping them (killed, or crashed).
///
/// A supervisor starts its first children inside its machine's `start`, before its server (and so its handle)
/// exists; their exits are buffered here until ``attach(_:)``, then delivered in order. After that, each child's
/// end arrives as an ``Event/down(_:_:)`` event, exactly as `monitor(by:)` delivers it.
///
/// Concurrency: `Sendable`; all mutable state is behind one mutex, never held while calling out.
final class SupervisorInbox: Sendable {
    private struct State {
        var core: ServerCore<SupervisorMachine>?
        var pending: [Event<SupervisorMachine>] = []
        /// The running children, by key, for the supervisor's own end.
        var live: [UInt64: any ServerHandle] = [:]
        var startFailure: SupervisorError?
    }

    private let state = Locked(State())
    let runtime: Runtime

    init(runtime: Runtime) { self.runtime = runtime }

    /// The supervisor's id, once attached.
    var supervisorID: ServerID? { state.withLock { $0.core?.id } }

    /// Why the supervisor failed to start its children, if it did.
    var startFailure: SupervisorError? { state.withLock { $0.startFailure } }

    func recordStartFailure(_ error: SupervisorError) { state.withLock { $0.startFailure = error } }

    /// Delivers `event` to the supervisor (buffered until it is attached).
    func deliver(_ event: Event<SupervisorMachine>) {
        let delivered = state.withLock { state -> Bool in
            guard let core = state.core else {
                state.pending.append(event)
                return false
            }
            _ = core.enqueue(.event(event), bypassCapacity: true)
            return true
        }
        if delivered { runtime.settle() }
    }

    /// Connects the inbox to the supervisor's server: delivers what was buffered and watches the supervisor's end.
    func attach(_ server: Server<SupervisorMachine>) {
        state.withLock { state in
            state.core = server.core
            for event in state.pending { _ = server.core.enqueue(.event(event), bypassCapacity: true) }
            state.pending = []
        }
        runtime.settle()
        let id = server.id
        server.monitor { [self] reason in supervisorEnded(id, reason) }
    }

    func childStarted(_ key: UInt64, _ server: any ServerHandle) { state.withLock { $0.live[key] = server } }

    func childEnded(_ key: UInt64) { _ = state.withLock { $0.live.removeValue(forKey: key) } }

    /// The supervisor ended with children still running (it was killed, crashed, or stopped through its raw
    /// server): shut them down in reverse start order without waiting; an abnormal end reaches them as a linked
    /// exit with the same reason.
    private func supervisorEnded(_ id: ServerID, _ reason: ExitReason) {
        let orphans = state.withLock { state -> [(UInt64, any ServerHandle)] in
            defer { state.live = [:] }
            return state.live.sorted { $0.key > $1.key }
        }
        for (_, child) in orphans {
            if reason.isNormal {
                requestShutdown(of: child, reason: .shutdown, from: id)
            } else {
                child.deliverLinkedExit(from: id, reason: reason)
            }
        }
    }
}

/// A handle that can be asked to shut down without waiting: a server through a stop request (its `terminate`
/// runs), a supervisor through its ordered shutdown.
protocol ShutdownRequestable {
    /// Asks the server to end with `reason` at its next message boundary; returns at once.
    func requestShutdown(_ reason: ExitReason)
}

extension Server: ShutdownRequestable {
    func requestShutdown(_ reason: ExitReason) {
        if core.enqueueSystem(.stop(reason)) { core.runtime.settle() }
    }
}

/// Asks `child` to end with `reason`: a stop request for servers and supervisors; for other handle types, a
/// linked exit from `supervisor`.
func requestShutdown(of child: any ServerHandle, reason: ExitReason, from supervisor: ServerID?) {
    if let child = child as? any ShutdownRequestable {
        child.requestShutdown(reason)
    } else {
        child.deliverLinkedExit(from: supervisor ?? ServerID(rawValue: 0), reason: reason)
    }
}
