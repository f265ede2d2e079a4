import Synchronization
import Testing
@testable import StateServer

/// The deque under every mailbox, engine queue and run queue: order through growth and wrap-around, copy on write,
/// and the lifetime of what it holds (its slots are raw memory, initialized only while they hold an element).
@Suite struct RingBufferTests {

    @Test func elementsComeOutInOrderThroughGrowthAndWrapAround() {
        var ring = RingBuffer<Int>()
        var expected: [Int] = []
        var next = 0
        // Pops between pushes move the head around the ring before every growth.
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 1) {
                ring.append(next)
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 5) {
                #expect(ring.popFirst() == expected.removeFirst())
            }
            #expect(ring.count == expected.count)
            #expect(ring.first == expected.first)
        }
        #expect(ring.elements == expected)
        while let value = ring.popFirst() { #expect(value == expected.removeFirst()) }
        #expect(expected.isEmpty && ring.isEmpty && ring.first == nil)
    }

    @Test func prependPutsElementsInFrontAcrossTheWrap() {
        var ring = RingBuffer<Int>()
        for value in 10..<13 { ring.append(value) }
        ring.prepend(9)
        ring.prepend(contentsOf: [6, 7, 8])
        for value in 13..<20 { ring.append(value) }
        #expect(ring.elements == Array(6..<20))
    }

    @Test func aCopyIsIndependentOfTheOriginal() {
        var original = RingBuffer<Int>()
        for value in 0..<4 { original.append(value) }  // full: the copy's first append grows it
        var copy = original
        copy.append(4)
        #expect(original.elements == [0, 1, 2, 3])
        #expect(copy.elements == [0, 1, 2, 3, 4])
        var popped = original
        #expect(popped.popFirst() == 0)
        #expect(original.elements == [0, 1, 2, 3])
        #expect(popped.elements == [1, 2, 3])
        copy.prepend(-1)
        #expect(original.elements == [0, 1, 2, 3])
        #expect(copy.elements == [-1, 0, 1, 2, 3, 4])
    }

    @Test func prependDrainingMovesEverythingInFrontAndEmptiesTheSource() {
        var queue = RingBuffer<Int>()
        var front = RingBuffer<Int>()
        for value in 0..<3 { front.append(value) }
        queue.prepend(draining: &front)
        #expect(queue.elements == [0, 1, 2] && front.isEmpty)
        for value in 5..<7 { front.append(value) }
        queue.append(3)
        queue.prepend(draining: &front)
        #expect(queue.elements == [5, 6, 0, 1, 2, 3] && front.isEmpty)
    }

    @Test func removalsKeepTheOrderOfTheRest() {
        var ring = RingBuffer<Int>()
        for value in 0..<10 { ring.append(value) }
        ring.removeAll { $0.isMultiple(of: 3) }
        #expect(ring.elements == [1, 2, 4, 5, 7, 8])
        #expect(ring.removeFirst { $0 > 4 } == 5)
        #expect(ring.elements == [1, 2, 4, 7, 8])
        #expect(ring.removeFirst { $0 > 100 } == nil)
        #expect(ring.removeAll() == [1, 2, 4, 7, 8])
        #expect(ring.isEmpty)
    }

    @Test func aBufferThatOwnsItsBlockChangesItInPlace() throws {
        var ring = RingBuffer<Int>()
        for value in 0..<3 { ring.append(value) }
        let block = ObjectIdentifier(try #require(ring.storage))
        _ = ring.popFirst()
        ring.prepend(0)
        ring.append(3)
        #expect(ObjectIdentifier(try #require(ring.storage)) == block)
        ring.append(4)  // full: grows into a new block
        #expect(ObjectIdentifier(try #require(ring.storage)) != block)
        #expect(ring.elements == [0, 1, 2, 3, 4])
    }

    @Test func everyElementIsReleasedOnceThroughGrowthCopiesAndTheEnd() {
        let live = LiveCount()
        do {
            var ring = RingBuffer<Tracked>()
            for value in 0..<100 { ring.append(Tracked(value, counted: live)) }
            for _ in 0..<30 { _ = ring.popFirst() }  // the head is now mid-ring
            for value in 100..<150 { ring.append(Tracked(value, counted: live)) }  // wraps, then grows
            var copy = ring
            copy.append(Tracked(150, counted: live))  // copies the block
            #expect(ring.count == 120 && copy.count == 121)
            #expect(ring.elements.map(\.value) == Array(30..<150))
            #expect(live.current == 121)
            ring = RingBuffer()  // the original block is freed with its elements (those the copy shares stay)
            #expect(live.current == 121)
            _ = copy.popFirst()
            #expect(live.current == 120)
        }
        // The copy, freed holding 120 elements, released each of them.
        #expect(live.current == 0)
    }

    @Test func anUnsharedCopyHasABlockOfItsOwn() {
        var ring = RingBuffer<Int>()
        for value in 0..<5 { ring.append(value) }
        _ = ring.popFirst()
        var copy = ring.unsharedCopy
        #expect(copy.storage !== ring.storage)
        // The copy's block is its own: popped without a check, it leaves the original as it was.
        #expect(copy.popFirstUnshared() == 1)
        #expect(copy.elements == [2, 3, 4])
        #expect(ring.elements == [1, 2, 3, 4])
        #expect(RingBuffer<Int>().unsharedCopy.storage == nil)
    }

    /// An engine's queues are copied with their blocks (``EngineQueues/copy()``), so that the engine can take
    /// events out of them without checking: a copied engine replays its postponed events, the original keeps them.
    @Test func aCopiedEngineAndItsOriginalKeepTheirOwnQueues() {
        var original = Engine(machine: Gatekeeper(), serverID: nil, state: .locked, data: [])
        let room = UnsafeMutableBufferPointer<EngineCommand<Gatekeeper>>.allocate(capacity: 8)
        defer { room.deallocate() }
        var output = EngineOutput<Gatekeeper>(room: room, isTracing: false)
        for item in 0..<3 { original.receive(.cast(.item(item)), into: &output) }
        #expect(original.postponed.count == 3)

        var copy = original
        copy.receive(.cast(.unlock), into: &output)
        #expect(copy.state == .open && copy.data == [0, 1, 2] && copy.postponed.isEmpty)
        #expect(original.state == .locked && original.data.isEmpty && original.postponed.count == 3)

        original.receive(.cast(.item(3)), into: &output)
        original.receive(.cast(.unlock), into: &output)
        #expect(original.data == [0, 1, 2, 3])
        #expect(copy.data == [0, 1, 2])
        output.commands.freeSpill()
    }

    /// Postpones every item while locked; `unlock` opens it and the items are recorded in order.
    private struct Gatekeeper: StateMachine {
        enum State: Hashable, Sendable { case locked, open }
        enum Cast: Sendable { case item(Int), unlock }
        func start() -> Start<Self> { .ok(.locked, data: []) }
        func handle(_ event: Event<Self>, in state: State, data: inout [Int]) -> Transition<Self> {
            switch (event, state) {
            case (.cast(.unlock), .locked): return .goto(.open)
            case (.cast(.item), .locked): return .keep(.postpone)
            case (.cast(.item(let item)), .open):
                data.append(item)
                return .keep
            default: return .keep
            }
        }
    }
}
