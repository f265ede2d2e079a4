/// The arguments of one command, taken from the front: `statem run traffic-light --events walk,state`.
///
/// `--option=value` is read as `--option value`. Mistakes throw ``UsageError`` naming the command, so every
/// command reports them the same way.
struct Arguments {
    /// The command, for messages: `run`.
    let command: String
    private var remaining: ArraySlice<String>

    init(_ arguments: [String], command: String) {
        self.command = command
        remaining = arguments.flatMap { argument -> [String] in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return [argument] }
            return [String(argument[..<equals]), String(argument[argument.index(after: equals)...])]
        }[...]
    }

    /// Whether `--help` or `-h` is among the arguments.
    var wantsHelp: Bool { remaining.contains("--help") || remaining.contains("-h") }

    /// Whether every argument has been taken.
    var isEmpty: Bool { remaining.isEmpty }

    /// The hint printed under a usage error.
    var helpHint: String { "Run 'statem \(command) --help' for usage." }

    /// Takes the next argument.
    mutating func next() -> String? { remaining.popFirst() }

    /// Takes the next argument if it is not an option (`<machine>`), or returns `nil`.
    mutating func nextOperand() -> String? {
        guard let first = remaining.first, !first.hasPrefix("-") else { return nil }
        return remaining.popFirst()
    }

    /// Takes the value of `option`, or throws when there is none.
    mutating func value(of option: String) throws -> String {
        guard let value = remaining.first, !value.hasPrefix("--") else {
            throw UsageError("\(option) needs a value", help: helpHint)
        }
        remaining.removeFirst()
        return value
    }

    /// Takes the value of `option` as a number in `range`.
    mutating func number(of option: String, in range: ClosedRange<Double>) throws -> Double {
        let text = try value(of: option)
        guard let number = Double(text), range.contains(number) else {
            throw UsageError(
                "\(option) needs a number from \(range.lowerBound) to \(range.upperBound), got '\(text)'",
                help: helpHint)
        }
        return number
    }

    /// Takes the value of `option` as a whole number in `range`.
    mutating func integer(of option: String, in range: ClosedRange<Int>) throws -> Int {
        let text = try value(of: option)
        guard let number = Int(text), range.contains(number) else {
            throw UsageError(
                "\(option) needs a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'",
                help: helpHint)
        }
        return number
    }

    /// Takes the value of `option` as a duration: seconds (`10`, `2.5`) or with a unit (`500ms`, `10s`, `2m`).
    mutating func duration(of option: String) throws -> Duration {
        let text = try value(of: option)
        guard let duration = Duration(typed: text) else {
            throw UsageError("\(option) needs a duration such as 10, 2.5s, 500ms or 2m, got '\(text)'", help: helpHint)
        }
        return duration
    }

    /// The error for an argument the command does not know.
    func unknown(_ argument: String) -> UsageError {
        argument.hasPrefix("-")
            ? UsageError("unknown option '\(argument)' for \(command)", help: helpHint)
            : UsageError("unexpected argument '\(argument)' for \(command)", help: helpHint)
    }
}

extension Duration {
    /// Parses a duration typed by a user: `5` and `5s` (seconds), `500ms`, `2m`, `1.5`. Nil for anything else,
    /// including zero and negative durations.
    init?(typed text: String) {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let number = Double(text.dropLast(unit.suffix.count)), number > 0, number.isFinite else { continue }
            let nanoseconds = number * unit.seconds * 1e9
            guard nanoseconds < 1e18 else { return nil }
            self = .nanoseconds(Int64(nanoseconds.rounded()))
            return
        }
        return nil
    }
}
