import ClassicServers
import StateServer

// Virtual time: the demo moves the clock itself, so the output is the same on every run.
let clock = ManualClock()
try await runCacheWithTimeoutDemo(runtime: Runtime(clock: clock), clock: clock, output: { print($0) })
