import Synchronization

/// Thrown instead of calling a service whose breaker is open.
package struct CircuitOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// When a call may be let through again (at least a second while a probe is out).
    package var retryAfter: Duration

    package init(retryAfter: Duration) { self.retryAfter = retryAfter }

    package var description: String {
        "circuit open; retry in \(Int(retryAfter.inSeconds.rounded(.up))) s"
    }
}

/// Stops calling a service that keeps failing.
///
/// Without it, every request during a provider outage waits through its full timeout and its
/// retries (tens of seconds) before failing, holding a Lambda instance the whole time and adding
/// load to a service that is trying to recover. After `failureThreshold` consecutive failures the
/// breaker *opens*: calls fail at once for `openDuration`. Then it goes *half-open* and lets a
/// single probe through, so a still-broken service costs one slow request rather than a burst;
/// the probe's success closes the breaker, its failure opens it for another `openDuration`.
///
/// Only failures that say the service is unhealthy should be recorded (5xx, timeouts, refused
/// connections, garbage in a 200). A 400 or 401 is the caller's fault and says the service is up:
/// report those with `release` so that a bad key or one oversized input cannot take the
/// provider offline for everyone.
///
/// Every call goes through a `Permit` so that outcomes are matched to the state they were issued
/// in: a slow request sent before the breaker opened must not close it when it finally succeeds,
/// and only the probe may decide the half-open state.
package final class CircuitBreaker: Sendable {
    package enum State: Sendable, Equatable {
        case closed
        case open
        case halfOpen
    }

    /// Leave to make one call. Hand it back through exactly one of `recordSuccess`,
    /// `recordFailure` or `release`.
    package struct Permit: Sendable {
        fileprivate let generation: UInt64
        /// Whether this call is the half-open probe.
        package let isProbe: Bool
    }

    package let failureThreshold: Int
    package let openDuration: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let inner: Mutex<Inner>

    private struct Inner {
        enum Phase {
            case closed(consecutiveFailures: Int)
            case open(until: ContinuousClock.Instant)
            /// `probeSince` is when the probe in flight was let through, nil when none is.
            case halfOpen(probeSince: ContinuousClock.Instant?)
        }
        var phase: Phase = .closed(consecutiveFailures: 0)
        /// Bumped on every transition; permits from an earlier one are stale.
        var generation: UInt64 = 0

        mutating func enter(_ p: Phase) {
            phase = p
            generation &+= 1
        }
    }

    /// - Parameter now: the clock, injectable so tests can move time instead of sleeping.
    package init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = max(.zero, openDuration)
        self.now = now
        inner = Mutex(Inner())
    }

    /// The state a call made now would meet (an open breaker whose time is up reads half-open).
    package var state: State {
        let t = now()
        return inner.withLock { s in
            switch s.phase {
            case .closed: .closed
            case .open(let until): t >= until ? .halfOpen : .open
            case .halfOpen: .halfOpen
            }
        }
    }

    /// Consecutive unhealthy failures while closed (0 otherwise), for logs and health checks.
    package var consecutiveFailures: Int {
        inner.withLock { s in
            if case .closed(let n) = s.phase { return n }
            return 0
        }
    }

    /// A permit to call the service, or `CircuitOpenError` without calling it.
    package func acquire() throws(CircuitOpenError) -> Permit {
        let t = now()
        let result: Result<Permit, CircuitOpenError> = inner.withLock { s in
            switch s.phase {
            case .closed:
                return .success(Permit(generation: s.generation, isProbe: false))
            case .open(let until):
                guard t >= until else { return .failure(CircuitOpenError(retryAfter: until - t)) }
                s.enter(.halfOpen(probeSince: t))
                return .success(Permit(generation: s.generation, isProbe: true))
            case .halfOpen(let since):
                // A probe whose owner never reported back (a crashed task, a lost permit) must
                // not keep the breaker half-open for ever: after `openDuration` another may go.
                if let since, t < since + openDuration {
                    return .failure(CircuitOpenError(retryAfter: max(.seconds(1), min(openDuration, since + openDuration - t))))
                }
                s.enter(.halfOpen(probeSince: t))
                return .success(Permit(generation: s.generation, isProbe: true))
            }
        }
        return try result.get()
    }

    /// The call succeeded: the service is healthy.
    package func recordSuccess(_ permit: Permit) {
        inner.withLock { s in
            guard permit.generation == s.generation else { return }
            switch s.phase {
            case .closed(let n): if n != 0 { s.phase = .closed(consecutiveFailures: 0) }
            case .halfOpen: s.enter(.closed(consecutiveFailures: 0))
            case .open: break
            }
        }
    }

    /// The call failed in a way that says the service is unhealthy.
    package func recordFailure(_ permit: Permit) {
        let t = now()
        inner.withLock { s in
            guard permit.generation == s.generation else { return }
            switch s.phase {
            case .closed(let n):
                if n + 1 >= failureThreshold {
                    s.enter(.open(until: t + openDuration))
                } else {
                    s.phase = .closed(consecutiveFailures: n + 1)
                }
            case .halfOpen: s.enter(.open(until: t + openDuration))
            case .open: break
            }
        }
    }

    /// The call ended without saying anything about the service's health (a 4xx, a cancelled
    /// task): counts for nothing, but frees the half-open probe slot for the next call.
    package func release(_ permit: Permit) {
        inner.withLock { s in
            guard permit.isProbe, permit.generation == s.generation, case .halfOpen = s.phase else { return }
            s.enter(.halfOpen(probeSince: nil))
        }
    }
}
