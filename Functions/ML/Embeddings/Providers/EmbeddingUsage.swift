import Synchronization

/// Running totals of what a provider did in this process, for the per-invocation metrics
/// (docs/ARCHITECTURE.md, section 6a): a handler takes the difference over an invocation.
package struct EmbeddingUsage: Sendable, Equatable {
    /// Calls that reached the model (cache misses; each HTTP batch once, however many attempts).
    package var calls = 0
    /// HTTP attempts after the first.
    package var retries = 0
    /// Calls that ended in an error.
    package var failures = 0
    package var cacheHits = 0
    package var cacheMisses = 0
    /// The shared (second-level) cache: texts found, texts not found, and failed reads or writes
    /// (each a miss: the query goes on without it).
    package var sharedHits = 0
    package var sharedMisses = 0
    package var sharedErrors = 0
    /// Texts with personal data on their way to an external provider: kept back or masked.
    package var piiBlocked = 0
    package var piiRedacted = 0
    /// Calls a pool's first choice did not serve (it failed, or needed a probe first).
    package var failovers = 0
    /// Bulk calls refused because a hard budget limit is reached and no free provider could take them.
    package var budgetDeferred = 0
    /// The HTTP provider's circuit breaker is open now (a state, not a count).
    package var breakerOpen = false

    package init() {}

    /// What happened since `earlier`; `breakerOpen` is the current state.
    package func since(_ earlier: EmbeddingUsage) -> EmbeddingUsage {
        var d = EmbeddingUsage()
        d.calls = calls - earlier.calls
        d.retries = retries - earlier.retries
        d.failures = failures - earlier.failures
        d.cacheHits = cacheHits - earlier.cacheHits
        d.cacheMisses = cacheMisses - earlier.cacheMisses
        d.sharedHits = sharedHits - earlier.sharedHits
        d.sharedMisses = sharedMisses - earlier.sharedMisses
        d.sharedErrors = sharedErrors - earlier.sharedErrors
        d.piiBlocked = piiBlocked - earlier.piiBlocked
        d.piiRedacted = piiRedacted - earlier.piiRedacted
        d.failovers = failovers - earlier.failovers
        d.budgetDeferred = budgetDeferred - earlier.budgetDeferred
        d.breakerOpen = breakerOpen
        return d
    }
}

/// A provider that keeps usage totals.
package protocol ReportsEmbeddingUsage: Sendable {
    var usage: EmbeddingUsage { get }
}

/// Counters a provider updates as it works.
package final class EmbeddingUsageCounters: Sendable {
    private let totals = Mutex(EmbeddingUsage())

    package init() {}

    package func record(_ change: (inout EmbeddingUsage) -> Void) { totals.withLock { change(&$0) } }

    package var value: EmbeddingUsage { totals.withLock { $0 } }
}
