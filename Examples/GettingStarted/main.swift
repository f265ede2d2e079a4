import GettingStartedDoor
import StateServer

// Virtual time: the clock moves only when the demo advances it, so ten seconds pass instantly.
let clock = ManualClock()
try await runDoorDemo(runtime: Runtime(clock: clock), clock: clock, output: { print($0) })

// Real time: the same machine, unchanged, on the system clock.
let runtime = Runtime()
let door = try runtime.start(Door(code: "1234"))
try await door.call { .unlock(code: "1234", $0) }.get()
print("on the real clock: \(try await door.call { .currentState($0) }), locking itself in 10 s")
try await door.stop()
