/// One timer, reusable across re-arms: a server keeps one node per timeout kind and re-arms it, so re-arming a
/// state timeout on every transition allocates nothing. A server's state timer is the server's own object (its
/// core is a `TimerNode`), so a machine with a live state timeout is one heap block.
///
/// While armed, the node holds its target strongly: an armed timer keeps its server alive, as a pending
/// message would. Each kind of node overrides ``fire(_:generation:)`` to tell its target.
@usableFromInline
class TimerNode: @unchecked Sendable {
    // Safety: every field below is read and written only under the lock of the service the node is armed in;
    // that lock also makes the dynamic exclusivity checks redundant, so they are `@exclusivity(unchecked)`.
    /// Who is told when the timer fires, while it is armed (and until the fire is delivered); `nil` otherwise.
    @exclusivity(unchecked) var target: AnyObject?
    /// What the target is told; bumped by each arm so a fire collected just before a re-arm is recognisable.
    @exclusivity(unchecked) var generation: UInt64 = 0
    /// The tick of the wheel the node is due at; its slot may be an earlier one (see ``WheelTimerService``). The
    /// manual heap keeps its deadlines itself.
    @exclusivity(unchecked) var deadline: Int64 = 0
    /// The wheel slot or the heap index while armed; -1 while not.
    @exclusivity(unchecked) var position: Int32 = -1
    /// The node's place in its wheel slot's list of nodes, while armed in a wheel.
    @exclusivity(unchecked) var index: Int32 = 0

    @usableFromInline init() {}

    /// Whether the node is armed in its service.
    final var isArmed: Bool { position >= 0 }

    /// The timer fired: tells `target` (the object the node held while armed), outside the service's lock, by
    /// queueing work only (the thread advancing a manual clock). Returns the server the fire made busy, for the
    /// caller to schedule. Every kind of node overrides this.
    @usableFromInline
    func fire(_ target: AnyObject, generation: UInt64) -> (any Schedulable)? {
        preconditionFailure("\(type(of: self)) does not say what its timer does")
    }

    /// The first step of telling a fire on a worker (``TimerLane``), taken under the lane's lock, in the order
    /// the wheel collected the fires: queues the fire, or claims its server so that the second step,
    /// ``runClaimed(_:generation:_:)``, outside the lock, drains it. Only mailbox locks may be taken here. By
    /// default everything happens in the second step.
    @usableFromInline
    func claim(_ target: AnyObject, generation: UInt64) -> TimerClaim { .run }

    /// The second step of telling a fire on a worker, after ``claim(_:generation:)`` returned `claim` (`run` or
    /// `drain`). Returns a server to schedule, if any. By default, ``fire(_:generation:)``.
    @usableFromInline
    func runClaimed(_ target: AnyObject, generation: UInt64, _ claim: TimerClaim) -> (any Schedulable)? {
        fire(target, generation: generation)
    }
}

/// What the first step of telling a fire on a worker left to do (``TimerNode/claim(_:generation:)``).
@usableFromInline
enum TimerClaim: Equatable {
    /// Nothing: the fire was queued to a busy server, or dropped.
    case done
    /// The fire was queued and made its server busy: the target is to be scheduled.
    case schedule
    /// The rest happens in the second step: for a server, it was idle and is now claimed, and the second step
    /// handles the fire on the worker's thread (it never entered the mailbox).
    case run
    /// The server was waiting in the run queue with no worker on it yet and is now claimed: the second step
    /// drains its first `items` messages, the fire the last of them.
    case drain(items: Int)
}

/// A runtime's single timer service: the timing wheel under the system clock, a heap under a manual clock.
@usableFromInline
protocol TimerService: AnyObject, Sendable {
    /// Nanoseconds on the runtime's timeline.
    var now: Int64 { get }
    /// Arms (or re-arms) `node` to tell `target` at `deadline`, with `generation`.
    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: AnyObject)
    /// Disarms `node` if it is armed. Constant time.
    func cancel(_ node: TimerNode)
}
