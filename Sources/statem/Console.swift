import StateServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a command writes its output and reads the lines of an interactive session.
///
/// The tool runs with ``standard()``; tests pass a console that records the output and reads a script.
///
/// Concurrency: `write` and `writeError` may be called from any thread (trace lines come from the runtime's
/// threads in real time); `input` is read by one session at a time.
struct Console: Sendable {
    /// Writes text to the output as it is (lines end with `"\n"`).
    let write: @Sendable (String) -> Void
    /// Writes text to the error output as it is.
    let writeError: @Sendable (String) -> Void
    /// The lines a user types or pipes in, or `nil` when there is no input to read (`< /dev/null`).
    let input: (any LineSource)?
    /// Whether the input is a terminal: prompts then wait on the line; otherwise each line read is echoed
    /// after its prompt, so the output reads as a transcript.
    let isInputTerminal: Bool

    /// Writes `line` and a newline to the output.
    func print(_ line: String) { write(line + "\n") }

    /// Writes `line` and a newline to the error output.
    func printError(_ line: String) { writeError(line + "\n") }
}

/// A source of input lines, read one at a time.
protocol LineSource: Sendable {
    /// The next line without its newline, or `nil` at the end of the input.
    func nextLine() async -> String?
}

extension Console {
    /// The process's standard output, standard error and standard input. Standard input is offered as session
    /// input when it is a terminal, a pipe or a file (not `/dev/null`).
    static func standard() -> Console {
        Console(
            write: { writeAll($0, to: STDOUT_FILENO) },
            writeError: { writeAll($0, to: STDERR_FILENO) },
            input: StandardInput.isReadable ? StandardInput() : nil,
            isInputTerminal: isatty(STDIN_FILENO) == 1)
    }

    /// Writes every byte of `text` with one `write` call when it can, so that lines written from different
    /// threads do not mix.
    private static func writeAll(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// `write(2)`, named so that members called `write` do not hide it.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// Standard input, read line by line on a thread of its own so that the runtime's threads and the caller's task
/// keep running while it waits (timers fire during a real-time session while the user types).
struct StandardInput: LineSource {
    /// Whether standard input is a terminal, a pipe or a regular file.
    static var isReadable: Bool {
        if isatty(STDIN_FILENO) == 1 { return true }
        var status = stat()
        guard fstat(STDIN_FILENO, &status) == 0 else { return false }
        let kind = status.st_mode & 0o170000
        return kind == 0o010000 /* FIFO */ || kind == 0o100000 /* regular file */
    }

    func nextLine() async -> String? {
        await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            // One read at a time: the caller awaits each line before asking for the next.
            // A thread of its own: the cooperative thread pool must not block on a read.
            let read: @Sendable () -> Void = { continuation.resume(returning: readLine(strippingNewline: true)) }
            if !startThread(name: "statem-stdin", read) { read() }
        }
    }
}

