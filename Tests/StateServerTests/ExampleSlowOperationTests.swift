import ClassicServers
import StateServer
import Synchronization
import Testing

@Suite struct ExampleSlowOperationTests {
    let runtime = Runtime(clock: ManualClock())

    @Test func demoPrintsItsOutput() async throws {
        var lines: [String] = []
        try await runSlowOperationDemo(runtime: runtime) { lines.append($0) }
        #expect(lines == [
            "compute(3), compute(4), compute(-1) sent",
            "in flight -> 3 (answered while the computations run)",
            "compute(3) answered yet -> false",
            "computations finished",
            "compute(3) -> 9",
            "compute(4) -> 16",
            "compute(-1) -> failed: negative input",
            "in flight -> 0",
        ])
    }

    @Test func eachCallerGetsTheAnswerToItsOwnRequest() async throws {
        let releases = ExampleReleases()
        let server = try runtime.start(SlowOperation { input in
            await releases.wait(for: input)
            return input + 100
        })
        let first = server.request { .compute(1, $0) }
        let second = server.request { .compute(2, $0) }
        releases.release(2)
        #expect(try await second.value() == .success(102))
        #expect(!first.isResolved)
        #expect(try await server.call { .inFlight($0) } == 1)
        releases.release(1)
        await runtime.waitForEffects()
        #expect(try first.result?.get() == .success(101))
    }
}

/// Lets a test finish slow operations one input at a time.
final class ExampleReleases: Sendable {
    private let state = Locked<(released: Set<Int>, waiters: [Int: [CheckedContinuation<Void, Never>]])>(([], [:]))

    func wait(for input: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isReleased = state.withLock { state -> Bool in
                if state.released.contains(input) { return true }
                state.waiters[input, default: []].append(continuation)
                return false
            }
            if isReleased { continuation.resume() }
        }
    }

    func release(_ input: Int) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released.insert(input)
            return state.waiters.removeValue(forKey: input) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }
}
