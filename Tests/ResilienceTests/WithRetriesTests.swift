import Resilience
import Testing

struct Failure: Error, Equatable {
    var kind: String
    var retryAfter: Duration?
}

func classify(_ error: any Error) -> FailureClass {
    guard let f = error as? Failure else { return .permanent }
    switch f.kind {
    case "500": return .unhealthy()
    case "garbage": return .unhealthy(attemptLimit: 2)
    case "429": return .throttled(retryAfter: f.retryAfter)
    default: return .permanent
    }
}

@Suite struct WithRetriesTests {
    let clock = FakeClock()
    let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .seconds(1), maxRetryAfter: .seconds(5),
                             random: { 1 })

    /// Runs `withRetries` over a script of outcomes (nil = success), recording attempts and waits.
    func run(_ script: [Failure?], policy: RetryPolicy? = nil, breaker: CircuitBreaker? = nil,
             deadline: ContinuousClock.Instant? = nil) async -> (result: Result<Int, any Error>, attempts: Int, waits: [Duration]) {
        var attempts = 0
        var waits: [Duration] = []
        let result: Result<Int, any Error>
        do {
            let v = try await withRetries(policy: policy ?? self.policy, breaker: breaker, deadline: deadline, classify: classify,
                                          sleep: { waits.append($0) }) { attempt in
                attempts = attempt
                if attempt <= script.count, let f = script[attempt - 1] { throw f }
                return attempt
            }
            result = .success(v)
        } catch {
            result = .failure(error)
        }
        return (result, attempts, waits)
    }

    @Test func succeedsAfterUnhealthyFailuresWithBackoff() async throws {
        let r = await run([Failure(kind: "500"), Failure(kind: "500"), nil])
        #expect(try r.result.get() == 3)
        #expect(r.waits == [.milliseconds(100), .milliseconds(200)])
    }

    @Test func givesUpAfterMaxAttemptsWithTheLastError() async {
        let r = await run([Failure(kind: "500"), Failure(kind: "500"), Failure(kind: "500"), nil])
        #expect(r.attempts == 3)
        #expect(r.waits.count == 2)
        #expect((try? r.result.get()) == nil)
        if case .failure(let e) = r.result { #expect(e as? Failure == Failure(kind: "500")) }
    }

    @Test func permanentFailuresAreNotRetried() async {
        let r = await run([Failure(kind: "400"), nil])
        #expect(r.attempts == 1)
        #expect(r.waits.isEmpty)
        if case .failure(let e) = r.result { #expect(e as? Failure == Failure(kind: "400")) }
    }

    @Test func retryAfterIsWaitedForWhenItFits() async throws {
        let r = await run([Failure(kind: "429", retryAfter: .seconds(2)), nil])
        #expect(try r.result.get() == 2)
        #expect(r.waits == [.seconds(2)])
    }

    @Test func retryAfterAboveTheCapFailsAtOnce() async {
        let r = await run([Failure(kind: "429", retryAfter: .seconds(60)), nil])
        #expect(r.attempts == 1)
        #expect(r.waits.isEmpty)
        if case .failure(let e) = r.result { #expect((e as? Failure)?.retryAfter == .seconds(60)) }
    }

    @Test func retryAfterBeyondTheDeadlineFailsAtOnce() async {
        let r = await run([Failure(kind: "429", retryAfter: .seconds(3)), nil], deadline: .now + .seconds(2))
        #expect(r.attempts == 1)
        #expect(r.waits.isEmpty)
    }

    @Test func attemptLimitCapsAKind() async {
        let r = await run([Failure(kind: "garbage"), Failure(kind: "garbage"), nil])
        #expect(r.attempts == 2, "garbage is retried once, not twice")
    }

    @Test func anOpenBreakerSendsNothing() async throws {
        let b = CircuitBreaker(failureThreshold: 1, openDuration: .seconds(30), now: clock.function)
        b.recordFailure(try b.acquire())
        let r = await run([nil], breaker: b)
        #expect(r.attempts == 0)
        if case .failure(let e) = r.result { #expect(e is CircuitOpenError) } else { Issue.record("expected a failure") }
    }

    @Test func aBreakerTrippedByTheLoopEndsItWithTheRealError() async {
        let b = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(30), now: clock.function)
        let r = await run([Failure(kind: "500"), Failure(kind: "500"), nil], breaker: b)
        #expect(r.attempts == 2)
        #expect(b.state == .open)
        if case .failure(let e) = r.result { #expect(e as? Failure == Failure(kind: "500")) }
    }

    @Test func onlyUnhealthyFailuresTripTheBreaker() async {
        let b = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(30), now: clock.function)
        for _ in 0..<5 {
            _ = await run([Failure(kind: "401")], breaker: b)
            _ = await run([Failure(kind: "429", retryAfter: .seconds(99))], breaker: b)
        }
        #expect(b.state == .closed)
        #expect(b.consecutiveFailures == 0)
        _ = await run([Failure(kind: "500"), nil], breaker: b)
        #expect(b.state == .closed, "the retry succeeded and reset the count")
    }

    @Test func realSleepIsUsedByDefault() async throws {
        let fast = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(30), random: { 1 })
        let start = ContinuousClock.now
        var calls = 0
        let v = try await withRetries(policy: fast, classify: classify) { attempt in
            calls += 1
            if attempt == 1 { throw Failure(kind: "500") }
            return "ok"
        }
        #expect(v == "ok")
        #expect(calls == 2)
        #expect(ContinuousClock.now - start >= .milliseconds(30))
    }

    @Test func cancellationIsNotRetried() async {
        let b = CircuitBreaker(failureThreshold: 1)
        var calls = 0
        var thrown: (any Error)?
        do {
            _ = try await withRetries(policy: policy, breaker: b, classify: { _ in .unhealthy() }) { _ -> Int in
                calls += 1
                throw CancellationError()
            }
        } catch {
            thrown = error
        }
        #expect(thrown is CancellationError)
        #expect(calls == 1)
        #expect(b.state == .closed, "a cancelled call says nothing about the service")
    }
}
