import Resilience
import Synchronization

/// The health of each provider as a warm process has seen it, shared by all its invocations:
/// a circuit breaker per provider (repeated 5xx, timeouts, dropped connections open it, so
/// later requests skip a dead provider instead of waiting through its timeouts) and a cooldown
/// for providers that refused our credentials or billing (retrying those in the next request
/// would fail the same way).
///
/// A class over a `Mutex` rather than an actor: every operation is a few loads and stores, taken
/// on the request path, and `CircuitBreaker` is built the same way.
package final class ProviderHealth: Sendable {
    package struct Cooldown: Sendable, Equatable {
        package var until: ContinuousClock.Instant
        package var reason: String
    }

    private let breakers: [String: CircuitBreaker]
    private let cooldowns = Mutex<[String: Cooldown]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    package init(providers: [String], failureThreshold: Int, openDuration: Duration,
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        var b: [String: CircuitBreaker] = [:]
        for p in providers { b[p] = CircuitBreaker(failureThreshold: failureThreshold, openDuration: openDuration, now: now) }
        breakers = b
        self.now = now
    }

    package func breaker(_ provider: String) -> CircuitBreaker? { breakers[provider] }

    /// Takes the provider out of the chain for `duration`.
    package func disable(_ provider: String, for duration: Duration, reason: String) {
        let until = now() + duration
        cooldowns.withLock { $0[provider] = Cooldown(until: until, reason: reason) }
    }

    /// The cooldown in force, nil when the provider may be called.
    package func cooldown(_ provider: String) -> Cooldown? {
        let t = now()
        return cooldowns.withLock { c in
            guard let entry = c[provider] else { return nil }
            if t >= entry.until {
                c[provider] = nil
                return nil
            }
            return entry
        }
    }
}
