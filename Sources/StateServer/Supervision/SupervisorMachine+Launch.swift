/// Starting a supervisor server, and the waits behind `stop()` and `run()`.
extension SupervisorMachine {
    static func validate(intensity: Int, period: Duration) throws {
        if intensity < 0 {
            throw SupervisorError(.invalidSpecification, "the restart intensity \(intensity) is negative")
        }
        if period <= .zero {
            throw SupervisorError(.invalidSpecification, "the restart period \(period) is not positive")
        }
    }

    /// Rejects a backoff with a negative delay.
    static func validate(backoff: RestartBackoff?) throws {
        guard let backoff else { return }
        for (name, delay) in [
            ("initial delay", backoff.initialDelay), ("maximum delay", backoff.maximumDelay),
            ("reset period", backoff.resetAfter),
        ] where delay < .zero {
            throw SupervisorError(.invalidSpecification, "the restart backoff's \(name) \(delay) is negative")
        }
    }

    /// Rejects a negative shutdown timeout.
    static func validate(shutdown: ChildSpec.Shutdown, of child: ChildID) throws {
        if case .timeout(let timeout) = shutdown, timeout < .zero {
            throw SupervisorError(
                .invalidSpecification, "the shutdown timeout \(timeout) of child \(child) is negative", childID: child)
        }
    }

    /// Starts a supervisor server and connects its inbox; returns the start failure of a child, if any.
    static func launch(
        _ configuration: Configuration, on runtime: Runtime
    ) throws -> (Server<SupervisorMachine>, SupervisorError?) {
        let inbox = SupervisorInbox(runtime: runtime)
        let machine = SupervisorMachine(configuration: configuration, runtime: runtime, inbox: inbox)
        let server = try runtime.start(machine, options: ServerOptions(trapsExits: true))
        inbox.attach(server)
        return (server, inbox.startFailure)
    }
}

extension Server where M == SupervisorMachine {
    /// Waits for the end without giving up when the task is cancelled.
    func exitReasonIgnoringCancellation() async -> ExitReason {
        await withUnsafeContinuation { continuation in
            monitor { reason in continuation.resume(returning: reason) }
        }
    }

    /// Asks for the ordered shutdown without waiting.
    func requestShutdown(_ reason: ExitReason) {
        try? send(.shutdown(reason))
    }

    /// `run()`: waits for the end; on cancellation, shuts down in order and returns once ended.
    func runUntilCancelled() async throws {
        let reason = await withTaskCancellationHandler {
            await exitReasonIgnoringCancellation()
        } onCancel: {
            requestShutdown(.shutdown)
        }
        if Task.isCancelled { return }
        throw SupervisorError(.ended, "the supervisor ended on its own with \(reason)", exitReason: reason)
    }

    /// The ordered stop behind `Supervisor.stop`: a call that is never answered, so that it ends when the
    /// supervisor does (its caller then gets `serverExited`), bounded by the call timeout.
    func stopInOrder(_ reason: ExitReason, timeout: Duration?) async throws {
        do {
            try await call(timeout: timeout) { .stop(reason, $0) }
        } catch let error as StateServerError where error.code == .serverExited {
            return
        } catch let error as StateServerError where error.code == .callTimeout {
            throw StateServerError(.stopTimeout, "\(self) did not end within \(timeout.map { "\($0)" } ?? "")")
        }
    }
}
