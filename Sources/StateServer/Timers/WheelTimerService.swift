/// The default runtime's timer service: a hashed timing wheel with a 1 ms tick, driven by one thread that
/// sleeps until the next occupied slot (and not at all while no timer is armed).
///
/// Arming, re-arming and cancelling are O(1) (intrusive doubly linked slots). Timers fire at or up to about one
/// tick after their deadline, in insertion order within a tick. A timer further out than one revolution
/// (4.096 s) stays in its slot and is passed over until its round comes.
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

    init(scheduler: any Scheduler) {
        origin = monotonicNanoseconds()
        self.scheduler = scheduler
    }

    var now: Int64 { monotonicNanoseconds() &- origin }

    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: AnyObject) {
        lock.lock()
        if node.isArmed {
            unlink(node)
            armedCount -= 1
        }
        // Saturate: a deadline past the end of the timeline (hundreds of years away) stays at its end.
        let (rounded, overflow) = deadline.addingReportingOverflow(Self.tickNanoseconds - 1)
        let tick = Swift.max((overflow ? Int64.max : rounded) / Self.tickNanoseconds, currentTick + 1)
        node.deadline = tick
        node.generation = generation
        node.target = target
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
            // Process every tick that has passed (a full revolution at most).
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
                        if let target = current.target {
                            fired.append((target, current, current.generation))
                            current.target = nil
                        }
                    }
                }
                tick += 1
            }
            currentTick = nowTick
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
