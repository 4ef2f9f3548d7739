/// Builds the configured provider.
package enum EmbeddingProviders {
    /// The provider alone, no cache (batch work such as ingestion, probes).
    package static func make(_ c: EmbeddingConfiguration) throws(EmbeddingError) -> any EmbeddingProvider {
        switch c.provider {
        case .native:
            return try nativeProvider(model: c.spec.id, directory: c.modelDirectory, threads: c.threads, weights: c.weightPrecision)
        case .openai, .jina, .ollama, .tei, .vllm, .http:
            guard let baseURL = c.baseURL else { throw .configuration("EMBEDDING_BASE_URL is not set") }
            let http = try OpenAICompatibleEmbedder(configuration: HTTPEmbeddingConfiguration(
                baseURL: baseURL, apiKey: c.apiKey, spec: c.spec, requestModel: c.requestModel,
                dimensions: c.dimensions, maxBatchSize: c.batchSize, timeout: c.timeout))
            // Only an external provider is guarded: one on a private address is the deployment's own.
            guard c.providerLocation == .external, c.piiPolicy != .allow else { return http }
            return PIIGuardedProvider(http, policy: c.piiPolicy, endpoint: HTTPEmbeddingConfiguration.display(baseURL))
        }
    }

    /// A native model by id, from its folder.
    package static func nativeProvider(model: String, directory: String, threads: Int? = nil,
                                       weights: WeightPrecision = .half) throws(EmbeddingError) -> any EmbeddingProvider {
        if EmbeddingModelRegistry.spec(for: model) == EmbeddingModelRegistry.multilingualE5Small {
            return try MultilingualE5Embedder(path: directory, threads: threads)
        }
        return try MiniLMEmbedder(modelDirectory: directory, threads: threads, weights: weights)
    }

    /// The provider behind the query-vector cache (`QUERY_CACHE_SIZE`, `QUERY_CACHE_TTL_SECONDS`;
    /// size 0 turns it off). Warm processes keep the result, so the cache outlives invocations.
    /// - Parameter shared: the second level every process shares (the store or Redis), if any;
    ///   its entries live `QUERY_CACHE_SHARED_TTL_*` by the provider's kind.
    package static func makeCached(_ c: EmbeddingConfiguration, shared: (any SharedVectorCache)? = nil) throws(EmbeddingError) -> any EmbeddingProvider {
        cached(try make(c), c, shared: shared)
    }

    /// `base` behind the query-vector cache as `c` configures it (the base itself when it is off).
    package static func cached(_ base: any EmbeddingProvider, _ c: EmbeddingConfiguration, shared: (any SharedVectorCache)? = nil) -> any EmbeddingProvider {
        guard c.queryCacheSize > 0 else { return base }
        return CachedEmbeddingProvider(base, cache: QueryVectorCache(capacity: c.queryCacheSize, ttl: c.queryCacheTTL),
                                       shared: shared, sharedTTL: base.runsLocally ? c.sharedCacheTTLLocal : c.sharedCacheTTLAPI)
    }
}
