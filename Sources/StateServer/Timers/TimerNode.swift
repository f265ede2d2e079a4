/// Something told when one of its timers fires. Called on the timer service's thread (or the thread advancing
/// a manual clock), never under the service's lock; implementations only enqueue work.
@usableFromInline
protocol TimerTarget: AnyObject, Sendable {
    /// Returns the server the fire made busy, for the caller to schedule: a timer service hands the servers of
    /// many fires to the scheduler together.
    func timerFired(_ node: TimerNode, generation: UInt64) -> (any Schedulable)?
}

/// One timer, reusable across re-arms: a server keeps one node per timeout kind and re-arms it, so re-arming a
/// state timeout on every transition allocates nothing.
///
/// While armed, the node holds its target strongly: an armed timer keeps its server alive, as a pending
/// message would.
@usableFromInline
class TimerNode: @unchecked Sendable {
    // Safety: every field below is read and written only under the lock of the service the node is armed in
    // (`service` is written once before first use); that lock also makes the dynamic exclusivity checks on the
    // fields the wheel touches on every arm redundant, so they are `@exclusivity(unchecked)`.
    /// The service that arms this node.
    weak var service: (any TimerService)?
    var target: (any TimerTarget)?
    /// What the target is told; bumped by each arm so a fire collected just before a re-arm is recognisable.
    @exclusivity(unchecked) var generation: UInt64 = 0
    @exclusivity(unchecked) var deadline: Int64 = 0
    @exclusivity(unchecked) var sequence: UInt64 = 0
    @exclusivity(unchecked) var isArmed = false
    /// Wheel links, or the heap index (manual service).
    @exclusivity(unchecked) var next: TimerNode?
    @exclusivity(unchecked) unowned(unsafe) var previous: TimerNode?
    @exclusivity(unchecked) var slot = -1
    var heapIndex = -1
    @usableFromInline init() {}
}

/// A runtime's single timer service: the timing wheel under the system clock, a heap under a manual clock.
@usableFromInline
protocol TimerService: AnyObject, Sendable {
    /// Nanoseconds on the runtime's timeline.
    var now: Int64 { get }
    /// Arms (or re-arms) `node` to tell `target` at `deadline`, with `generation`.
    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: any TimerTarget)
    /// Disarms `node` if it is armed. Constant time.
    func cancel(_ node: TimerNode)
}
