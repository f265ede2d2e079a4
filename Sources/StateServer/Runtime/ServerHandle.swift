/// What every server handle can do regardless of its machine type: the type-erased view supervisors,
/// registries and links work with (`any ServerHandle`).
///
/// ``Server`` conforms; recover the typed handle with `handle as? Server<M>`.
public protocol ServerHandle: Sendable {
    /// The server's identity.
    var id: ServerID { get }
    /// Whether the server is still running.
    var isAlive: Bool { get }
    /// Why the server ended, or `nil` while it runs.
    var exitReason: ExitReason? { get }
    /// Stops the server with `reason`, calling `terminate`, and waits until it has ended.
    func stop(_ reason: ExitReason, timeout: Duration?) async throws
    /// Ends the server without calling `terminate` (`exit(Pid, kill)`), ahead of every queued message: once the
    /// handler running now returns and the few messages a busy server has already taken from its mailbox (at most
    /// 16) are handled. Its exit reason is ``ExitReason/killed``. Does nothing if it has ended.
    func kill()
    /// Waits until the server ends and returns its exit reason; throws ``StateServerError/Code/cancelled`` if the
    /// waiting task is cancelled first.
    func waitForExit() async throws -> ExitReason
    /// Calls `handler` with the exit reason when the server ends (at once if it has).
    @discardableResult
    func monitor(_ handler: @escaping @Sendable (ExitReason) -> Void) -> MonitorReference
    /// Removes a monitor; false if it had already fired or was removed.
    @discardableResult
    func demonitor(_ reference: MonitorReference) -> Bool
    /// Delivers a linked server's end to this server (used by links).
    func deliverLinkedExit(from server: ServerID, reason: ExitReason)
}

extension Server: ServerHandle {
    /// Ends the server without calling `terminate`, ahead of every queued message (see ``ServerHandle/kill()``).
    public func kill() {
        _ = core.enqueueSystem(.kill, isUrgent: true)
        core.runtime.settle()
    }

    /// Delivers a linked server's end: an ``Event/exit(_:_:)`` event in its turn if this server traps exits;
    /// otherwise an exit signal that ends this server at once, without `terminate`, with the same reason (a
    /// normal end is ignored), as OTP treats exit signals.
    public func deliverLinkedExit(from server: ServerID, reason: ExitReason) {
        _ = core.enqueueSystem(.linkedExit(server, reason), isUrgent: !core.trapsExits)
        core.runtime.settle()
    }

    /// Links this server with `other`: when either ends, the other receives its exit (see
    /// ``ServerOptions/trapsExits``). Linking a server that has already ended delivers its exit at once.
    /// Returns a token for ``unlink(_:)``.
    @discardableResult
    public func link(_ other: any ServerHandle) -> Link {
        let token = MonitorReference(rawValue: IdentityCounter.next())
        let me: any ServerHandle = self
        let forward = other.monitor { reason in me.deliverLinkedExit(from: other.id, reason: reason) }
        let backward = monitor { reason in other.deliverLinkedExit(from: me.id, reason: reason) }
        return Link(reference: token, first: me, second: other, firstMonitor: backward, secondMonitor: forward)
    }

    /// Removes a link made with ``link(_:)``; neither side is told of the other's end afterwards.
    public func unlink(_ link: Link) {
        link.first.demonitor(link.firstMonitor)
        link.second.demonitor(link.secondMonitor)
    }
}

/// A link between two servers, returned by ``Server/link(_:)``.
public struct Link: Sendable {
    /// The link's identity.
    public let reference: MonitorReference
    let first: any ServerHandle
    let second: any ServerHandle
    let firstMonitor: MonitorReference
    let secondMonitor: MonitorReference
}
