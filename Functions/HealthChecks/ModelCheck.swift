import DocumentStore
import Embeddings
import Stores
import Synchronization

extension ReadinessCheck {
    /// The configured embedding model loads, really returns vectors of the configured size, and
    /// that size matches what the store holds for it. The provider is built once and kept; the
    /// native model is probed on every check (one short text, a few ms), an HTTP provider only
    /// until its first success, so readiness polling never runs up a paid API's bill.
    public static func embeddingModel(environment: [String: String], storeURL: String?, timeout: Duration = .seconds(10)) -> ReadinessCheck {
        struct Loaded: Sendable {
            var configuration: EmbeddingConfiguration
            var provider: any EmbeddingProvider
            var store: (any Store)?
            var probedOnce: Bool
        }
        let loaded = Mutex<Loaded?>(nil)
        return ReadinessCheck("embedding_model", timeout: timeout) {
            var state: Loaded
            if let s = loaded.withLock({ $0 }) {
                state = s
            } else {
                do {
                    let c = try EmbeddingConfiguration.fromEnvironment(environment)
                    let provider = try EmbeddingProviders.make(c)
                    let store = try storeURL.flatMap { $0.isEmpty ? nil : $0 }.map { url throws(StoreError) in try Stores.open(url: url, migrate: false) }
                    state = Loaded(configuration: c, provider: provider, store: store, probedOnce: false)
                } catch {
                    throw CheckFailure("\(error)")
                }
                loaded.withLock { $0 = state }
            }
            let c = state.configuration
            var probed: Int? = nil
            if c.provider == .native || !state.probedOnce {
                do {
                    probed = try await state.provider.embed(["readiness probe"], role: .passage).first?.vector.count
                } catch {
                    throw CheckFailure("\(c.modelId): \(error)")
                }
                loaded.withLock { $0?.probedOnce = true }
            }
            do {
                let stored = try state.store?.storedDimensions(model: c.modelId) ?? []
                try DimensionCheck.verify(configuration: c, provider: state.provider, probed: probed, stored: stored)
            } catch {
                throw CheckFailure("\(error)")
            }
        }
    }
}
