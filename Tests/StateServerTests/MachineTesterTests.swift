import Machines
import StateServerTesting
import Testing

@Suite struct MachineTesterTests {
    @Test func exhaustiveTesterFollowsTheTrafficLightCycle() async throws {
        let tester = try MachineTester(TrafficLight())
        tester.expectState(.red)
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .red, to: .green)
        try tester.cast(.walkButtonPressed)
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.named(.walk))
        tester.expectTransition(from: .green, to: .yellow)
        tester.call { .currentState($0) }
        tester.expectReply(TrafficLight.State.yellow)
        tester.finish()
    }

    @Test func aMissedAssertionFailsAtFinish() async throws {
        let tester = try MachineTester(TrafficLight())
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        withKnownIssue("the transition red → green was not asserted") {
            tester.finish()
        }
    }

    @Test func aWrongExpectationFailsWithExpectedAndActual() async throws {
        let tester = try MachineTester(TrafficLight())
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state)
        withKnownIssue {
            tester.expectTransition(from: .red, to: .yellow)
        } matching: { issue in
            let text = issue.comments.map(\.rawValue).joined()
            return text.contains("expected: transition red → yellow") && text.contains("actual: transition red → green")
        }
        tester.finish()
    }

    @Test func expectingAStepThatNeverHappenedFails() async throws {
        let tester = try MachineTester(TrafficLight())
        withKnownIssue {
            tester.expectTransition(from: .red, to: .green)
        }
        tester.finish()
    }

    @Test func aWrongStateFails() async throws {
        let tester = try MachineTester(TrafficLight())
        withKnownIssue {
            tester.expectState(.green)
        }
        tester.finish()
    }

    @Test func nonExhaustiveTesterSkipsUnassertedSteps() async throws {
        let tester = try MachineTester(TrafficLight(), exhaustive: false)
        tester.advance(by: .seconds(57))
        tester.expectTransition(from: .green, to: .yellow)
        tester.expectState(.yellow)
        tester.finish()
    }

    @Test func testerRecordsTheExit() async throws {
        let tester = try MachineTester(TrafficLight())
        try await tester.server.stop(.shutdown)
        tester.expectExit(.shutdown)
        tester.finish()
    }
}
