import DocumentStore
import Foundation
import Embeddings
import Stores
import Synchronization

extension ReadinessCheck {
    /// The configured embedding model is usable and its vector size matches what the store holds
    /// for it. The native model is checked from its files (config, vocabulary, the weights'
    /// header), never loaded: loading costs `health` about 90 MB resident for a check that
    /// embeds nothing. On Lambda the model ships only in the packages of the functions that
    /// embed (route, search, reembed, generate), which load it at init; health's package leaves
    /// it out, so from a package (on Lambda, under the RIE or `emulator start-api --packages`)
    /// this check holds the configuration against the store alone. An HTTP
    /// provider is probed (one short text) until its first success, so readiness polling never
    /// runs up a paid API's bill.
    package static func embeddingModel(environment: [String: String], storeURL: String?, timeout: Duration = .seconds(10)) -> ReadinessCheck {
        struct Loaded: Sendable {
            var configuration: EmbeddingConfiguration
            var provider: (any EmbeddingProvider)?
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
                    let provider = c.provider == .native ? nil : try EmbeddingProviders.make(c)
                    let store = try storeURL.flatMap { $0.isEmpty ? nil : $0 }.map { url throws(StoreError) in try Stores.open(url: url, migrate: false) }
                    state = Loaded(configuration: c, provider: provider, store: store, probedOnce: false)
                } catch {
                    throw CheckFailure("\(error)")
                }
                loaded.withLock { $0 = state }
            }
            let c = state.configuration
            let model: (id: String, dimension: Int)
            var probed: Int? = nil
            if let provider = state.provider {
                model = (provider.modelId, provider.dimension)
                if !state.probedOnce {
                    do {
                        probed = try await provider.embed(["readiness probe"], role: .passage).first?.vector.count
                    } catch {
                        throw CheckFailure("\(c.modelId): \(error)")
                    }
                    loaded.withLock { $0?.probedOnce = true }
                }
            } else if RunPlace.isLambda(environment) || RunPlace.runsFromPackage(environment),
                      !FileManager.default.fileExists(atPath: c.modelDirectory) {
                model = (c.spec.id, c.spec.dimension)
            } else {
                do {
                    model = c.spec == EmbeddingModelRegistry.multilingualE5Small
                        ? (c.spec.id, try MultilingualE5Embedder.verifyFile(path: c.modelDirectory))
                        : (MiniLMEmbedder.nativeModelId, try MiniLMEmbedder.verifyFiles(modelDirectory: c.modelDirectory))
                } catch {
                    throw CheckFailure("\(error)")
                }
            }
            do {
                let stored = try state.store?.storedDimensions(model: c.modelId) ?? []
                try DimensionCheck.verify(configuration: c, providerModel: model.id, providerDimension: model.dimension,
                                          probed: probed, stored: stored)
            } catch {
                throw CheckFailure("\(error)")
            }
        }
    }
}
