import Foundation
import Resilience
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(500), maxDelay: .seconds(8), maxRetryAfter: .seconds(20))

    @Test func defaults() {
        let p = RetryPolicy()
        #expect(p.maxAttempts == 3)
        #expect(p.baseDelay == .milliseconds(500))
        #expect(p.maxDelay == .seconds(8))
        #expect(p.maxRetryAfter == .seconds(20))
        #expect(RetryPolicy.none.maxAttempts == 1)
        #expect(RetryPolicy.none.delay(afterAttempt: 1) == nil)
    }

    @Test func exponentialCapDoublesUpToMaxDelay() {
        #expect(policy.backoffCap(afterAttempt: 1) == .milliseconds(500))
        #expect(policy.backoffCap(afterAttempt: 2) == .seconds(1))
        #expect(policy.backoffCap(afterAttempt: 3) == .seconds(2))
        #expect(policy.backoffCap(afterAttempt: 5) == .seconds(8))
        #expect(policy.backoffCap(afterAttempt: 6) == .seconds(8), "capped")
        #expect(policy.backoffCap(afterAttempt: 5000) == .seconds(8), "no overflow")
    }

    @Test func fullJitterSpansZeroToTheCap() {
        var low = policy
        low.random = { 0 }
        var high = policy
        high.random = { 1 }
        var half = policy
        half.random = { 0.5 }
        var wild = policy
        wild.random = { 7 }
        for attempt in 1...4 {
            let cap = policy.backoffCap(afterAttempt: attempt)
            #expect(low.delay(afterAttempt: attempt) == .zero)
            #expect(high.delay(afterAttempt: attempt) == cap)
            #expect(half.delay(afterAttempt: attempt) == cap / 2)
            #expect(wild.delay(afterAttempt: attempt) == cap, "random() outside [0, 1] is clamped")
        }
    }

    @Test func realRandomStaysWithinBounds() throws {
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let d = try #require(policy.delay(afterAttempt: 3))
            #expect(d >= .zero && d <= .seconds(2))
            seen.insert(Int(d.inSeconds * 10))
        }
        #expect(seen.count > 10, "the draws are spread out, not constant")
    }

    @Test func noDelayAfterTheLastAttempt() {
        let p = RetryPolicy(maxAttempts: 3)
        #expect(p.delay(afterAttempt: 1) != nil)
        #expect(p.delay(afterAttempt: 2) != nil)
        #expect(p.delay(afterAttempt: 3) == nil)
        #expect(p.delay(afterAttempt: 3, retryAfter: .seconds(1)) == nil, "Retry-After does not add attempts")
    }

    @Test func retryAfterIsHonouredUpToTheCap() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3)) == .seconds(3), "longer than the backoff cap")
        #expect(policy.delay(afterAttempt: 1, retryAfter: .milliseconds(10)) == .milliseconds(10))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(20)) == .seconds(20), "the cap itself is waited for")
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(21)) == nil, "above the cap: give up at once")
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3600)) == nil)
    }

    @Test func waitsThatOutlastTheDeadlineAreRefused() {
        var p = policy
        p.random = { 1 }
        #expect(p.delay(afterAttempt: 1, retryAfter: .seconds(5), timeLeft: .seconds(4)) == nil)
        #expect(p.delay(afterAttempt: 1, retryAfter: .seconds(3), timeLeft: .seconds(4)) == .seconds(3))
        #expect(p.delay(afterAttempt: 3, timeLeft: .seconds(1)) == nil, "a 2 s backoff does not fit in 1 s")
        #expect(p.delay(afterAttempt: 1, timeLeft: .seconds(1)) == .milliseconds(500))
    }
}

@Suite struct RetryAfterTests {
    @Test func seconds() {
        #expect(RetryAfter.parse("1") == .seconds(1))
        #expect(RetryAfter.parse(" 120 ") == .seconds(120))
        #expect(RetryAfter.parse("1.5") == .milliseconds(1500))
        #expect(RetryAfter.parse("0") == .zero)
        #expect(RetryAfter.parse("-3") == nil)
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.parse("") == nil)
    }

    @Test func httpDatesInAllThreeForms() throws {
        // 1994-11-06T08:49:37Z
        let instant = Date(timeIntervalSince1970: 784_111_777)
        let now = instant.addingTimeInterval(-42)
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            #expect(RetryAfter.parse(text, now: now) == .seconds(42), "\(text)")
        }
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: instant.addingTimeInterval(5)) == .zero, "past dates wait 0")
        #expect(RetryAfter.parse("Thu, 29 Feb 2024 23:59:59 GMT", now: Date(timeIntervalSince1970: 1_709_251_199 - 1)) == .seconds(1))
        #expect(RetryAfter.parse("Sun, 06 Foo 1994 08:49:37 GMT") == nil)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
    }

    @Test func headersPreferMilliseconds() {
        #expect(RetryAfter.from(headers: ["retry-after": "2"]) == .seconds(2))
        #expect(RetryAfter.from(headers: ["retry-after": "2", "retry-after-ms": "250"]) == .milliseconds(250))
        #expect(RetryAfter.from(headers: ["retry-after-ms": "x", "retry-after": "3"]) == .seconds(3))
        #expect(RetryAfter.from(headers: [:]) == nil)
    }
}
