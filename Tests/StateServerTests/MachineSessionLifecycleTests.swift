import Machines
import StateServerTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Every row of SessionLifecycle's table (Sources/Machines/SessionLifecycle/SessionLifecycle+Table.swift), every
// timeout, configuration variants, and the guide Docs/Machines/SessionLifecycle.md kept true.

private typealias Session = SessionLifecycle
private typealias SessionInfo = SessionLifecycle.SessionInfo

/// Short durations, so the timeouts read easily: authenticate within 10 s, idle after 60 s, expire after 30 s
/// idle, live 1000 s, refresh once, answer for 5 s after the end.
private let testConfiguration = Session.Configuration(
    authenticationTimeout: .seconds(10), idleTimeout: .seconds(60), gracePeriod: .seconds(30),
    lifetime: .seconds(1000), maxRefreshes: 1, retention: .seconds(5))

private func info(_ user: String? = "alice", requests: Int = 0, refreshes: Int = 0) -> SessionInfo {
    SessionInfo(user: user, requests: requests, refreshes: refreshes)
}

/// The step a postponed call of this shape records.
private func postponed<Value: Sendable>(_ makeCall: (Reply<Value>) -> Session.Call) -> MachineTester<Session>.Step {
    .postponed("\(Event<Session>.call(makeCall(Reply())))")
}

/// The requests a session answers with an `Outcome`, for tests over all of them.
enum SessionRequest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case authenticate, touch, refresh, logout

    var testDescription: String { rawValue }

    fileprivate func send(to tester: MachineTester<Session>) -> PendingReply<Session.Outcome> {
        switch self {
        case .authenticate: tester.call { .authenticate(token: "again", $0) }
        case .touch: tester.call { .touch($0) }
        case .refresh: tester.call { .refresh($0) }
        case .logout: tester.call { .logout($0) }
        }
    }
}

private struct InvalidToken: Error, CustomStringConvertible {
    var description: String { "invalid token" }
}

/// A fake identity provider for the guide's example.
private struct IdentityProvider: Sendable {
    func verify(_ token: String) async throws -> String {
        guard token == "token-of-alice" else { throw InvalidToken() }
        return "alice"
    }
}

@Suite struct MachineSessionLifecycleTests {
    // MARK: Helpers

    /// A session driven to `active` for `alice`, every step asserted.
    private func activeSession(
        _ configuration: Session.Configuration = testConfiguration, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> MachineTester<Session> {
        let tester = try MachineTester(Session(configuration: configuration), sourceLocation: sourceLocation)
        let login = tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating, sourceLocation: sourceLocation)
        try tester.send(.authenticationSucceeded(user: "alice"))
        tester.expectReply(Session.Outcome.success(info()), sourceLocation: sourceLocation)
        tester.expectTransition(from: .authenticating, to: .active, sourceLocation: sourceLocation)
        #expect(try login.result?.get() == .success(info()), sourceLocation: sourceLocation)
        return tester
    }

    /// A session driven to `idle` (60 s without a request).
    private func idleSession(sourceLocation: SourceLocation = #_sourceLocation) throws -> MachineTester<Session> {
        let tester = try activeSession(sourceLocation: sourceLocation)
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state, sourceLocation: sourceLocation)
        tester.expectTransition(from: .active, to: .idle, sourceLocation: sourceLocation)
        return tester
    }

    /// A session logged out after authentication.
    private func closedSession(sourceLocation: SourceLocation = #_sourceLocation) throws -> MachineTester<Session> {
        let tester = try activeSession(sourceLocation: sourceLocation)
        tester.call { .logout($0) }
        tester.expectReply(Session.Outcome.success(info()), sourceLocation: sourceLocation)
        tester.expectTransition(from: .active, to: .closed, sourceLocation: sourceLocation)
        return tester
    }

    /// A session expired by idleness.
    private func expiredSession(sourceLocation: SourceLocation = #_sourceLocation) throws -> MachineTester<Session> {
        let tester = try idleSession(sourceLocation: sourceLocation)
        tester.advance(by: .seconds(30))
        tester.expectTimeout(.state, sourceLocation: sourceLocation)
        tester.expectTransition(from: .idle, to: .expired, sourceLocation: sourceLocation)
        return tester
    }

    // MARK: The table

    @Test func tableIsValid() {
        let report = Session(configuration: testConfiguration).validateTable()
        #expect(report.isValid, "\(report)")
        #expect(Session().validateTable().isValid)
    }

    @Test func tableDeclaresClosedAndExpiredFinal() {
        let table = Session().table
        #expect(table.initialState == .created)
        #expect(table.finalStates == [.closed, .expired])
        #expect(table.states == Session.State.allCases)
    }

    // MARK: created

    @Test func authenticateMovesToAuthenticatingAndAnswersOnceVerified() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        tester.expectState(.created)
        let login = tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        #expect(!login.isResolved)                                    // a deferred reply
        try tester.send(.authenticationSucceeded(user: "alice"))
        tester.expectReply(Session.Outcome.success(info()))
        tester.expectTransition(from: .authenticating, to: .active)
        #expect(try login.result?.get() == .success(info()))
        #expect(tester.data?.user == "alice")
        tester.finish()
    }

    @Test(arguments: [SessionRequest.touch, .refresh])
    func requestsBeforeAuthenticationAreRefused(_ request: SessionRequest) throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        let reply = request.send(to: tester)
        tester.expectReply(Session.Outcome.failure(.notAuthenticated))
        #expect(try reply.result?.get() == .failure(.notAuthenticated))
        tester.expectState(.created)
        tester.finish()
    }

    @Test func logoutBeforeAuthenticationCloses() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        let logout = tester.call { .logout($0) }
        tester.expectReply(Session.Outcome.success(info(nil)))
        tester.expectTransition(from: .created, to: .closed)
        #expect(try logout.result?.get() == .success(info(nil)))
        #expect(tester.data?.ending == .loggedOut)
        tester.finish()
    }

    @Test func lifetimeArmedAtCreationExpiresAnUnauthenticatedSession() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        #expect(tester.clock.nextDeadline == RuntimeInstant.zero.advanced(by: .seconds(1000)))
        tester.advance(by: .seconds(999))
        tester.expectState(.created)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .created, to: .expired)
        #expect(tester.data?.ending == .expired)
        tester.finish()
    }

    // MARK: authenticating

    @Test func authenticationFailureClosesTheSession() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        let login = tester.call { .authenticate(token: "stolen", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        try tester.send(.authenticationFailed(reason: "revoked"))
        tester.expectReply(Session.Outcome.failure(.authenticationFailed(reason: "revoked")))
        tester.expectTransition(from: .authenticating, to: .closed)
        #expect(try login.result?.get() == .failure(.authenticationFailed(reason: "revoked")))
        #expect(tester.data?.ending == .authenticationFailed(reason: "revoked"))
        tester.finish()
    }

    @Test func authenticationThatNeverEndsTimesOut() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        let login = tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        tester.advance(by: .seconds(9))
        tester.expectState(.authenticating)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectReply(Session.Outcome.failure(.authenticationTimedOut))
        tester.expectTransition(from: .authenticating, to: .closed)
        #expect(try login.result?.get() == .failure(.authenticationTimedOut))
        tester.finish()
    }

    @Test func lifetimeEndingDuringAuthenticationExpiresTheSession() throws {
        var configuration = testConfiguration
        configuration.lifetime = .seconds(5)                          // shorter than the 10 s to authenticate
        let tester = try MachineTester(Session(configuration: configuration))
        let login = tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.named(.lifetime))
        tester.expectReply(Session.Outcome.failure(.expired))
        tester.expectTransition(from: .authenticating, to: .expired)
        #expect(try login.result?.get() == .failure(.expired))
        tester.finish()
    }

    @Test func requestsDuringAuthenticationArePostponedThenHandledInOrderOnceActive() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        let login = tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        let touch = tester.call { .touch($0) }
        tester.expect(postponed { .touch($0) })
        let refresh = tester.call { .refresh($0) }
        tester.expect(postponed { .refresh($0) })
        let again = tester.call { .authenticate(token: "again", $0) }
        tester.expect(postponed { .authenticate(token: "again", $0) })
        let logout = tester.call { .logout($0) }
        tester.expect(postponed { .logout($0) })
        let status = tester.call { .info($0) }                       // info is answered at once
        tester.expectReply(info(nil))
        #expect(try status.result?.get() == info(nil))
        #expect(!touch.isResolved && !refresh.isResolved && !again.isResolved && !logout.isResolved)

        try tester.send(.authenticationSucceeded(user: "alice"))
        tester.expectReply(Session.Outcome.success(info()))
        tester.expectTransition(from: .authenticating, to: .active)
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        tester.expectReply(Session.Outcome.success(info(requests: 1, refreshes: 1)))
        tester.expectReply(Session.Outcome.failure(.alreadyAuthenticated))
        tester.expectReply(Session.Outcome.success(info(requests: 1, refreshes: 1)))
        tester.expectTransition(from: .active, to: .closed)
        #expect(try login.result?.get() == .success(info()))
        #expect(try touch.result?.get() == .success(info(requests: 1)))
        #expect(try refresh.result?.get() == .success(info(requests: 1, refreshes: 1)))
        #expect(try again.result?.get() == .failure(.alreadyAuthenticated))
        #expect(try logout.result?.get() == .success(info(requests: 1, refreshes: 1)))
        tester.finish()
    }

    @Test func requestsPostponedDuringAFailedAuthenticationGetATypedError() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        tester.call { .authenticate(token: "token", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        let requests = SessionRequest.allCases.map { request in
            let reply = request.send(to: tester)
            tester.skipRecordedSteps()                                // the postponements, asserted above
            return reply
        }
        try tester.send(.authenticationFailed(reason: "revoked"))
        let refused = Session.Outcome.failure(.authenticationFailed(reason: "revoked"))
        tester.expectReply(refused)                                   // the authenticate caller
        tester.expectTransition(from: .authenticating, to: .closed)
        for _ in SessionRequest.allCases { tester.expectReply(refused) }
        for reply in requests { #expect(try reply.result?.get() == refused) }
        tester.finish()
    }

    @Test func requestsPostponedWhenAuthenticationTimesOutGetTheTimeout() throws {
        let tester = try MachineTester(Session(configuration: testConfiguration))
        tester.call { .authenticate(token: "token", $0) }
        let touch = tester.call { .touch($0) }
        tester.advance(by: .seconds(10))
        #expect(try touch.result?.get() == .failure(.authenticationTimedOut))
        tester.expectState(.closed)
    }

    // MARK: active

    @Test func touchCountsTheRequestAndRestartsTheIdleTimer() throws {
        let tester = try activeSession()
        tester.advance(by: .seconds(50))
        let touch = tester.call { .touch($0) }
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        #expect(try touch.result?.get() == .success(info(requests: 1)))
        tester.advance(by: .seconds(59))                              // 109 s after login: still active
        tester.expectState(.active)
        tester.advance(by: .seconds(1))                               // 60 s after the touch
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.finish()
    }

    @Test func infoIsNotActivity() throws {
        let tester = try activeSession()
        tester.advance(by: .seconds(50))
        tester.call { .info($0) }
        tester.expectReply(info())
        tester.advance(by: .seconds(10))                              // 60 s after login despite the query
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.finish()
    }

    @Test func refreshExtendsTheLifetimeAndRestartsTheIdleTimer() throws {
        var configuration = testConfiguration
        configuration.lifetime = .seconds(100)
        let tester = try activeSession(configuration)
        tester.advance(by: .seconds(40))
        let refresh = tester.call { .refresh($0) }
        tester.expectReply(Session.Outcome.success(info(refreshes: 1)))
        #expect(try refresh.result?.get() == .success(info(refreshes: 1)))
        tester.advance(by: .seconds(59))                              // 99 s: idle timer restarted at 40 s
        tester.expectState(.active)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.call { .touch($0) }                                    // back to active at 100 s
        tester.expectReply(Session.Outcome.success(info(requests: 1, refreshes: 1)))
        tester.expectTransition(from: .idle, to: .active)
        tester.advance(by: .seconds(39))                              // the first lifetime would have ended
        tester.expectState(.active)
        tester.advance(by: .seconds(1))                               // 100 s after the refresh
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .active, to: .expired)
        tester.finish()
    }

    @Test func refreshBeyondTheLimitIsRefused() throws {
        let tester = try activeSession()
        tester.call { .refresh($0) }
        tester.expectReply(Session.Outcome.success(info(refreshes: 1)))
        let second = tester.call { .refresh($0) }
        tester.expectReply(Session.Outcome.failure(.refreshLimitReached))
        #expect(try second.result?.get() == .failure(.refreshLimitReached))
        tester.expectState(.active)
        tester.finish()
    }

    @Test func logoutClosesAnActiveSession() throws {
        let tester = try activeSession()
        tester.call { .touch($0) }
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        let logout = tester.call { .logout($0) }
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        tester.expectTransition(from: .active, to: .closed)
        #expect(try logout.result?.get() == .success(info(requests: 1)))
        #expect(tester.clock.armedTimerCount == 1)                   // the retention only: the lifetime is off
        tester.finish()
    }

    @Test func authenticatingTwiceIsRefused() throws {
        let tester = try activeSession()
        let again = tester.call { .authenticate(token: "other", $0) }
        tester.expectReply(Session.Outcome.failure(.alreadyAuthenticated))
        #expect(try again.result?.get() == .failure(.alreadyAuthenticated))
        tester.expectState(.active)
        tester.finish()
    }

    @Test func inactivityMakesAnActiveSessionIdle() throws {
        let tester = try activeSession()
        tester.advance(by: .seconds(59))
        tester.expectState(.active)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.finish()
    }

    @Test func lifetimeExpiresAnActiveSessionWhateverItsActivity() throws {
        let tester = try activeSession()
        for _ in 0..<19 {                                             // a request every 50 s: never idle
            tester.advance(by: .seconds(50))
            tester.call { .touch($0) }
            tester.expectReply(Session.Outcome.success(tester.data!.info))
        }
        tester.expectState(.active)                                   // 950 s after creation
        tester.advance(by: .seconds(50))
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .active, to: .expired)
        #expect(tester.data?.ending == .expired)
        tester.finish()
    }

    @Test func lifetimeSurvivesStateChanges() throws {
        var configuration = testConfiguration
        configuration.lifetime = .seconds(100)
        let tester = try activeSession(configuration)                 // created → authenticating → active
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.advance(by: .seconds(10))
        tester.call { .touch($0) }
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        tester.expectTransition(from: .idle, to: .active)
        tester.advance(by: .seconds(30))                              // 100 s after creation, four states later
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .active, to: .expired)
        tester.finish()
    }

    // MARK: idle

    @Test func touchReactivatesAnIdleSession() throws {
        let tester = try idleSession()
        let touch = tester.call { .touch($0) }
        tester.expectReply(Session.Outcome.success(info(requests: 1)))
        tester.expectTransition(from: .idle, to: .active)
        #expect(try touch.result?.get() == .success(info(requests: 1)))
        tester.advance(by: .seconds(60))                              // active's timer starts again on entry
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.finish()
    }

    @Test func refreshReactivatesAnIdleSessionAndExtendsItsLifetime() throws {
        var configuration = testConfiguration
        configuration.lifetime = .seconds(100)
        let tester = try activeSession(configuration)
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.advance(by: .seconds(20))
        let refresh = tester.call { .refresh($0) }                   // at 80 s: lifetime now ends at 180 s
        tester.expectReply(Session.Outcome.success(info(refreshes: 1)))
        tester.expectTransition(from: .idle, to: .active)
        #expect(try refresh.result?.get() == .success(info(refreshes: 1)))
        tester.advance(by: .seconds(50))
        tester.call { .touch($0) }                                    // 130 s
        tester.expectReply(Session.Outcome.success(info(requests: 1, refreshes: 1)))
        tester.advance(by: .seconds(49))
        tester.expectState(.active)                                   // 179 s
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .active, to: .expired)
        tester.finish()
    }

    @Test func refreshBeyondTheLimitLeavesAnIdleSessionIdle() throws {
        var configuration = testConfiguration
        configuration.maxRefreshes = 0
        let tester = try activeSession(configuration)
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        let refresh = tester.call { .refresh($0) }
        tester.expectReply(Session.Outcome.failure(.refreshLimitReached))
        #expect(try refresh.result?.get() == .failure(.refreshLimitReached))
        tester.advance(by: .seconds(30))                              // the grace period was not restarted
        tester.expectTimeout(.state)
        tester.expectTransition(from: .idle, to: .expired)
        tester.finish()
    }

    @Test func logoutClosesAnIdleSession() throws {
        let tester = try idleSession()
        let logout = tester.call { .logout($0) }
        tester.expectReply(Session.Outcome.success(info()))
        tester.expectTransition(from: .idle, to: .closed)
        #expect(try logout.result?.get() == .success(info()))
        tester.finish()
    }

    @Test func authenticatingAnIdleSessionIsRefused() throws {
        let tester = try idleSession()
        let again = tester.call { .authenticate(token: "other", $0) }
        tester.expectReply(Session.Outcome.failure(.alreadyAuthenticated))
        #expect(try again.result?.get() == .failure(.alreadyAuthenticated))
        tester.expectState(.idle)
        tester.finish()
    }

    @Test func idlenessBeyondTheGracePeriodExpiresTheSession() throws {
        let tester = try idleSession()
        tester.advance(by: .seconds(29))
        tester.expectState(.idle)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .idle, to: .expired)
        #expect(tester.data?.ending == .expired)
        tester.finish()
    }

    @Test func lifetimeExpiresAnIdleSession() throws {
        var configuration = testConfiguration
        configuration.lifetime = .seconds(70)
        let tester = try activeSession(configuration)
        tester.advance(by: .seconds(60))
        tester.expectTimeout(.state)
        tester.expectTransition(from: .active, to: .idle)
        tester.advance(by: .seconds(10))
        tester.expectTimeout(.named(.lifetime))
        tester.expectTransition(from: .idle, to: .expired)
        tester.finish()
    }

    // MARK: closed and expired

    @Test(arguments: SessionRequest.allCases)
    func closedSessionRefusesRequestsWithItsEnding(_ request: SessionRequest) throws {
        let tester = try closedSession()
        let reply = request.send(to: tester)
        tester.expectReply(Session.Outcome.failure(.loggedOut))
        #expect(try reply.result?.get() == .failure(.loggedOut))
        tester.expectState(.closed)
        tester.finish()
    }

    @Test(arguments: SessionRequest.allCases)
    func expiredSessionRefusesRequests(_ request: SessionRequest) throws {
        let tester = try expiredSession()
        let reply = request.send(to: tester)
        tester.expectReply(Session.Outcome.failure(.expired))
        #expect(try reply.result?.get() == .failure(.expired))
        tester.expectState(.expired)
        tester.finish()
    }

    @Test func closedSessionStopsAfterItsRetention() async throws {
        let tester = try closedSession()
        tester.advance(by: .seconds(4))
        #expect(tester.server.isAlive)
        tester.advance(by: .seconds(1))
        tester.expectTimeout(.state)
        tester.expectExit(.normal)
        #expect(try await tester.server.waitForExit().isNormal)
        tester.finish()
    }

    @Test func expiredSessionStopsAfterItsRetention() async throws {
        let tester = try expiredSession()
        tester.advance(by: .seconds(5))
        tester.expectTimeout(.state)
        tester.expectExit(.normal)
        #expect(try await tester.server.waitForExit().isNormal)
        tester.finish()
    }

    @Test func finalStatesCancelTheLifetime() throws {
        let closed = try closedSession()
        closed.advance(by: .seconds(4))
        #expect(closed.clock.armedTimerCount == 1)                    // retention only
        closed.finish()
        let expired = try expiredSession()
        #expect(expired.clock.armedTimerCount == 1)
        expired.finish()
    }

    // MARK: Always

    @Test(arguments: Session.State.allCases)
    func infoIsAnsweredInEveryState(_ state: SessionLifecycle.State) async throws {
        let tester = try MachineTester(Session(configuration: testConfiguration), exhaustive: false)
        switch state {
        case .created: break
        case .authenticating: tester.call { .authenticate(token: "token", $0) }
        case .active, .idle, .closed, .expired:
            tester.call { .authenticate(token: "token", $0) }
            try tester.send(.authenticationSucceeded(user: "alice"))
            if state == .closed { tester.call { .logout($0) } }
            if state == .idle { tester.advance(by: .seconds(60)) }
            if state == .expired { tester.advance(by: .seconds(90)) }
        }
        tester.expectState(state)
        let status = try await tester.server.call { .info($0) }
        #expect(status == info(state == .created || state == .authenticating ? nil : "alice"))
        tester.expectState(state)
    }

    // MARK: The authenticator, run off the server

    @Test func authenticatorRunsAsAnEffectAndItsUserIsAdmitted() async throws {
        let gate = RuntimeGate()
        let seen = RuntimeRecording<String>()
        let tester = try MachineTester(Session(configuration: testConfiguration) { token in
            seen.append(token)
            await gate.wait()
            return "user-of-\(token)"
        })
        let login = tester.call { .authenticate(token: "t1", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        let touch = tester.call { .touch($0) }
        tester.expect(postponed { .touch($0) })
        gate.open()
        await tester.runtime.waitForEffects()
        tester.expectReply(Session.Outcome.success(info("user-of-t1")))
        tester.expectTransition(from: .authenticating, to: .active)
        tester.expectReply(Session.Outcome.success(info("user-of-t1", requests: 1)))
        #expect(try login.result?.get() == .success(info("user-of-t1")))
        #expect(try touch.result?.get() == .success(info("user-of-t1", requests: 1)))
        #expect(seen.elements == ["t1"])
        tester.finish()
    }

    @Test func authenticatorErrorClosesTheSessionWithItsDescription() async throws {
        let tester = try MachineTester(Session(configuration: testConfiguration) { _ in throw InvalidToken() })
        let login = tester.call { .authenticate(token: "t1", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        await tester.runtime.waitForEffects()
        tester.expectReply(Session.Outcome.failure(.authenticationFailed(reason: "invalid token")))
        tester.expectTransition(from: .authenticating, to: .closed)
        #expect(try login.result?.get() == .failure(.authenticationFailed(reason: "invalid token")))
        tester.finish()
    }

    @Test func authenticatorFinishingAfterTheTimeoutIsIgnored() async throws {
        let gate = RuntimeGate()
        let tester = try MachineTester(Session(configuration: testConfiguration) { _ in
            await gate.wait()
            return "alice"
        })
        let login = tester.call { .authenticate(token: "t1", $0) }
        tester.expectTransition(from: .created, to: .authenticating)
        tester.advance(by: .seconds(10))
        tester.expectTimeout(.state)
        tester.expectReply(Session.Outcome.failure(.authenticationTimedOut))
        tester.expectTransition(from: .authenticating, to: .closed)
        gate.open()
        await tester.runtime.waitForEffects()
        tester.expectState(.closed)
        #expect(tester.data?.user == nil)
        #expect(try login.result?.get() == .failure(.authenticationTimedOut))
        tester.finish()
    }

    @Test func outcomesOutsideAuthenticationAreIgnored() throws {
        let tester = try activeSession()
        try tester.send(.authenticationSucceeded(user: "mallory"))
        try tester.send(.authenticationFailed(reason: "late"))
        tester.expectState(.active)
        #expect(tester.data?.user == "alice")
        tester.finish()
    }

    // MARK: Configuration

    @Test func unlimitedRefreshes() throws {
        var configuration = testConfiguration
        configuration.maxRefreshes = nil
        let tester = try activeSession(configuration)
        for count in 1...10 {
            tester.call { .refresh($0) }
            tester.expectReply(Session.Outcome.success(info(refreshes: count)))
        }
        tester.finish()
    }

    @Test func defaultConfigurationTimings() throws {
        let tester = try MachineTester(Session(), exhaustive: false)
        tester.call { .authenticate(token: "token", $0) }
        try tester.send(.authenticationSucceeded(user: "alice"))
        tester.advance(by: .seconds(15 * 60))
        tester.expectTransition(from: .active, to: .idle)
        tester.advance(by: .seconds(5 * 60))
        tester.expectTransition(from: .idle, to: .expired)
        tester.advance(by: .seconds(60))
        tester.expectExit(.normal)
        tester.finish()
    }

    @Test func speededUpConfigurationDividesEveryDuration() {
        let fast = Session.Configuration().speeded(up: 60)
        #expect(fast.idleTimeout == .seconds(15))
        #expect(fast.lifetime == .seconds(8 * 60))
        #expect(fast.authenticationTimeout == .milliseconds(500))
        #expect(fast.maxRefreshes == 3)
    }

    @Test func twoConfigurationsRunSideBySide() throws {
        var short = testConfiguration
        short.idleTimeout = .seconds(10)
        let quick = try activeSession(short)
        let slow = try activeSession()
        quick.advance(by: .seconds(10))
        slow.advance(by: .seconds(10))
        #expect(quick.state == .idle)
        #expect(slow.state == .active)
    }

    @Test(arguments: [
        Session.Configuration(idleTimeout: .zero),
        Session.Configuration(lifetime: .seconds(-1)),
        Session.Configuration(maxRefreshes: -1),
    ])
    func invalidConfigurationDoesNotStart(_ configuration: SessionLifecycle.Configuration) throws {
        let runtime = Runtime(clock: ManualClock())
        let error = #expect(throws: StateServerError.self) { try runtime.start(Session(configuration: configuration)) }
        #expect(error?.code == .startFailed)
        guard case .error(let cause as StateServerError)? = error?.exitReason else {
            Issue.record("expected an invalidArgument exit reason, got \(String(describing: error?.exitReason))")
            return
        }
        #expect(cause.code == .invalidArgument)
    }

    // MARK: The guide

    @Test func guideShowsTheGeneratedDiagram() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/SessionLifecycle.md"))
        let diagram = Session().table.mermaidDiagram()
        #expect(guide.contains("```mermaid\n" + diagram + "```"), "paste this diagram:\n\(diagram)")
    }

    @Test func guideShowsTheTable() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/SessionLifecycle.md"))
        let source = try #require(MachineGuide.read("Sources/Machines/SessionLifecycle/SessionLifecycle+Table.swift"))
        let table = try #require(MachineGuide.declaration(in: source, startingWith: "@TransitionTableBuilder<Self> public var table:"))
        #expect(guide.contains(table), "paste this table:\n\(table)")
    }

    @Test func guideShowsTheUsageOfThisFile() throws {
        let guide = try #require(MachineGuide.read("Docs/Machines/SessionLifecycle.md"))
        let usage = try #require(MachineGuide.snippet(in: #filePath))
        #expect(guide.contains(usage), "paste this usage:\n\(usage)")
    }

    @Test func usage() async throws {
        let identityProvider = IdentityProvider()
        // usage:begin
        let runtime = Runtime(clock: ManualClock())                  // virtual time here; Runtime() in an app
        let session = try runtime.start(SessionLifecycle(
            configuration: SessionLifecycle.Configuration(idleTimeout: .seconds(600), lifetime: .seconds(3600)),
            authenticator: { token in try await identityProvider.verify(token) }))

        // A request that arrives while the token is verified is postponed, and answered once the session is active.
        let login = session.request { .authenticate(token: "token-of-alice", $0) }
        let early = session.request { .touch($0) }
        #expect(try await login.value() == .success(SessionLifecycle.SessionInfo(user: "alice", requests: 0, refreshes: 0)))
        #expect(try await early.value() == .success(SessionLifecycle.SessionInfo(user: "alice", requests: 1, refreshes: 0)))

        switch try await session.call({ .touch($0) }) {
        case .success(let info): #expect(info.requests == 2)
        case .failure(let error): Issue.record("refused: \(error)")  // .expired, .loggedOut, …
        }
        _ = try await session.call { .logout($0) }
        #expect(try await session.call { .touch($0) } == .failure(.loggedOut))
        // usage:end
    }
}
