// Retry policies and circuit breakers for calls to remote services (embedding and LLM APIs).
//
// The loop lives here, not in each provider, so that every remote call answers the same three
// questions the same way: may this failure be retried, does it say the service is unhealthy
// (and so count toward the breaker), and did the server say how long to wait.

/// What a failed attempt means for the retry loop and the breaker.
package struct FailureClass: Sendable, Equatable {
    /// Whether another attempt might succeed.
    package var retryable: Bool
    /// Whether it says the service is unhealthy (counts toward opening the breaker). A rejected
    /// request or a rate limit says the opposite: the service is up and answering.
    package var unhealthy: Bool
    /// The wait the server asked for.
    package var retryAfter: Duration?
    /// Tries allowed in all once a failure of this kind happens, when fewer than the policy's: an
    /// answer that is garbage once is likely garbage again (a proxy in the way, a wrong model),
    /// so it is worth one more look, not three.
    package var attemptLimit: Int?

    package init(retryable: Bool, unhealthy: Bool, retryAfter: Duration? = nil, attemptLimit: Int? = nil) {
        self.retryable = retryable
        self.unhealthy = unhealthy
        self.retryAfter = retryAfter
        self.attemptLimit = attemptLimit
    }

    /// The caller's fault (400, 401, 404...): retrying sends the same wrong request again.
    package static let permanent = FailureClass(retryable: false, unhealthy: false)
    /// 5xx, timeouts, refused connections: worth retrying, and a sign the service is in trouble.
    package static func unhealthy(attemptLimit: Int? = nil) -> FailureClass {
        FailureClass(retryable: true, unhealthy: true, attemptLimit: attemptLimit)
    }
    /// 429: retry after the server's wait, if it fits the policy; the service itself is fine.
    package static func throttled(retryAfter: Duration?) -> FailureClass {
        FailureClass(retryable: true, unhealthy: false, retryAfter: retryAfter)
    }
}

/// Runs `operation` until it succeeds, a failure is not worth retrying, or the policy's attempts
/// (or the time before `deadline`) run out. Each attempt first asks `breaker` for a permit and
/// reports how it went.
///
/// Throws the last attempt's own error, so callers keep their typed errors and messages. The one
/// exception is a breaker already open when the call starts: then nothing is sent and the error
/// is `CircuitOpenError`. If the breaker opens during the loop (these very failures tripping it),
/// the last real error is thrown rather than `CircuitOpenError`, since it says what went wrong.
/// Cancellation during a wait throws `CancellationError`.
///
/// - Parameters:
///   - classify: what a failure means (see `FailureClass`). Errors it calls permanent are thrown
///     at once and leave the breaker as it was.
///   - sleep: how to wait; injectable so tests of the loop need not sleep.
///   - operation: one attempt; receives its 1-based number.
nonisolated(nonsending) package func withRetries<T>(
    policy: RetryPolicy,
    breaker: CircuitBreaker? = nil,
    deadline: ContinuousClock.Instant? = nil,
    classify: (any Error) -> FailureClass,
    sleep: nonisolated(nonsending) (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
    operation: nonisolated(nonsending) (_ attempt: Int) async throws -> T
) async throws -> T {
    var attempt = 0
    var lastFailure: (any Error)?
    while true {
        attempt += 1
        var permit: CircuitBreaker.Permit?
        if let breaker {
            do {
                permit = try breaker.acquire()
            } catch {
                // Our own failures may just have opened it: say what they were, not "open".
                throw lastFailure ?? error
            }
        }
        let failure: any Error
        do {
            let value = try await operation(attempt)
            if let permit { breaker?.recordSuccess(permit) }
            return value
        } catch {
            failure = error
        }
        lastFailure = failure
        let kind = failure is CancellationError ? .permanent : classify(failure)
        if let permit {
            if kind.unhealthy { breaker?.recordFailure(permit) } else { breaker?.release(permit) }
        }
        guard kind.retryable, attempt < (kind.attemptLimit ?? .max) else { throw failure }
        let timeLeft = deadline.map { $0 - ContinuousClock.now }
        guard let wait = policy.delay(afterAttempt: attempt, retryAfter: kind.retryAfter, timeLeft: timeLeft) else {
            throw failure
        }
        if wait > .zero { try await sleep(wait) }
    }
}
