import Synchronization
import Testing
@testable import StateServer

/// A long mailbox: past ``Mailbox/segmentCapacity`` items it grows in fixed-size segments rather than by copying
/// itself into a ring twice as large. Order, system requests deep in the queue, a server ending with thousands
/// queued, and the lifetime of what the segments hold.
@Suite struct MailboxSegmentsTests {
    private typealias Item = MailboxItem<RuntimeProbe>

    private static func note(_ index: Int) -> Item { .message(.event(.cast(.note("\(index)")))) }

    private static func index(of item: Item?) -> Int? {
        guard case .message(.event(.cast(.note(let text))))? = item else { return nil }
        return Int(text)
    }

    // MARK: The queue

    @Test func itemsComeOutInOrderThroughManySegments() {
        var mailbox = Mailbox<RuntimeProbe>()
        let total = Mailbox<RuntimeProbe>.segmentCapacity * 5 + 17
        for index in 0..<total { mailbox.append(Self.note(index)) }
        // The front stopped growing at the segment size; the rest waits in segments.
        let frontCount = mailbox.items.count
        let segmentsEmpty = mailbox.extras?.segments.isEmpty
        #expect(frontCount == Mailbox<RuntimeProbe>.segmentCapacity)
        #expect(segmentsEmpty == false)
        var seen: [Int] = []
        while let item = mailbox.popFirst() { seen.append(Self.index(of: item) ?? -1) }
        #expect(seen == Array(0..<total))
        let isEmpty = mailbox.isEmpty
        let segmentsLeftEmpty = mailbox.extras?.segments.isEmpty
        #expect(isEmpty)
        #expect(segmentsLeftEmpty == true)
    }

    @Test func appendingWhileDrainingKeepsTheOrder() {
        var mailbox = Mailbox<RuntimeProbe>()
        var next = 0
        var seen: [Int] = []
        // A sender ahead of the server: three in, two out, until thousands have gone through.
        for _ in 0..<2_000 {
            for _ in 0..<3 {
                mailbox.append(Self.note(next))
                next += 1
            }
            for _ in 0..<2 { seen.append(Self.index(of: mailbox.popFirst()) ?? -1) }
        }
        while let item = mailbox.popFirst() { seen.append(Self.index(of: item) ?? -1) }
        #expect(seen == Array(0..<next))
    }

    @Test func prependAndRemoveFirstWhereSeeTheWholeQueue() {
        var mailbox = Mailbox<RuntimeProbe>()
        let total = Mailbox<RuntimeProbe>.segmentCapacity * 3
        for index in 0..<total { mailbox.append(Self.note(index)) }
        mailbox.append(.system(.kill))
        mailbox.append(Self.note(total))
        mailbox.prepend(Self.note(-1))
        // The system request is in the last segment, behind hundreds of messages.
        guard case .system(.kill)? = mailbox.removeFirst(where: { if case .system = $0 { true } else { false } }) else {
            Issue.record("the system request deep in the queue was not found")
            return
        }
        var seen: [Int] = []
        while let item = mailbox.popFirst() { seen.append(Self.index(of: item) ?? -2) }
        #expect(seen == Array(-1...total))
    }

    @Test func removeAllReturnsEverythingInOrder() {
        var mailbox = Mailbox<RuntimeProbe>()
        let total = Mailbox<RuntimeProbe>.segmentCapacity * 2 + 3
        for index in 0..<total { mailbox.append(Self.note(index)) }
        let all = mailbox.removeAll().map { Self.index(of: $0) ?? -1 }
        #expect(all == Array(0..<total))
        let isEmpty = mailbox.isEmpty
        let next = mailbox.popFirst()
        #expect(isEmpty)
        #expect(next == nil)
    }

    // MARK: The segments

    @Test func aDrainedBlockIsReusedAndNothingLeaks() {
        let live = LiveCount()
        do {
            var front = RingBuffer<Tracked>()
            var segments = RingSegments<Tracked>()
            for value in 0..<4 { front.append(Tracked(value, counted: live)) }
            for value in 4..<14 { segments.append(Tracked(value, counted: live), segmentCapacity: 4) }
            var seen: [Int] = []
            while let element = front.popFirst() {
                seen.append(element.value)
                if front.isEmpty, !segments.isEmpty { segments.moveFirst(into: &front) }
            }
            #expect(seen == Array(0..<14))
            #expect(segments.isEmpty)
            // The front's drained block of the segments' size was kept, and the next segment is built in it.
            let spare = segments.spare
            #expect(spare != nil)
            segments.append(Tracked(99, counted: live), segmentCapacity: 4)
            #expect(segments.spare == nil)
            #expect(segments.filling === spare)
            // Left holding elements: the front and a segment, each destroyed with what is in it.
            front.append(Tracked(100, counted: live))
        }
        #expect(live.current == 0)
    }

    // MARK: In a server

    @Test func aSuspendedServerQueuesThousandsAndHandlesThemInOrder() async throws {
        let runtime = Runtime(clock: ManualClock())
        let server = try runtime.start(RuntimeProbe())
        try await server.suspend()
        let total = Mailbox<RuntimeProbe>.segmentCapacity * 8
        for index in 0..<total { try server.cast(.note("\(index)")) }
        // Handled while suspended: taken from behind every queued message.
        let status = try await server.status()
        #expect(status.queuedMessages == total)
        #expect(status.mailboxHighWaterMark == total)
        try await server.resume()
        let log = try await server.call { .log($0) }
        #expect(log == (0..<total).map { "cast:\($0)" })
    }

    @Test func aServerEndingWithThousandsQueuedFailsTheCallerAmongThem() async throws {
        let runtime = Runtime(clock: ManualClock())
        let discarded = RuntimeRecording<Int>()
        let server = try runtime.start(RuntimeProbe(), options: ServerOptions(observer: { observation in
            if case .discardedAtExit(let count) = observation.event { discarded.append(count) }
        }))
        try await server.suspend()
        let total = Mailbox<RuntimeProbe>.segmentCapacity * 4
        for index in 0..<total { try server.cast(.note("\(index)")) }
        let call = server.request { .echo(7, $0) }
        for index in total..<(total * 2) { try server.cast(.note("\(index)")) }
        server.kill()
        await #expect(throws: StateServerError.self) { try await call.value() }
        #expect(call.result.map { if case .failure(let error) = $0 { error.code == .serverExited } else { false } } == true)
        #expect(discarded.elements == [total * 2 + 1])
    }
}
