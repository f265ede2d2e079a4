import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value protected by a `Mutex`, whose critical sections are also made visible to ThreadSanitizer.
///
/// `Synchronization.Mutex` locks in code ThreadSanitizer does not instrument on Linux, so under
/// `swift test --sanitize=thread` every access inside `withLock` looks unsynchronized. This wrapper tells the
/// sanitizer about each critical section (acquire on entry, release on exit, on the lock's address).
/// Outside a sanitized build the sanitizer hooks are absent and the cost is one nil check.
///
/// Concurrency: `Sendable` like `Mutex`; `withLock` may be called from any thread.
@usableFromInline
package struct Locked<Value: ~Copyable>: ~Copyable {
    @usableFromInline let mutex: Mutex<Value>

    /// Protects `value`.
    @inlinable
    package init(_ value: consuming sending Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access to the value.
    @inlinable
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        // The anchor is the lock's own address (stable: the lock lives in its owner's storage); the value is
        // only touched after the sanitizer has been told the section began.
        // The hooks are read once (a lazily initialized global: each read is a call and a once-check).
        let anchor = withUnsafePointer(to: self) { UnsafeRawPointer($0) }
        guard let hooks = ThreadSanitizer.hooks else { return try mutex.withLock(body) }
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            hooks.acquire(anchor)
            defer { hooks.release(anchor) }
            return try body(&value)
        }
    }
}

// Safety: as `Mutex`: the value is only reached through `withLock`, under the mutex.
extension Locked: @unchecked Sendable where Value: ~Copyable {}

/// The ThreadSanitizer runtime's synchronization hooks, found at run time when the process is sanitized.
@usableFromInline
enum ThreadSanitizer {
    @usableFromInline typealias Hook = @convention(c) (UnsafeRawPointer?) -> Void

    /// The sanitizer's acquire and release entry points.
    @usableFromInline
    struct Hooks: Sendable {
        @usableFromInline let acquire: Hook
        @usableFromInline let release: Hook
    }

    /// The hooks when the process runs under ThreadSanitizer, otherwise `nil`.
    @usableFromInline static let hooks: Hooks? = {
        guard let acquire = lookUp("__tsan_acquire"), let release = lookUp("__tsan_release") else { return nil }
        return Hooks(acquire: acquire, release: release)
    }()

    private static func lookUp(_ name: String) -> Hook? {
        #if canImport(Darwin)
        let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
        #else
        let handle: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
        #endif
        guard let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: Hook.self)
    }
}
