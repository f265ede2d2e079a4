#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with a condition variable (the `Synchronization` module has no conditions). Used only by the
/// runtime's few long-lived threads: the workers and the timer thread.
final class ConditionLock: @unchecked Sendable {
    // Safety: the pthread objects are allocated once, never moved, and only used through pthread calls.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        #if canImport(Darwin)
        pthread_cond_init(condition, nil)
        #else
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
        #endif
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    func signal() { pthread_cond_signal(condition) }
    func broadcast() { pthread_cond_broadcast(condition) }

    /// Waits (the lock held) until signalled.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits (the lock held) until signalled or `nanoseconds` have passed on the monotonic clock.
    func wait(nanoseconds: Int64) {
        #if canImport(Darwin)
        var relative = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        pthread_cond_timedwait_relative_np(condition, mutex, &relative)
        #else
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = Int64(now.tv_nsec) + nanoseconds % 1_000_000_000
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(nanoseconds / 1_000_000_000) + Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_cond_timedwait(condition, mutex, &deadline)
        #endif
    }
}

/// Starts a detached system thread named `name` running `body`; false (and `body` not run) if the system refuses
/// a thread.
@discardableResult
package func startThread(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
    final class Box: @unchecked Sendable {
        // Safety: written once before the thread starts, read once by it.
        let body: @Sendable () -> Void
        let name: String
        init(_ body: @escaping @Sendable () -> Void, name: String) { self.body = body; self.name = name }
    }
    let box = Unmanaged.passRetained(Box(body, name: name)).toOpaque()
    #if canImport(Darwin)
    var thread: pthread_t?
    #else
    var thread = pthread_t()
    #endif
    let result = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        nameCurrentThread(box.name)
        box.body()
        return nil
    }, box)
    guard result == 0 else {
        Unmanaged<Box>.fromOpaque(box).release()
        return false
    }
    #if canImport(Darwin)
    pthread_detach(thread!)
    #else
    pthread_detach(thread)
    #endif
    return true
}

/// Names the calling thread, as profilers and debuggers show it (Linux keeps the first 15 bytes).
private func nameCurrentThread(_ name: String) {
    #if canImport(Darwin)
    pthread_setname_np(name)
    #else
    // Glibc declares it only for `_GNU_SOURCE`, which the Swift overlay does not define: looked up by name.
    typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32
    guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
    _ = unsafeBitCast(symbol, to: SetName.self)(pthread_self(), String(decoding: name.utf8.prefix(15), as: UTF8.self))
    #endif
}

/// The system's monotonic time in nanoseconds (the clock the default runtime runs on).
@inline(__always)
func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
}

/// The processor the calling thread runs on, or -1 where the system does not say (`sched_getcpu`, a read of the
/// kernel's per-thread record on Linux: a few nanoseconds). The answer may be stale as soon as it is returned: the
/// thread may move.
@inline(__always)
func currentProcessor() -> Int {
    guard let read = processorReader else { return -1 }
    return Int(read())
}

/// `sched_getcpu`, which Glibc declares only for `_GNU_SOURCE` (not defined by the Swift overlay): looked up by
/// name once. Nil where it does not exist (Darwin).
private let processorReader: (@convention(c) () -> Int32)? = {
    #if canImport(Darwin)
    return nil
    #else
    guard let symbol = dlsym(nil, "sched_getcpu") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)
    #endif
}()
