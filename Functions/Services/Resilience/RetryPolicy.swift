/// How many times to try a remote call and how long to wait in between.
///
/// Backoff is exponential with *full jitter* (a uniform draw between zero and the exponential
/// cap): many Lambda instances hit by the same outage would otherwise retry in lock-step and
/// knock the provider over again the moment it comes back.
///
/// A server's `Retry-After` wins over the backoff, but only up to `maxRetryAfter` (and only if
/// it ends before the caller's deadline): a request handler that sleeps for a minute is worse
/// than one that answers "rate limited, retry in 60 s" at once, since API Gateway gives up after
/// 29 s anyway and the caller can decide for itself.
package struct RetryPolicy: Sendable {
    /// Tries in all, the first included (3 = one try and two retries). 1 disables retries.
    package var maxAttempts: Int
    /// The cap of the first backoff; each retry doubles it up to `maxDelay`.
    package var baseDelay: Duration
    package var maxDelay: Duration
    /// The longest server-requested wait still worth sitting through.
    package var maxRetryAfter: Duration
    /// A number in [0, 1]; values outside are clamped. Injectable so tests can pin the jitter.
    package var random: @Sendable () -> Double

    package init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(8),
                maxRetryAfter: Duration = .seconds(20),
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(.zero, baseDelay)
        self.maxDelay = max(.zero, maxDelay)
        self.maxRetryAfter = max(.zero, maxRetryAfter)
        self.random = random
    }

    /// One try, no waiting: for callers that must not add latency (a health check).
    package static let none = RetryPolicy(maxAttempts: 1)

    /// The exponential cap before jitter for the wait after `attempt` (1-based): the jitter draws
    /// below this.
    package func backoffCap(afterAttempt attempt: Int) -> Duration {
        let exponent = Double(max(0, attempt - 1))
        // In seconds as a Double: 2^attempt overflows `Duration` arithmetic long before it
        // overflows a Double, and the result is clamped anyway.
        let seconds = min(baseDelay.inSeconds * Double.pow2(exponent), maxDelay.inSeconds)
        return .seconds(seconds)
    }

    /// How long to wait before the next try, or nil when there should be none: `attempt` (1-based)
    /// was the last one allowed, the server's `retryAfter` exceeds `maxRetryAfter`, or the wait
    /// would not end before `timeLeft` runs out (a try that cannot start in time is pointless).
    package func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil, timeLeft: Duration? = nil) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let wait: Duration
        if let retryAfter {
            guard retryAfter <= maxRetryAfter else { return nil }
            wait = max(.zero, retryAfter)
        } else {
            let r = min(1, max(0, random()))
            wait = .seconds(backoffCap(afterAttempt: attempt).inSeconds * r)
        }
        if let timeLeft, wait >= timeLeft { return nil }
        return wait
    }
}

extension Duration {
    /// The duration in seconds, for arithmetic `Duration` does not offer (scaling by a Double).
    package var inSeconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) * 1e-18
    }
}

extension Double {
    fileprivate static func pow2(_ e: Double) -> Double {
        e >= 1023 ? .infinity : Double(sign: .plus, exponent: Int(e), significand: 1)
    }
}
