/// One measured scenario: the value of each repetition, in `unit`, and how many operations each covered.
struct Figure: Sendable {
    /// The scenario's stable name, shared with the Erlang/OTP side of the comparison.
    var scenario: String
    /// What was measured, for people.
    var summary: String
    /// `ns/call`, `ns/message`, `ns/event`, `bytes/server`, ... (the units of the Erlang/OTP side)
    var unit: String
    /// Operations per repetition (calls, casts, events, servers).
    var operations: Int
    /// One value per repetition, in `unit`.
    var samples: [Double]
    /// Whether `unit` is a time per operation, so that a rate per second is meaningful.
    var isTime: Bool

    var median: Double {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    var minimum: Double { samples.min() ?? .nan }
    var maximum: Double { samples.max() ?? .nan }

    /// Operations per second at the median, for time figures.
    var perSecond: Double? { isTime && median > 0 ? 1e9 / median : nil }
}

/// Renders figures as a Markdown table or as JSON.
enum Report {
    static func table(_ figures: [Figure]) -> String {
        let header = ["scenario", "median", "min", "max", "unit", "per second", "reps", "ops/rep"]
        var rows = [header]
        for figure in figures {
            rows.append([
                figure.scenario, format(figure.median), format(figure.minimum), format(figure.maximum), figure.unit,
                figure.perSecond.map { grouped(Int($0.rounded())) } ?? "", "\(figure.samples.count)",
                grouped(figure.operations),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "| " + cells.indices.map { column in
                let cell = cells[column]
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 || column == 4 ? cell + padding : padding + cell
            }.joined(separator: " | ") + " |"
        }
        var lines = [line(header)]
        lines.append("|" + widths.indices.map { column in
            column == 0 || column == 4
                ? String(repeating: "-", count: widths[column] + 2)
                : String(repeating: "-", count: widths[column] + 1) + ":"
        }.joined(separator: "|") + "|")
        lines += rows.dropFirst().map(line)
        var text = lines.joined(separator: "\n")
        text += "\n\n"
        text += figures.map { "- \($0.scenario): \($0.summary)" }.joined(separator: "\n")
        return text
    }

    static func json(_ figures: [Figure], machine: [String: String]) -> String {
        let machineFields = machine.keys.sorted().map { "\(quoted($0)): \(quoted(machine[$0]!))" }
        let entries = figures.map { figure in
            var fields = [
                "\"scenario\": \(quoted(figure.scenario))",
                "\"summary\": \(quoted(figure.summary))",
                "\"unit\": \(quoted(figure.unit))",
                "\"operations\": \(figure.operations)",
                "\"repetitions\": \(figure.samples.count)",
                "\"median\": \(number(figure.median))",
                "\"min\": \(number(figure.minimum))",
                "\"max\": \(number(figure.maximum))",
                "\"values\": [\(figure.samples.map(number).joined(separator: ", "))]",
            ]
            if let perSecond = figure.perSecond { fields.append("\"per_second_median\": \(number(perSecond))") }
            return "    {" + fields.joined(separator: ", ") + "}"
        }
        return """
        {
          "runtime": "StateServer",
          "machine": {\(machineFields.joined(separator: ", "))},
          "figures": [
        \(entries.joined(separator: ",\n"))
          ]
        }
        """
    }

    /// Three significant figures, at least one decimal below 100.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "-" }
        if value >= 100 { return grouped(Int(value.rounded())) }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths)"
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    private static func number(_ value: Double) -> String {
        value.isFinite ? "\((value * 100).rounded() / 100)" : "null"
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
