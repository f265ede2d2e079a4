import StateServer

/// A stack of integers: `push` is a cast, `pop`, `peek` and `size` are calls. Popping or peeking an empty stack
/// answers ``StackError/empty`` instead of crashing the server.
public struct Stack: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Removes and answers the top element.
        case pop(Reply<Result<Int, StackError>>)
        /// Answers the top element, leaving it there.
        case peek(Reply<Result<Int, StackError>>)
        /// Answers the number of elements.
        case size(Reply<Int>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// Puts an element on top.
        case push(Int)
    }

    /// The elements the stack starts with, bottom first.
    public let initialElements: [Int]

    /// A stack holding `initialElements` (bottom first).
    public init(_ initialElements: [Int] = []) { self.initialElements = initialElements }

    /// The state is the elements, bottom first: the top is `last`.
    public func initialize() -> GenServerStart<Self> {
        .ok(initialElements)
    }

    /// Answers `pop`, `peek` and `size`.
    public func handleCall(_ request: Call, state elements: inout [Int]) -> GenServerResult<Self> {
        switch request {
        case .pop(let reply):
            guard let top = elements.popLast() else { return .reply(reply, .failure(.empty)) }
            return .reply(reply, .success(top))
        case .peek(let reply):
            guard let top = elements.last else { return .reply(reply, .failure(.empty)) }
            return .reply(reply, .success(top))
        case .size(let reply):
            return .reply(reply, elements.count)
        }
    }

    /// Handles `push`.
    public func handleCast(_ message: Cast, state elements: inout [Int]) -> GenServerResult<Self> {
        switch message {
        case .push(let element):
            elements.append(element)
            return .noreply
        }
    }
}

/// Why a stack could not answer with an element.
public enum StackError: Error, Equatable, Sendable {
    /// The stack has no elements.
    case empty
}

/// The client API.
extension Server where M == Stack {
    /// Puts `element` on top, without waiting.
    public func push(_ element: Int) throws { try cast(.push(element)) }
    /// Removes and returns the top element; throws ``StackError/empty`` on an empty stack.
    public func pop() async throws -> Int { try await call { .pop($0) }.get() }
    /// The top element; throws ``StackError/empty`` on an empty stack.
    public func peek() async throws -> Int { try await call { .peek($0) }.get() }
    /// The number of elements.
    public func size() async throws -> Int { try await call { .size($0) } }
}

/// The `Stack` example: push three elements, peek, pop them all, and pop once more.
public func runStackDemo(runtime: Runtime, output: (String) -> Void) async throws {
    let stack = try runtime.start(Stack())
    for element in [1, 2, 3] {
        try stack.push(element)
        output("push \(element)")
    }
    output("size -> \(try await stack.size())")
    output("peek -> \(try await stack.peek())")
    for _ in 1...3 {
        output("pop -> \(try await stack.pop())")
    }
    do {
        _ = try await stack.pop()
    } catch let error as StackError {
        output("pop -> \(error)")
    }
    output("size -> \(try await stack.size())")
}
