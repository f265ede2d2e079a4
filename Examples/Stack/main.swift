import ClassicServers
import StateServer

// Virtual time: the output is the same on every run.
try await runStackDemo(runtime: Runtime(clock: ManualClock()), output: { print($0) })
