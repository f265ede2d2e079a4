import Testing
@testable import StateServer

/// `Duration`'s inline tests read its two words directly: they must agree with the standard library's comparisons
/// for every kind of value (this fails if the layout of `Duration` ever changes).
@Suite struct DurationWordsTests {
    static let samples: [Duration] = [
        .zero, .nanoseconds(1), .nanoseconds(-1), .seconds(1), .seconds(-1), .milliseconds(250), .seconds(9),
        .seconds(10), .seconds(-10), .seconds(Int64.max), .seconds(Int64.min), .seconds(86_400 * 365),
        Duration(secondsComponent: 0, attosecondsComponent: 1), Duration(secondsComponent: 0, attosecondsComponent: -1),
        Duration(secondsComponent: -3, attosecondsComponent: 5),
    ]

    @Test(arguments: samples)
    func zeroAndSignAgreeWithTheStandardLibrary(duration: Duration) {
        #expect(duration.isZero == (duration == .zero))
        #expect(duration.isNegative == (duration < .zero))
    }

    @Test(arguments: samples + [.nanoseconds(Int64.max), .nanoseconds(Int64.min), .seconds(9_223_372_036)])
    func nanosecondsAgreeWithTheAttoseconds(duration: Duration) {
        // Truncated toward zero; saturated where the count does not fit in 64 bits.
        let exact = duration.attoseconds / 1_000_000_000
        let expected = Int64(exactly: exact) ?? (exact < 0 ? .min : .max)
        #expect(duration.nanoseconds == expected)
    }

    @Test func theWordsAreTheAttosecondsLowHalfFirst() {
        #expect(Duration.seconds(1).attosecondWords == (low: 1_000_000_000_000_000_000, high: 0))
        #expect(Duration.nanoseconds(-1).attosecondWords == (low: UInt64.max - 999_999_999, high: -1))
        // 100 s is 10^20 attoseconds: more than 64 bits.
        let words = Duration.seconds(100).attosecondWords
        #expect(words.high == 5)
        #expect(words.low == 7_766_279_631_452_241_920)  // 10^20 - 5 * 2^64
    }
}
