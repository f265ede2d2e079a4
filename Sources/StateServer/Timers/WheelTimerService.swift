/// The default runtime's timer service: a hashed timing wheel with a 1 ms tick, driven by one thread that
/// sleeps until the next occupied slot (and not at all while no timer is armed).
///
/// Arming, re-arming and cancelling are O(1) (each slot a list of node references, a node knowing its place in it;
/// a cancelled node leaves a hole, filled when the slot is compacted or processed). Timers fire at or up to about one
/// tick after their deadline. A timer further out than one revolution (4.096 s) stays in its slot and is passed
/// over until its round comes.
///
/// The thread only collects the due timers; the workers tell their targets (``TimerLane``), so a tick that fires
/// thousands of timers is delivered by every worker, starting while the thread is still collecting. The fires of
/// one target reach it in the order the thread collects them: tick by tick, and within a tick in the order of the
/// tick's slot (the order the timers were put in it: when armed, or when moved on from an earlier slot). A slot's
/// list is read front to back, so the nodes of a tick that fires many are fetched from memory in parallel rather
/// than one after the other along links.
///
/// Re-arming a timer to the same deadline or a later one (a state timeout restarted on every transition) only
/// records the new deadline: the node stays in the slot of the earlier one, and the thread moves it on when it
/// reaches that slot. A node is therefore always in a slot that comes up at or before its deadline.
final class WheelTimerService: TimerService, @unchecked Sendable {
    // Safety: all mutable state is guarded by `lock`; targets are called after it is released (on the workers).
    private static let slotCount = 4096
    private static let mask = slotCount - 1
    private static let tickNanoseconds: Int64 = 1_000_000

    /// Guards the wheel: the runtime's own lock (one atomic operation to take and give back when free), taken by
    /// every arm and cancel.
    private let lock = Locked(())
    /// Where the thread sleeps until its next tick. The thread holds it whenever it is not waiting on it, so that
    /// an arm that needs to wake it (``arm(_:at:generation:target:)``, after releasing `lock`) cannot signal
    /// between the thread's choice of a wake tick and its wait.
    private let sleeper = ConditionLock()
    private let origin: Int64
    /// Each slot's armed nodes, each reference retained once by the slot (`nil`: a cancelled node's hole).
    @exclusivity(unchecked) private var slots = [[Unmanaged<TimerNode>?]](repeating: [], count: WheelTimerService.slotCount)
    /// How many of each slot's entries are nodes (not holes).
    @exclusivity(unchecked) private var live = [Int32](repeating: 0, count: WheelTimerService.slotCount)
    /// The list of the slot being processed, kept for its storage.
    @exclusivity(unchecked) private var spare: [Unmanaged<TimerNode>?] = []
    @exclusivity(unchecked) private var occupied = [UInt64](repeating: 0, count: WheelTimerService.slotCount / 64)
    private var armedCount = 0
    /// The last tick whose slot was processed.
    private var currentTick: Int64 = 0
    /// The tick the thread sleeps until (`Int64.max` while it waits for any timer).
    private var wakeTick: Int64 = .max
    private var threadStarted = false
    private var isStopped = false
    /// Where the workers pick up fired timers: a target always goes to the same lane, which tells its fires in
    /// order, while the lanes are told in parallel.
    private let lanes: [TimerLane]
    /// Where the lanes run.
    private let scheduler: any Scheduler
    /// The fires collected and not yet handed to their lanes, by lane (kept between ticks for their storage).
    private var staged: [[TimerFire]]
    private var stagedCount = 0
    /// How many fires the thread collects before it hands them to the lanes, in a tick that fires many: the
    /// workers start on the first ones while the thread collects the rest.
    private static let handOffCount = 256

    /// A wheel whose fired timers are told on `scheduler`'s workers, through `lanes` lanes (a few per worker).
    /// Without `startsThread` (tests) no thread ever runs it: the test moves it with ``advance(toTick:)``.
    init(scheduler: any Scheduler, lanes laneCount: Int = 4, startsThread: Bool = true) {
        origin = monotonicNanoseconds()
        self.scheduler = scheduler
        lanes = (0..<Swift.max(1, laneCount)).map { _ in TimerLane(scheduler: scheduler) }
        staged = Array(repeating: [], count: lanes.count)
        threadStarted = !startsThread
    }

    /// Gives back the slots' references to the nodes still armed (the thread has stopped: it holds the service).
    deinit {
        for list in slots {
            for case let reference? in list { reference.release() }
        }
    }

    var now: Int64 { monotonicNanoseconds() &- origin }

    func arm(_ node: TimerNode, at deadline: Int64, generation: UInt64, target: AnyObject) {
        // Saturate: a deadline past the end of the timeline (hundreds of years away) stays at its end.
        let (rounded, overflow) = deadline.addingReportingOverflow(Self.tickNanoseconds - 1)
        let requested = (overflow ? Int64.max : rounded) / Self.tickNanoseconds
        let (mustStart, mustWake) = lock.withLock { _ -> (Bool, Bool) in
            let tick = Swift.max(requested, currentTick + 1)
            // Assigned only when it changes: re-arming for the same server costs no retain and release.
            if node.target !== target { node.target = target }
            node.generation = generation
            if node.isArmed {
                if tick >= node.deadline {
                    // Later (or the same): the node's slot comes up first, and the thread moves it on from there.
                    node.deadline = tick
                    return (false, false)
                }
                unlink(node)
                armedCount -= 1
            }
            node.deadline = tick
            link(node, slot: Int(tick & Int64(Self.mask)))
            armedCount += 1
            let mustStart = !threadStarted
            threadStarted = true
            return (mustStart, tick < wakeTick)
        }
        if mustWake { sleeper.withLock { sleeper.signal() } }
        if mustStart {
            let started = startThread(name: "statem-timers") { [self] in run() }
            precondition(started, "StateServer could not start its timer thread")
        }
    }

    func cancel(_ node: TimerNode) {
        lock.withLock { _ in
            if node.isArmed {
                unlink(node)
                armedCount -= 1
                node.target = nil
            }
        }
    }

    /// How long the list of the slot of `tick` is, holes included.
    func slotLength(atTick tick: Int64) -> Int { lock.withLock { _ in slots[Int(tick & Int64(Self.mask))].count } }

    /// How many timers are armed (the thread parks when none is).
    var armedTimerCount: Int { lock.withLock { _ in armedCount } }

    /// Stops the thread; armed timers no longer fire.
    func shutdown() {
        lock.withLock { _ in isStopped = true }
        sleeper.withLock { sleeper.signal() }
    }

    /// Puts `node` at the end of `slot`, the slot's reference being `reference` (a retain the caller made or hands
    /// over).
    private func link(_ node: TimerNode, slot: Int, reference: Unmanaged<TimerNode>) {
        node.position = Int32(slot)
        node.index = Int32(slots[slot].count)
        slots[slot].append(reference)
        live[slot] += 1
        occupied[slot >> 6] |= 1 << UInt64(slot & 63)
    }

    private func link(_ node: TimerNode, slot: Int) {
        link(node, slot: slot, reference: Unmanaged.passRetained(node))
    }

    /// Takes `node` out of its slot, leaving a hole (none at the end of the list), and gives back the slot's
    /// reference to it. A slot with more holes than nodes is compacted.
    private func unlink(_ node: TimerNode) {
        let slot = Int(node.position)
        let index = Int(node.index)
        node.position = -1
        live[slot] -= 1
        slots[slot][index] = nil
        if index == slots[slot].count - 1 {
            while let last = slots[slot].last, last == nil { slots[slot].removeLast() }
        } else if slots[slot].count >= 32 && Int(live[slot]) * 2 < slots[slot].count {
            compact(slot)
        }
        if live[slot] == 0 { occupied[slot >> 6] &= ~(1 << UInt64(slot & 63)) }
        Unmanaged.passUnretained(node).release()
    }

    /// Closes the holes of `slot`'s list, keeping its nodes' order.
    private func compact(_ slot: Int) {
        var kept = 0
        for index in slots[slot].indices {
            guard let reference = slots[slot][index] else { continue }
            reference.takeUnretainedValue().index = Int32(kept)
            slots[slot][kept] = reference
            kept += 1
        }
        slots[slot].removeLast(slots[slot].count - kept)
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
    /// revolution at most), unlinking the due timers and moving re-armed ones on to the slot of their deadline.
    /// The due timers go to `fired` if given (in order); otherwise to their lanes, ``handOffCount`` at a time.
    private func collect(through nowTick: Int64, into fired: UnsafeMutablePointer<[TimerFire]>?) {
        let lastTick = Swift.min(nowTick, currentTick + Int64(Self.slotCount))
        var tick = currentTick + 1
        while tick <= lastTick {
            let slot = Int(tick & Int64(Self.mask))
            tick += 1
            guard live[slot] > 0 else { continue }
            // The slot's list is taken whole, the spare storage put in its place (moved, not shared, so that
            // the nodes that stay for a later round go back in order without a copy).
            var entries: [Unmanaged<TimerNode>?] = []
            swap(&entries, &spare)
            swap(&entries, &slots[slot])
            live[slot] = 0
            occupied[slot >> 6] &= ~(1 << UInt64(slot & 63))
            for case let reference? in entries {
                let node = reference.takeUnretainedValue()
                if node.deadline <= nowTick {
                    node.position = -1
                    armedCount -= 1
                    // The target is moved out of the node and the slot's reference handed to the fire: no
                    // reference counting.
                    if let target = node.target.take() {
                        let fire = TimerFire(target: target, node: reference)
                        if let fired { fired.pointee.append(fire) } else { stage(fire) }
                    } else {
                        reference.release()
                    }
                } else {
                    // Re-armed later since it was put here: on to the slot of its deadline, or back in this one
                    // for a later round.
                    link(node, slot: Int(node.deadline & Int64(Self.mask)), reference: reference)
                }
            }
            entries.removeAll(keepingCapacity: entries.count <= 4_096)
            spare = entries
        }
        currentTick = Swift.max(currentTick, nowTick)
    }

    /// Moves a wheel made without a thread to `tick` (at most a revolution past the last one), returning the timers
    /// that fired, in order, with their generations, without telling their targets.
    func advance(toTick tick: Int64) -> [(node: TimerNode, generation: UInt64)] {
        var fired: [TimerFire] = []
        lock.withLock { _ in collect(through: tick, into: &fired) }
        return fired.map { fire in
            let (target, node) = fire.take()
            _ = target
            return (node, fire.generation)
        }
    }

    private func run() {
        enum Step { case stop, wait, sleep(nanoseconds: Int64), again }
        sleeper.lock()
        while true {
            let step = lock.withLock { _ -> Step in
                if isStopped { return .stop }
                if armedCount == 0 {
                    wakeTick = .max
                    return .wait
                }
                let nowTick = now / Self.tickNanoseconds
                if nowTick <= currentTick {
                    wakeTick = currentTick + ticksToNextOccupied()
                    let sleep = wakeTick * Self.tickNanoseconds - now
                    return sleep > 0 ? .sleep(nanoseconds: sleep) : .again
                }
                collect(through: nowTick, into: nil)
                handOff()
                return .again
            }
            switch step {
            case .stop: sleeper.unlock(); return
            case .wait: sleeper.wait()
            case .sleep(let nanoseconds): sleeper.wait(nanoseconds: nanoseconds)
            case .again: continue
            }
        }
    }

    /// Moves a wheel made without a thread to `tick` as its thread would: the due timers go to their lanes, and
    /// the lanes that were idle to the scheduler.
    func handOff(throughTick tick: Int64) {
        lock.withLock { _ in
            collect(through: tick, into: nil)
            handOff()
        }
    }

    /// With the lock held: puts `fire` with the others of its lane, handing them all to the lanes when there are
    /// enough.
    private func stage(_ fire: TimerFire) {
        // Fibonacci hashing of the target's address: neighbouring objects spread over the lanes.
        let hash = UInt64(UInt(bitPattern: fire.target.toOpaque()) >> 4) &* 0x9E37_79B9_7F4A_7C15
        staged[lanes.count == 1 ? 0 : Int((hash >> 32) % UInt64(lanes.count))].append(fire)
        stagedCount += 1
        if stagedCount == Self.handOffCount { handOff() }
    }

    /// With the lock held: hands the staged fires to their lanes and schedules the lanes that were idle. (The
    /// lanes' locks and the scheduler's are only ever taken after this one.)
    private func handOff() {
        guard stagedCount > 0 else { return }
        var idle: [any Schedulable] = []
        for index in lanes.indices where !staged[index].isEmpty {
            if lanes[index].push(staged[index]) { idle.append(lanes[index]) }
            staged[index].removeAll(keepingCapacity: staged[index].count <= 4 * Self.handOffCount)
        }
        stagedCount = 0
        scheduler.schedule(contentsOf: idle)
    }
}

/// Fired timers on their way to their targets, told by the workers (never by the wheel's thread, which must
/// not run handlers): a server found idle handles its fire on the worker at once, as a call to an idle server
/// does, without a mailbox entry or a run-queue entry of its own.
///
/// A worker takes the fires a group at a time and, under the lane's lock, queues each or claims its server
/// (``TimerNode/claim(_:generation:)``); the handlers run after the lock is released. So the fires of one target
/// reach it in order even with two workers on the lane, and a slow handler holds up only the few fires of its
/// group: the lane is scheduled twice while it has more than a group waiting, so that another worker goes on.
final class TimerLane: Schedulable, @unchecked Sendable {
    // Safety: all mutable state is in `state`, behind its lock.
    private let state = Locked(LaneState())
    private struct LaneState: ~Copyable {
        /// The fires not yet taken, from `head` on.
        var pending: [TimerFire] = []
        var head = 0
        /// The lane's entries in the run queue or running (at most ``TimerLane/maxEntries``).
        var entries = 0
        var waiting: Int { pending.count - head }
    }
    /// Where the lane and the servers its fires made busy go.
    let scheduler: any Scheduler
    /// The most fires taken under one acquisition of the lock.
    static let group = 16
    /// The most fires told in one turn, before the lane makes way for the other jobs.
    static let turn = 256
    /// How many workers may tell the lane's fires at once.
    static let maxEntries = 2

    init(scheduler: any Scheduler) { self.scheduler = scheduler }

    /// Fires pushed but never told (the runtime stopped with fires waiting): their references are given back.
    deinit {
        state.withLock { state in
            for fire in state.pending[state.head...] { _ = fire.take() }
        }
    }

    /// Adds `fires` after the lane's waiting ones; returns true if the caller must schedule the lane (once more).
    func push(_ fires: [TimerFire]) -> Bool {
        state.withLock { state in
            state.pending.append(contentsOf: fires)
            guard state.entries == 0 || (state.entries < Self.maxEntries && state.waiting > Self.group) else {
                return false
            }
            state.entries += 1
            return true
        }
    }

    func runScheduled() -> Bool {
        withUnsafeTemporaryAllocation(of: (TimerFire, TimerClaim).self, capacity: Self.group) { buffer in
            let taken = buffer.baseAddress!
            var told = 0
            var busy: [any Schedulable] = []
            while told < Self.turn {
                let count = state.withLock { state -> Int in
                    let count = Swift.min(Self.group, state.waiting)
                    for index in 0..<count {
                        let fire = state.pending[state.head + index]
                        let claim = fire.node.takeUnretainedValue().claim(
                            fire.target.takeUnretainedValue(), generation: fire.generation)
                        (taken + index).initialize(to: (fire, claim))
                    }
                    state.head += count
                    if state.waiting == 0 {
                        state.pending.removeAll(keepingCapacity: state.pending.count <= 4 * Self.turn)
                        state.head = 0
                        if count == 0 { state.entries -= 1 }
                    } else if state.head >= 4 * Self.turn && state.head >= state.waiting {
                        // A backlog that never runs dry: the told fires' room is given back now and then.
                        state.pending.removeFirst(state.head)
                        state.head = 0
                    }
                    return count
                }
                if count == 0 { return false }
                for index in 0..<count {
                    let (fire, claim) = (taken + index).move()
                    let (target, node) = fire.take()
                    switch claim {
                    case .done:
                        break
                    case .schedule:
                        if let job = target as? any Schedulable { busy.append(job) }
                    case .run, .drain:
                        if let job = node.runClaimed(target, generation: fire.generation, claim) { busy.append(job) }
                    }
                }
                if !busy.isEmpty {
                    scheduler.schedule(contentsOf: busy)
                    busy.removeAll(keepingCapacity: true)
                }
                told += count
            }
            return true
        }
    }
}

/// A fired timer on its way to its target: the node and the target it held while armed, each retained once
/// (a plain record, so that the lists of a tick's fires are filled and split without reference counting), and
/// the generation it fired with. Taken exactly once.
struct TimerFire: @unchecked Sendable {
    // Safety: handed from the wheel's thread to one worker through a lane's lock; the objects it refers to are
    // only told (`fire`), which every kind of node does thread-safely.
    let target: Unmanaged<AnyObject>
    let node: Unmanaged<TimerNode>
    let generation: UInt64

    /// The fire of the node `node` refers to (the reference handed over), for `target`, with the node's generation.
    init(target: consuming AnyObject, node: Unmanaged<TimerNode>) {
        self.target = Unmanaged.passRetained(target)
        self.node = node
        generation = node.takeUnretainedValue().generation
    }

    /// The target and the node, their references handed back to the caller.
    func take() -> (target: AnyObject, node: TimerNode) {
        (target.takeRetainedValue(), node.takeRetainedValue())
    }
}
