import Embeddings
import Synchronization

/// During a migration between models an org still has its vectors of the old one. When that
/// model is a native one whose files the deployment has, queries can still be embedded for them
/// until the re-embed finishes. Loaded on first need only, once per model.
package enum NativeModelFallback {
    package static func provider(configured: EmbeddingConfiguration) -> @Sendable (String) -> (any EmbeddingProvider)? {
        let loaded = Mutex<[String: Result<any EmbeddingProvider, EmbeddingError>]>([:])
        return { model in
            guard let spec = EmbeddingModelRegistry.spec(for: model), EmbeddingModelRegistry.native.contains(spec),
                  configured.modelId != spec.id else { return nil }
            let result = loaded.withLock { state in
                if let known = state[spec.id] { return known }
                // Its own default folder unless the configured folder is that model's.
                let directory = configured.spec.id == spec.id ? configured.modelDirectory : EmbeddingModelDirectory.defaultPath(model: spec.id)
                let r = Result { () throws(EmbeddingError) -> any EmbeddingProvider in
                    try EmbeddingProviders.nativeProvider(model: spec.id, directory: directory, weights: configured.weightPrecision)
                }
                state[spec.id] = r
                return r
            }
            return try? result.get()
        }
    }
}
