import Resilience
import Synchronization
import Testing

/// Time that moves only when told to.
final class FakeClock: Sendable {
    private let start = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)
    func advance(_ d: Duration) { offset.withLock { $0 += d } }
    var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    var function: @Sendable () -> ContinuousClock.Instant { { self.now } }
}

@Suite struct CircuitBreakerTests {
    let clock = FakeClock()

    func breaker(threshold: Int = 3, open: Duration = .seconds(30)) -> CircuitBreaker {
        CircuitBreaker(failureThreshold: threshold, openDuration: open, now: clock.function)
    }

    func fail(_ b: CircuitBreaker, times: Int) throws {
        for _ in 0..<times { b.recordFailure(try b.acquire()) }
    }

    @Test func defaults() {
        let b = CircuitBreaker()
        #expect(b.failureThreshold == 5)
        #expect(b.openDuration == .seconds(30))
        #expect(b.state == .closed)
    }

    @Test func opensAfterThresholdConsecutiveFailures() throws {
        let b = breaker()
        try fail(b, times: 2)
        #expect(b.state == .closed)
        #expect(b.consecutiveFailures == 2)
        try fail(b, times: 1)
        #expect(b.state == .open)
    }

    @Test func aSuccessResetsTheCount() throws {
        let b = breaker()
        try fail(b, times: 2)
        b.recordSuccess(try b.acquire())
        #expect(b.consecutiveFailures == 0)
        try fail(b, times: 2)
        #expect(b.state == .closed, "2 + 2 failures, not 4 in a row")
    }

    @Test func clientErrorsDoNotCount() throws {
        let b = breaker()
        try fail(b, times: 2)
        for _ in 0..<10 { b.release(try b.acquire()) }  // 400s, 401s, 429s
        #expect(b.state == .closed)
        #expect(b.consecutiveFailures == 2, "released permits neither count nor reset")
        try fail(b, times: 1)
        #expect(b.state == .open)
    }

    @Test func openFailsFastUntilTheDurationEnds() throws {
        let b = breaker()
        try fail(b, times: 3)
        clock.advance(.seconds(10))
        let error = #expect(throws: CircuitOpenError.self) { try b.acquire() }
        #expect(error?.retryAfter == .seconds(20))
        #expect(error?.description == "circuit open; retry in 20 s")
        clock.advance(.seconds(19))
        #expect(throws: CircuitOpenError.self) { try b.acquire() }
        clock.advance(.seconds(1))
        #expect(b.state == .halfOpen)
    }

    @Test func halfOpenLetsOneProbeThrough() throws {
        let b = breaker()
        try fail(b, times: 3)
        clock.advance(.seconds(30))
        let probe = try b.acquire()
        #expect(probe.isProbe)
        #expect(b.state == .halfOpen)
        for _ in 0..<5 {
            #expect(throws: CircuitOpenError.self, "only one probe at a time") { try b.acquire() }
        }
        b.recordSuccess(probe)
        #expect(b.state == .closed)
        let next = try b.acquire()
        #expect(!next.isProbe)
    }

    @Test func aFailedProbeReopensForAFullDuration() throws {
        let b = breaker()
        try fail(b, times: 3)
        clock.advance(.seconds(31))
        let probe = try b.acquire()
        clock.advance(.seconds(2))
        b.recordFailure(probe)
        #expect(b.state == .open)
        let error = #expect(throws: CircuitOpenError.self) { try b.acquire() }
        #expect(error?.retryAfter == .seconds(30))
        clock.advance(.seconds(30))
        #expect(try b.acquire().isProbe)
    }

    @Test func aReleasedProbeFreesTheSlot() throws {
        let b = breaker()
        try fail(b, times: 3)
        clock.advance(.seconds(30))
        b.release(try b.acquire())  // the probe got a 400: says nothing either way
        #expect(b.state == .halfOpen)
        let second = try b.acquire()
        #expect(second.isProbe)
        b.recordSuccess(second)
        #expect(b.state == .closed)
    }

    @Test func aLostProbeDoesNotBlockForever() throws {
        let b = breaker(open: .seconds(10))
        try fail(b, times: 3)
        clock.advance(.seconds(10))
        _ = try b.acquire()  // never reported
        #expect(throws: CircuitOpenError.self) { try b.acquire() }
        clock.advance(.seconds(10))
        #expect(try b.acquire().isProbe)
    }

    @Test func stalePermitsAreIgnored() throws {
        let b = breaker()
        let slow = try b.acquire()  // sent while closed, answers late
        try fail(b, times: 3)
        b.recordSuccess(slow)
        #expect(b.state == .open, "a success from before the outage does not close the breaker")

        clock.advance(.seconds(30))
        let probe = try b.acquire()
        let staleFailure = slow
        b.recordFailure(staleFailure)
        #expect(b.state == .halfOpen, "nor does a stale failure decide the probe")
        b.recordSuccess(probe)
        #expect(b.state == .closed)
        b.recordFailure(probe)
        #expect(b.consecutiveFailures == 0, "a permit counts once")
    }

    @Test func concurrentUseIsSafe() async throws {
        let b = CircuitBreaker(failureThreshold: 1_000_000)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 {
                        guard let p = try? b.acquire() else { continue }
                        if i % 2 == 0 { b.recordFailure(p) } else { b.release(p) }
                    }
                }
            }
        }
        #expect(b.consecutiveFailures == 4000)
    }
}
