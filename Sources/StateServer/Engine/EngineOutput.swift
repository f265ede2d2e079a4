/// What one engine step asks the runtime to do; the engine performs no I/O itself.
///
/// Every case's payload stays under three words (the rare, larger ones are `indirect`): the compiler copies and
/// destroys enums with larger payloads through the runtime's value witnesses.
@usableFromInline
enum EngineCommand<M: StateMachine>: Sendable {
    /// Arm (or re-arm) the real timer for `kind`; when it fires, feed the arm's generation back in.
    case armTimer(TimerArm, TimeoutKind<M.Timer>)
    /// Disarm the real timer for `kind`.
    case cancelTimer(TimeoutKind<M.Timer>)
    /// Start async work.
    indirect case startEffect(Effect<M>)
    /// Deliver `info` to this server's own mailbox, now or after a delay.
    indirect case sendToSelf(M.Info, after: Duration?, SelfMessageReference?)
    /// Cancel a delayed message to self.
    case cancelSendToSelf(SelfMessageReference)
    /// Report a warning.
    case report(String)
}

/// One observable step of a server, for observers, traces and the test kit.
public enum TraceEvent<M: StateMachine>: Sendable {
    /// The server started in `state`.
    case started(M.State)
    /// The handler is about to be called with `event` in `state`.
    case handling(Event<M>, in: M.State)
    /// The state changed.
    case transition(from: M.State, to: M.State)
    /// The current event was postponed.
    case postponed(Event<M>)
    /// A reply was sent to a caller (`wasDelivered` is false when it was dropped: answered twice or too late).
    case replied(any Sendable, wasDelivered: Bool)
    /// A timeout was armed.
    case timeoutArmed(TimeoutKind<M.Timer>, TimeoutTime)
    /// A timeout was cancelled (explicitly, by an event, or by a state change).
    case timeoutCancelled(TimeoutKind<M.Timer>)
    /// The server is stopping with `reason` in `state` (before `terminate`).
    case stopping(ExitReason, in: M.State)
    /// The server has ended with `reason` (after `terminate`); pending callers were told.
    case exited(ExitReason)
    /// A bounded mailbox with the `dropNewest` policy dropped a message.
    case messageDropped
    /// The server ended with this many messages still in its mailbox; they were not handled. (Callers among
    /// them got the exit reason.)
    case discardedAtExit(Int)
    /// The machine reported a warning with ``Action/report(_:)``.
    case reported(String)
}

/// What one drain of a server produced and has not performed yet: the engine's commands and, when the server is
/// observed, its traces. The runtime makes one per drain, on the stack (a server keeps none between drains), and
/// performs and empties it after every engine step.
@usableFromInline
struct EngineOutput<M: StateMachine> {
    /// How many commands fit in the drain's stack room before the buffer spills to the heap.
    @inlinable static var inlineCommands: Int { 8 }

    @usableFromInline var commands: CommandBuffer<M>
    /// The traces of the step, or `nil` when nobody observes the server (then no trace is built at all).
    @usableFromInline var recordedTraces: [TraceEvent<M>]?
    /// Set when the state changed: the index of the first command of the transition that changed it (the last
    /// one, when a step changes state more than once). The effects bound to the old states are then cancelled,
    /// that is every bound effect except those started by commands from this index on. Not a command, so that a
    /// state change of a server without effects leaves nothing to perform.
    @usableFromInline var stateChangedAtCommand: Int?

    /// An empty output writing its first commands into `room` (uninitialized memory that outlives the output).
    @inlinable
    init(room: UnsafeMutableBufferPointer<EngineCommand<M>>, isTracing: Bool) {
        commands = CommandBuffer(room: room)
        recordedTraces = isTracing ? [] : nil
    }

    /// The traces of the step.
    @inlinable var traces: [TraceEvent<M>] { recordedTraces ?? [] }

    @inlinable mutating func trace(_ event: @autoclosure () -> TraceEvent<M>) {
        if recordedTraces != nil { recordedTraces!.append(event()) }
    }

    /// Empties the traces; the commands were taken one by one by whoever performed them.
    @inlinable mutating func clearTraces() {
        if recordedTraces?.isEmpty == false { recordedTraces!.removeAll(keepingCapacity: true) }
    }
}

/// The commands of a step, in order: appended by the engine, then taken (moved out) one by one by the runtime.
///
/// Not an `Array`: an array of `EngineCommand` allocates, and emptying it destroys its elements through the
/// runtime's value witnesses (`swift_arrayDestroy`); a command moved out of this buffer is destroyed in registers by
/// specialized code. The first commands go into stack room the drain provides; more spill into a heap block, which
/// its owner frees with ``freeSpill()``.
@usableFromInline
struct CommandBuffer<M: StateMachine> {
    /// The room the commands are in: the drain's stack room, or the spill block.
    @usableFromInline var base: UnsafeMutablePointer<EngineCommand<M>>
    @usableFromInline var capacity: Int
    /// The number of commands appended since the buffer was last emptied (taken ones included).
    @usableFromInline var count = 0
    /// Whether `base` is a heap block this buffer allocated.
    @usableFromInline var isSpilled = false

    @inlinable
    init(room: UnsafeMutableBufferPointer<EngineCommand<M>>) {
        base = room.baseAddress.unsafelyUnwrapped
        capacity = room.count
    }

    @inlinable
    mutating func append(_ command: EngineCommand<M>) {
        if count == capacity { spill() }
        (base + count).initialize(to: command)
        count += 1
    }

    /// Moves the commands into a heap block twice as large.
    @inlinable
    mutating func spill() {
        let newCapacity = Swift.max(8, capacity * 2)
        let block = UnsafeMutablePointer<EngineCommand<M>>.allocate(capacity: newCapacity)
        block.moveInitialize(from: base, count: count)
        if isSpilled { base.deallocate() }
        base = block
        capacity = newCapacity
        isSpilled = true
    }

    /// The command at `index`, copied; `index` must not have been taken.
    @inlinable
    subscript(index: Int) -> EngineCommand<M> { base[index] }

    /// Moves the command at `index` out. Every command must be taken, in order, before ``removeTaken()``.
    @inlinable
    func take(_ index: Int) -> EngineCommand<M> { (base + index).move() }

    /// Empties the buffer after every command was taken, keeping its room.
    @inlinable
    mutating func removeTaken() { count = 0 }

    /// Destroys any command not taken and frees the spill block; the buffer is unusable afterwards.
    @inlinable
    mutating func freeSpill() {
        if count > 0 { base.deinitialize(count: count) }
        count = 0
        if isSpilled { base.deallocate() }
        isSpilled = false
    }
}

/// When an armed timer is due, in two words and a flag: a delay from the moment the runtime performs the command,
/// or an instant on the runtime's timeline; with the generation the engine expects back when it fires.
@usableFromInline
struct TimerArm: Sendable {
    @usableFromInline let generation: UInt64
    /// Nanoseconds: the delay (relative) or the instant (absolute), saturated at the bounds of `Int64`.
    @usableFromInline let nanoseconds: Int64
    @usableFromInline let isRelative: Bool

    /// `time` must not be `.infinity` (an infinite timeout is never armed).
    @inlinable init(_ time: TimeoutTime, generation: UInt64) {
        self.generation = generation
        switch time {
        case .after(let duration):
            nanoseconds = duration.nanoseconds
            isRelative = true
        case .at(let instant):
            nanoseconds = instant.nanoseconds
            isRelative = false
        case .infinity:
            nanoseconds = .max
            isRelative = false
        }
    }
}
