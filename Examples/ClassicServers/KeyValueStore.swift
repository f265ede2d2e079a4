import StateServer

/// A key-value store: `put`, `delete` and `clear` are casts; `get` and `keys` are calls. Getting a missing key
/// answers ``KeyValueStoreError/notFound(_:)``.
public struct KeyValueStore: GenServer {
    /// Requests with a reply.
    public enum Call: Sendable {
        /// Answers the value stored under the key.
        case get(String, Reply<Result<String, KeyValueStoreError>>)
        /// Answers every key, sorted.
        case keys(Reply<[String]>)
    }

    /// Fire-and-forget messages.
    public enum Cast: Sendable {
        /// Stores a value under a key, replacing any previous value.
        case put(String, String)
        /// Removes a key (nothing happens if it is missing).
        case delete(String)
        /// Removes every key.
        case clear
    }

    /// An empty store.
    public init() {}

    /// The state is a dictionary.
    public func initialize() -> GenServerStart<Self> {
        .ok([:])
    }

    /// Answers `get` and `keys`.
    public func handleCall(_ request: Call, state store: inout [String: String]) -> GenServerResult<Self> {
        switch request {
        case .get(let key, let reply):
            guard let value = store[key] else { return .reply(reply, .failure(.notFound(key))) }
            return .reply(reply, .success(value))
        case .keys(let reply):
            return .reply(reply, store.keys.sorted())
        }
    }

    /// Handles `put`, `delete` and `clear`.
    public func handleCast(_ message: Cast, state store: inout [String: String]) -> GenServerResult<Self> {
        switch message {
        case .put(let key, let value):
            store[key] = value
        case .delete(let key):
            store[key] = nil
        case .clear:
            store.removeAll()
        }
        return .noreply
    }
}

/// Why a store could not answer with a value.
public enum KeyValueStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No value is stored under the key.
    case notFound(String)

    /// `not found: key`.
    public var description: String {
        switch self {
        case .notFound(let key): "not found: \(key)"
        }
    }
}

/// The client API.
extension Server where M == KeyValueStore {
    /// Stores `value` under `key`, without waiting.
    public func put(_ key: String, _ value: String) throws { try cast(.put(key, value)) }
    /// The value under `key`; throws ``KeyValueStoreError/notFound(_:)`` if there is none.
    public func get(_ key: String) async throws -> String {
        // A switch rather than `.get()`: Swift 6.3.1 crashes (signal 11 in LLVM's coroutine splitting) compiling
        // `runKeyValueStoreDemo` in release mode when this converts the typed error with `Result.get()`.
        switch try await call({ .get(key, $0) }) {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }
    /// Removes `key`, without waiting.
    public func delete(_ key: String) throws { try cast(.delete(key)) }
    /// Every key, sorted.
    public func keys() async throws -> [String] { try await call { .keys($0) } }
    /// Removes every key, without waiting.
    public func clear() throws { try cast(.clear) }
}

/// The `KeyValueStore` example: put, get, list, delete, get a missing key, clear.
public func runKeyValueStoreDemo(runtime: Runtime, output: (String) -> Void) async throws {
    let store = try runtime.start(KeyValueStore())
    try store.put("language", "Swift")
    try store.put("runtime", "StateServer")
    output("put language, runtime")
    output("get language -> \(try await store.get("language"))")
    output("keys -> \(try await store.keys())")
    try store.delete("language")
    output("delete language")
    do {
        _ = try await store.get("language")
    } catch let error as KeyValueStoreError {
        output("get language -> \(error)")
    }
    try store.clear()
    output("clear")
    output("keys -> \(try await store.keys())")
}
