import Embeddings
import Synchronization

/// During a migration away from the native all-MiniLM-L6-v2 an org still has its vectors; the
/// model ships with every package, so queries can still be embedded for them until the
/// re-embed finishes. Loaded on first need only.
package enum NativeModelFallback {
    package static func provider(configured: EmbeddingConfiguration) -> @Sendable (String) -> (any EmbeddingProvider)? {
        let loaded = Mutex<Result<MiniLMEmbedder, EmbeddingError>?>(nil)
        return { model in
            guard model == EmbeddingModelRegistry.miniLM.id, configured.modelId != model else { return nil }
            let result = loaded.withLock { state in
                if let state { return state }
                let r = Result { () throws(EmbeddingError) in try MiniLMEmbedder(modelDirectory: configured.modelDirectory, weights: configured.weightPrecision) }
                state = r
                return r
            }
            return try? result.get()
        }
    }
}
