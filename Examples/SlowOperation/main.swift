import ClassicServers
import StateServer

// Virtual time; the slow work waits for a gate the demo opens, so the output is the same on every run.
try await runSlowOperationDemo(runtime: Runtime(clock: ManualClock()), output: { print($0) })
