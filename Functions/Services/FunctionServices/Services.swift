import DocumentStore
import EmbeddingPolicies
import Embeddings
import Foundation
import Reranking
import ServiceErrors
import Stores

/// What the retrieval functions share, built once per process at init: the store
/// (`DATABASE_URL`) and the configured embedding provider behind the query-vector cache.
///
/// Building it runs the startup dimension check, so a function whose model does not fit the
/// configuration or the stored vectors fails its init with the message that says how to fix it
/// (the emulator answers 502 with that reason; Lambda reports an init error), instead of
/// failing on the first insert or, worse, searching vectors it can never match.
package struct Services: Sendable {
    package let store: any Store
    /// Cached for queries; passages go straight to the model.
    package let embedder: any EmbeddingProvider
    package let embedding: EmbeddingConfiguration
    /// The model's providers (routing, failover, admission), under the cache.
    package let pool: EmbeddingProviderPool?
    /// What they spent, and the budgets.
    package let ledger: StoreSpendLedger?
    /// The candidate model in shadow or canary, and its provider (its bulk work counted as `shadow`).
    package let shadow: (configuration: ShadowConfiguration, provider: any EmbeddingProvider)?
    /// The reranker (`RERANK_PROVIDER`) and how many fused candidates it reorders.
    package var rerank: (reranker: any Reranker, candidates: Int)?

    package init(store: any Store, embedder: any EmbeddingProvider, embedding: EmbeddingConfiguration,
                 pool: EmbeddingProviderPool? = nil, ledger: StoreSpendLedger? = nil,
                 shadow: (configuration: ShadowConfiguration, provider: any EmbeddingProvider)? = nil) {
        self.shadow = shadow
        self.store = store
        self.embedder = embedder
        self.embedding = embedding
        self.pool = pool
        self.ledger = ledger
    }

    package typealias StartupError = ServiceErrors.StartupError

    /// An HTTP provider is probed (one short text, once per cold start) to learn the vector size
    /// it really returns; the native model's size is its `config.json`'s, so it costs nothing.
    package static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) async throws -> Services {
        guard let url = env["DATABASE_URL"], !url.isEmpty else {
            throw StartupError.configuration("DATABASE_URL is not set (sqlite:///path/to/file or postgres://user:pass@host:5432/db)")
        }
        let store: any Store
        do { store = try Stores.open(url: url) } catch {
            throw StartupError.configuration("cannot open the store at \(Stores.redacted(url)): \(error)")
        }
        let configuration: EmbeddingConfiguration
        let embedder: any EmbeddingProvider
        let pool: EmbeddingProviderPool
        let ledger: StoreSpendLedger
        var shadow: (configuration: ShadowConfiguration, provider: any EmbeddingProvider)?
        do {
            configuration = try EmbeddingConfiguration.fromEnvironment(env)
            (pool, ledger, _) = try EmbeddingPools.make(configuration, environment: env, store: store)
            let shared = try SharedVectorCaches.make(configuration, store: store)
            embedder = EmbeddingProviders.cached(pool, configuration, shared: shared)
            if let s = try ShadowConfiguration.fromEnvironment(env, live: configuration) {
                let candidate = EmbeddingProviderPool(members: [PoolMember(name: "shadow", provider: try s.provider(environment: env, threads: configuration.threads))],
                                                      spend: ledger)
                shadow = (s, EmbeddingProviders.cached(candidate, configuration, shared: shared))
            }
        } catch {
            throw StartupError.configuration("\(error)")
        }
        // Every member's probe at start, so the first request neither pays for it nor meets a
        // provider serving another model.
        if pool.members.count > 1 { await pool.checkAll() }
        var probed: Int? = nil
        if pool.members.contains(where: { !$0.provider.runsLocally }) {
            do {
                probed = try await embedder.embed(["dimension probe"], role: .passage).first?.vector.count
            } catch {
                throw StartupError.configuration("the embedding provider failed its first call: \(error)")
            }
        }
        do {
            let stored = try store.storedDimensions(model: configuration.modelId)
            try DimensionCheck.verify(configuration: configuration, provider: embedder, probed: probed, stored: stored)
        } catch {
            throw StartupError.configuration("\(error)")
        }
        var services = Services(store: store, embedder: embedder, embedding: configuration, pool: pool, ledger: ledger, shadow: shadow)
        do {
            if let r = try RerankConfiguration.fromEnvironment(env) { services.rerank = (try HTTPReranker(configuration: r), r.candidates) }
        } catch {
            throw StartupError.configuration("\(error)")
        }
        return services
    }
}
