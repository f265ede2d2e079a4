import ClassicServers
import StateServer
import Testing

@Suite struct ExampleStackTests {
    let runtime = Runtime(clock: ManualClock())

    @Test func demoPrintsItsOutput() async throws {
        var lines: [String] = []
        try await runStackDemo(runtime: runtime) { lines.append($0) }
        #expect(lines == [
            "push 1", "push 2", "push 3",
            "size -> 3",
            "peek -> 3",
            "pop -> 3", "pop -> 2", "pop -> 1",
            "pop -> empty",
            "size -> 0",
        ])
    }

    @Test func popReturnsElementsLastInFirstOut() async throws {
        let stack = try runtime.start(Stack([1, 2]))
        try stack.push(3)
        #expect(try await stack.pop() == 3)
        #expect(try await stack.pop() == 2)
        #expect(try await stack.pop() == 1)
    }

    @Test func peekLeavesTheTopInPlace() async throws {
        let stack = try runtime.start(Stack([7]))
        #expect(try await stack.peek() == 7)
        #expect(try await stack.size() == 1)
    }

    @Test func popAndPeekOnAnEmptyStackAnswerEmptyAndKeepTheServerRunning() async throws {
        let stack = try runtime.start(Stack())
        await #expect(throws: StackError.empty) { try await stack.pop() }
        await #expect(throws: StackError.empty) { try await stack.peek() }
        #expect(stack.isAlive)
        try stack.push(1)
        #expect(try await stack.pop() == 1)
    }
}
