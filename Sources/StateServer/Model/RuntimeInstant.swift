/// A point on a runtime's monotonic timeline, in nanoseconds since the runtime started.
///
/// Under the system clock it follows `ContinuousClock`; under a ``ManualClock`` it moves only when the test
/// advances the clock. Use it for absolute timeouts (`.stateTimeout(.at(deadline))`).
public struct RuntimeInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the runtime's clock started.
    public var nanoseconds: Int64

    /// Creates an instant `nanoseconds` after the runtime's start.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The runtime's start.
    public static let zero = RuntimeInstant(nanoseconds: 0)

    /// This instant moved by `duration` (saturating at the ends of the timeline).
    public func advanced(by duration: Duration) -> RuntimeInstant {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(duration.nanoseconds)
        if overflow { return RuntimeInstant(nanoseconds: duration.isNegative ? .min : .max) }
        return RuntimeInstant(nanoseconds: sum)
    }

    /// The duration from `other` to this instant.
    public func duration(since other: RuntimeInstant) -> Duration {
        .nanoseconds(nanoseconds &- other.nanoseconds)
    }

    /// `lhs` moved by `rhs`.
    public static func + (lhs: RuntimeInstant, rhs: Duration) -> RuntimeInstant { lhs.advanced(by: rhs) }

    /// Orders instants by time.
    public static func < (lhs: RuntimeInstant, rhs: RuntimeInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The instant as seconds since the start, for traces: `t=1.250s`.
    public var description: String {
        let millis = nanoseconds / 1_000_000
        let seconds = millis / 1000
        let fraction = abs(millis % 1000)
        let padded = String(fraction).count < 3 ? String(repeating: "0", count: 3 - String(fraction).count) + String(fraction) : String(fraction)
        return "t=\(seconds).\(padded)s"
    }
}

extension Duration {
    /// The duration's count of attoseconds as the two halves of a 128-bit integer. `Duration` is a frozen struct of
    /// exactly these two words (low, then high); its own comparisons are calls into the standard library, where
    /// these are two loads, on every call and every timeout action.
    @inlinable var attosecondWords: (low: UInt64, high: Int64) {
        unsafeBitCast(self, to: (low: UInt64, high: Int64).self)
    }

    /// Whether the duration is exactly zero (`self == .zero`, inline).
    @inlinable var isZero: Bool {
        let words = attosecondWords
        return words.low == 0 && words.high == 0
    }

    /// Whether the duration is negative (`self < .zero`, inline).
    @inlinable var isNegative: Bool { attosecondWords.high < 0 }

    /// The duration in whole nanoseconds (truncated toward zero), saturating at `Int64` bounds.
    @inlinable
    var nanoseconds: Int64 {
        // Durations under about nine seconds (most timeouts) fit in 64 bits of attoseconds: one 64-bit division,
        // inline, where `components` divides 128 bits in a call.
        let words = attosecondWords
        let small = Int64(bitPattern: words.low)
        if words.high == small >> 63 { return small / 1_000_000_000 }
        return Self.wideNanoseconds(self)
    }

    /// ``nanoseconds`` of a duration whose attoseconds do not fit in 64 bits.
    @usableFromInline
    static func wideNanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}
