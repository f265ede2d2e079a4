import ClassicServers
import StateServer
import Testing

@Suite struct ExampleKeyValueStoreTests {
    let runtime = Runtime(clock: ManualClock())

    @Test func demoPrintsItsOutput() async throws {
        var lines: [String] = []
        try await runKeyValueStoreDemo(runtime: runtime) { lines.append($0) }
        #expect(lines == [
            "put language, runtime",
            "get language -> Swift",
            #"keys -> ["language", "runtime"]"#,
            "delete language",
            "get language -> not found: language",
            "clear",
            "keys -> []",
        ])
    }

    @Test func putReplacesThePreviousValue() async throws {
        let store = try runtime.start(KeyValueStore())
        try store.put("k", "1")
        try store.put("k", "2")
        #expect(try await store.get("k") == "2")
        #expect(try await store.keys() == ["k"])
    }

    @Test func aMissingKeyIsNotFound() async throws {
        let store = try runtime.start(KeyValueStore())
        await #expect(throws: KeyValueStoreError.notFound("nope")) { try await store.get("nope") }
    }

    @Test func deleteAndClearRemoveKeys() async throws {
        let store = try runtime.start(KeyValueStore())
        try store.put("a", "1")
        try store.put("b", "2")
        try store.put("c", "3")
        try store.delete("b")
        #expect(try await store.keys() == ["a", "c"])
        try store.clear()
        #expect(try await store.keys() == [])
    }
}
