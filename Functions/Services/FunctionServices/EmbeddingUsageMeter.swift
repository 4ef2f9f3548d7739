import Embeddings
import Synchronization

/// The embedding provider's work during one invocation, as metric names and values for the
/// invocation's record: a warm process serves one invocation at a time, so the difference of the
/// provider's running totals between two takes is that invocation's.
package final class EmbeddingUsageMeter: Sendable {
    private let provider: (any ReportsEmbeddingUsage)?
    private let last: Mutex<EmbeddingUsage>
    /// The shared query cache's kind (`store`, `redis`), or nil without one: a property of the record.
    package let sharedCache: String?

    package init(_ provider: any EmbeddingProvider) {
        self.provider = provider as? any ReportsEmbeddingUsage
        sharedCache = (provider as? CachedEmbeddingProvider)?.shared?.kind
        last = Mutex(self.provider?.usage ?? EmbeddingUsage())
    }

    /// What happened since the previous take. Empty for a provider that keeps no totals.
    package func take() -> [(name: String, value: Double)] {
        guard let provider else { return [] }
        let now = provider.usage
        let d = last.withLock { old in
            defer { old = now }
            return now.since(old)
        }
        return [
            ("EmbeddingCalls", Double(d.calls)), ("EmbeddingRetries", Double(d.retries)), ("EmbeddingFailures", Double(d.failures)),
            ("QueryCacheHits", Double(d.cacheHits)), ("QueryCacheMisses", Double(d.cacheMisses)),
            ("SharedCacheHits", Double(d.sharedHits)), ("SharedCacheMisses", Double(d.sharedMisses)), ("SharedCacheErrors", Double(d.sharedErrors)),
            ("EmbeddingBreakerOpen", d.breakerOpen ? 1 : 0), ("PIIBlocked", Double(d.piiBlocked)), ("PIIRedacted", Double(d.piiRedacted)),
            ("EmbeddingFailovers", Double(d.failovers)), ("EmbeddingBudgetDeferred", Double(d.budgetDeferred)),
        ]
    }
}
