/// The startup check that the three places a vector size comes from agree: the configuration,
/// the provider (what it really returns), and the vectors already stored for the model id.
/// A disagreement found here is a clear error at cold start; found later, it would be a failed
/// insert in the middle of a re-embed, or worse, vectors that can never be searched.
package enum DimensionCheck {
    /// - Parameters:
    ///   - probed: the length of a vector the provider actually returned, when one was asked for.
    ///   - stored: the sizes of the live versions stored under `configuration.modelId`.
    package static func verify(configuration c: EmbeddingConfiguration, provider: any EmbeddingProvider,
                              probed: Int? = nil, stored: [Int]) throws(EmbeddingError) {
        try verify(configuration: c, providerModel: provider.modelId, providerDimension: provider.dimension, probed: probed, stored: stored)
    }

    /// The same check from what a provider would report, for a process that does not build one
    /// (readiness checks the native model's files, not a loaded model).
    package static func verify(configuration c: EmbeddingConfiguration, providerModel: String, providerDimension: Int,
                              probed: Int? = nil, stored: [Int]) throws(EmbeddingError) {
        guard providerModel == c.modelId else {
            throw .configuration("the provider serves \(providerModel), the configuration asks for \(c.modelId); "
                                 + "no provider may stand in for another model")
        }
        guard providerDimension == c.dimension else {
            throw .configuration("\(c.modelId) produces \(providerDimension)-dimensional vectors, but \(c.dimension) are configured: "
                                 + "set EMBEDDING_DIMENSIONS=\(providerDimension) or leave it unset")
        }
        if let probed, probed != c.dimension {
            throw .configuration("the server at \(c.baseURL ?? "?") returned \(probed)-dimensional vectors for \(c.requestModel), "
                                 + "the configuration expects \(c.dimension): check that the server runs \(c.requestModel), "
                                 + "or set EMBEDDING_DIMENSIONS=\(probed) if the model registry is wrong about it")
        }
        if let other = stored.first(where: { $0 != c.dimension }) {
            // A model the registry does not know takes its size from EMBEDDING_DIMENSIONS, which may be what is wrong.
            let sizeIsConfigurable = EmbeddingModelRegistry.spec(for: c.spec.id) == nil || c.spec.allowedDimensions.contains(other)
            let keep = c.provider != .native && sizeIsConfigurable
                ? "Set EMBEDDING_DIMENSIONS=\(other) to keep using the stored vectors, or configure"
                : "\(c.modelId) cannot produce \(other) dimensions, so those vectors came from another model stored under this id: configure"
            throw .configuration("the store holds \(other)-dimensional vectors for \(c.modelId), the configuration makes "
                                 + "\(c.dimension)-dimensional ones. \(keep) a different model id and re-embed the documents with it "
                                 + "(the old vectors keep serving search until each document's new version is ready)")
        }
    }
}
