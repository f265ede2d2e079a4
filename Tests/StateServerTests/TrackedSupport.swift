import Synchronization

/// How many ``Tracked`` instances made with it are alive: a test that puts them in a container sees that it neither
/// leaks them nor releases one twice. One per test, so tests running at once do not count each other's.
final class LiveCount: Sendable {
    private let count = Atomic<Int>(0)

    init() {}

    /// The instances alive now.
    var current: Int { count.load(ordering: .relaxed) }

    fileprivate func add(_ delta: Int) { count.add(delta, ordering: .relaxed) }
}

/// A value whose instances a ``LiveCount`` counts.
final class Tracked: Sendable {
    let value: Int
    private let live: LiveCount

    init(_ value: Int, counted live: LiveCount) {
        self.value = value
        self.live = live
        live.add(1)
    }

    deinit { live.add(-1) }
}
