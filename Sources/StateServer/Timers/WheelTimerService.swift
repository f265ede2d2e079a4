/// The default runtime's timer service: a hashed timing wheel with a 1 ms tick, driven by one thread that
/// sleeps until the next occupied slot (and not at all while no timer is armed).
///
/// Arming, re-arming and cancelling are O(1) (intrusive doubly linked slots). Timers fire at or up to about one
/// tick after their deadline, in insertion order within a tick. A timer further out than one revolution
/// (4.096 s) stays in its slot and is passed over until its round comes.
///
/// Re-arming a timer to the same deadline or a later one (a state timeout restarted on every transition) only
/// records the new deadline: the node stays in the slot of the earlier one, and the thread moves it on when it
/// reaches that slot. A node is therefore always in a slot that comes up at or before its deadline.
final class WheelTimerService: TimerService, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`; targets are called after it is released.
    private static let slotCount = 4096
    private static let mask = slotCount - 1
    private static let tickNanoseconds: Int64 = 1_000_000

    private let lock = ConditionLock()
    private let origin: Int64
    @exclusivity(unchecked) private var heads = [TimerNode?](repeating: nil, count: WheelTimerService.slotCount)
    /// The last node of each slot, unretained: it is held by `heads` or by its predecessor's `next`, and removed
    /// from here when unlinked (a retained tail cost a retain and release on every arm).
    @exclusivity(unchecked) private var tails = [Unmanaged<TimerNode>?](repeating: nil, count: WheelTimerService.slotCount)
    @exclusivity(unchecked) private var occupied = [UInt64](repeating: 0, count: WheelTimerService.slotCount / 64)
    private var armedCount = 0
    /// The last tick whose slot was processed.
    private var currentTick: Int64 = 0
    /// The tick the thread sleeps until (`Int64.max` while it waits for any timer).
    private var wakeTick: Int64 = .max
    private var threadStarted = false
    private var isStopped = false
    /// Where the servers made busy by fired timers go, a batch at a time.
    private let scheduler: any Scheduler
    /// Servers handed to the scheduler together, at most: enough to spare a lock and a wake-up per timer when
    /// many fire in one tick, few enough that workers start on the first ones while the rest are enqueued.
    private static let scheduleBatch = 128

    /// A wheel handing fired timers' servers to `scheduler`. Without `startsThread` (tests) no thread ever runs it:
    /// the test moves it with ``advance(toTick:)``.
    init(scheduler: any Scheduler, startsThread: Bool = true) {
        origin = monotonicNanoseconds()
        self.scheduler = scheduler
        threadStarted = !startsThread
    }

    var now: Int64 { monotonicNanoseconds() &- origin }

    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: AnyObject) {
        // Saturate: a deadline past the end of the timeline (hundreds of years away) stays at its end.
        let (rounded, overflow) = deadline.addingReportingOverflow(Self.tickNanoseconds - 1)
        let requested = (overflow ? Int64.max : rounded) / Self.tickNanoseconds
        lock.lock()
        let tick = Swift.max(requested, currentTick + 1)
        // Assigned only when it changes: re-arming for the same server costs no retain and release.
        if node.target !== target { node.target = target }
        node.generation = generation
        if node.isArmed {
            if tick >= node.deadline {
                // Later (or the same): the node's slot comes up first, and the thread moves it on from there.
                node.deadline = tick
                lock.unlock()
                return
            }
            unlink(node)
            armedCount -= 1
        }
        node.deadline = tick
        link(node, slot: Int(tick & Int64(Self.mask)))
        armedCount += 1
        let mustStart = !threadStarted
        threadStarted = true
        if tick < wakeTick { lock.signal() }
        lock.unlock()
        if mustStart {
            let started = startThread(name: "statem-timers") { [self] in run() }
            precondition(started, "StateServer could not start its timer thread")
        }
    }

    func cancel(_ node: TimerNode) {
        lock.lock()
        if node.isArmed {
            unlink(node)
            armedCount -= 1
            node.target = nil
        }
        lock.unlock()
    }

    /// How many timers are armed (the thread parks when none is).
    var armedTimerCount: Int { lock.withLock { armedCount } }

    /// Stops the thread; armed timers no longer fire.
    func shutdown() {
        lock.withLock {
            isStopped = true
            lock.signal()
        }
    }

    private func link(_ node: TimerNode, slot: Int) {
        node.position = Int32(slot)
        node.next = nil
        let tail = tails[slot]?.takeUnretainedValue()
        node.previous = tail
        if let tail { tail.next = node } else { heads[slot] = node }
        tails[slot] = Unmanaged.passUnretained(node)
        occupied[slot >> 6] |= 1 << UInt64(slot & 63)
    }

    private func unlink(_ node: TimerNode) {
        let slot = Int(node.position)
        if let previous = node.previous { previous.next = node.next } else { heads[slot] = node.next }
        if let next = node.next {
            next.previous = node.previous
        } else {
            tails[slot] = node.previous.map { Unmanaged.passUnretained($0) }
        }
        node.next = nil
        node.previous = nil
        node.position = -1
        if heads[slot] == nil { occupied[slot >> 6] &= ~(1 << UInt64(slot & 63)) }
    }

    /// Ticks from `currentTick` to the next occupied slot (at most one revolution).
    private func ticksToNextOccupied() -> Int64 {
        var slot = Int((currentTick + 1) & Int64(Self.mask))
        var distance = 0
        while distance < Self.slotCount {
            let bit = slot & 63
            let word = occupied[slot >> 6] >> UInt64(bit)
            if word != 0 { return Int64(Swift.min(distance + word.trailingZeroBitCount, Self.slotCount - 1)) + 1 }
            distance += 64 - bit
            slot = (slot + 64 - bit) & Self.mask
        }
        return Int64(Self.slotCount)
    }

    /// With the lock held: processes the slots of every tick since the last processed one through `nowTick` (a
    /// revolution at most), unlinking the due timers into `fired` and moving re-armed ones on to the slot of their
    /// deadline.
    private func collect(through nowTick: Int64, into fired: inout [(AnyObject, TimerNode, UInt64)]) {
        let lastTick = Swift.min(nowTick, currentTick + Int64(Self.slotCount))
        var tick = currentTick + 1
        while tick <= lastTick {
            let slot = Int(tick & Int64(Self.mask))
            var node = heads[slot]
            while let current = node {
                node = current.next
                if current.deadline <= nowTick {
                    unlink(current)
                    armedCount -= 1
                    // Moved out of the node (no retain and release).
                    if let target = current.target.take() { fired.append((target, current, current.generation)) }
                } else if case let due = Int(current.deadline & Int64(Self.mask)), due != slot {
                    // Re-armed later since it was linked here: on to the slot of its deadline.
                    unlink(current)
                    link(current, slot: due)
                }
            }
            tick += 1
        }
        currentTick = Swift.max(currentTick, nowTick)
    }

    /// Moves a wheel made without a thread to `tick` (at most a revolution past the last one), returning the timers
    /// that fired, in order, with their generations, without telling their targets.
    func advance(toTick tick: Int64) -> [(node: TimerNode, generation: UInt64)] {
        var fired: [(AnyObject, TimerNode, UInt64)] = []
        lock.withLock { collect(through: tick, into: &fired) }
        return fired.map { ($0.1, $0.2) }
    }

    private func run() {
        var fired: [(AnyObject, TimerNode, UInt64)] = []
        var busy: [any Schedulable] = []
        lock.lock()
        while !isStopped {
            if armedCount == 0 {
                wakeTick = .max
                lock.wait()
                continue
            }
            let nowTick = now / Self.tickNanoseconds
            if nowTick <= currentTick {
                let distance = ticksToNextOccupied()
                wakeTick = currentTick + distance
                let sleep = wakeTick * Self.tickNanoseconds - now
                if sleep > 0 { lock.wait(nanoseconds: sleep) }
                continue
            }
            collect(through: nowTick, into: &fired)
            wakeTick = .max
            if !fired.isEmpty {
                lock.unlock()
                for (target, node, generation) in fired {
                    guard let job = node.fire(target, generation: generation) else { continue }
                    busy.append(job)
                    if busy.count == Self.scheduleBatch {
                        scheduler.schedule(contentsOf: busy)
                        busy.removeAll(keepingCapacity: true)
                    }
                }
                scheduler.schedule(contentsOf: busy)
                busy.removeAll(keepingCapacity: true)
                fired.removeAll(keepingCapacity: fired.count < 4096)
                lock.lock()
            }
        }
        lock.unlock()
    }
}
