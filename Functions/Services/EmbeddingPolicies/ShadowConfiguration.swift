import Embeddings
import Foundation

/// A candidate model in shadow, then canary (README, "Shadow, canary, promotion"):
///
/// | Variable | Meaning |
/// |---|---|
/// | `EMBEDDING_SHADOW_MODEL` | the candidate, a native model other than `EMBEDDING_MODEL`; unset: none |
/// | `EMBEDDING_SHADOW_SAMPLE_RATE` | share of live queries also run against it (default 0.1) |
/// | `EMBEDDING_CANARY_PERCENT` | percent of orgs (a stable hash) served from it once their documents are shadowed (default 0) |
/// | `SHADOW_MIN_COMPARISONS`, `SHADOW_MIN_OVERLAP`, `SHADOW_MAX_LATENCY_RATIO` | the readiness criteria (seed 004's: 100, 0.95, and no slowdown beyond 1.2x) |
package struct ShadowConfiguration: Sendable, Equatable {
    package var model: String
    package var sampleRate: Double
    package var canaryPercent: Double
    package var criteria: Criteria

    /// Seed 004's success criteria, as this product can measure them.
    package struct Criteria: Sendable, Equatable {
        /// Comparisons collected ("100+ comparisons").
        package var minComparisons = 100
        /// Mean overlap@10 of the candidate's results with the live ones (">95% average similarity").
        package var minOverlap = 0.95
        /// The candidate's p50 latency over the live one's ("no performance degradation").
        package var maxLatencyRatio = 1.2
        package init() {}
    }

    package static func fromEnvironment(_ env: [String: String], live: EmbeddingConfiguration) throws(EmbeddingError) -> ShadowConfiguration? {
        func value(_ name: String) -> String? { env[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        func number(_ name: String, _ range: ClosedRange<Double>, _ fallback: Double) throws(EmbeddingError) -> Double {
            guard let raw = value(name) else { return fallback }
            guard let v = Double(raw), range.contains(v) else { throw .configuration("\(name)=\(raw) must be a number from \(range.lowerBound) to \(range.upperBound)") }
            return v
        }
        guard let name = value("EMBEDDING_SHADOW_MODEL") else {
            if value("EMBEDDING_CANARY_PERCENT").map({ $0 != "0" }) == true {
                throw .configuration("EMBEDDING_CANARY_PERCENT needs EMBEDDING_SHADOW_MODEL, the candidate the canary serves")
            }
            return nil
        }
        guard let spec = EmbeddingModelRegistry.spec(for: name), EmbeddingModelRegistry.native.contains(spec) else {
            throw .configuration("EMBEDDING_SHADOW_MODEL=\(name): the candidate runs natively, so it is one of "
                                 + EmbeddingModelRegistry.native.map(\.id).joined(separator: " and "))
        }
        guard spec.id != live.modelId else {
            throw .configuration("EMBEDDING_SHADOW_MODEL=\(name) is EMBEDDING_MODEL already: a shadow is another model")
        }
        var c = ShadowConfiguration(model: spec.id, sampleRate: try number("EMBEDDING_SHADOW_SAMPLE_RATE", 0...1, 0.1),
                                    canaryPercent: try number("EMBEDDING_CANARY_PERCENT", 0...100, 0), criteria: Criteria())
        c.criteria.minComparisons = Int(try number("SHADOW_MIN_COMPARISONS", 1...1_000_000, 100))
        c.criteria.minOverlap = try number("SHADOW_MIN_OVERLAP", 0...1, 0.95)
        c.criteria.maxLatencyRatio = try number("SHADOW_MAX_LATENCY_RATIO", 0.1...100, 1.2)
        return c
    }

    /// The candidate's native provider, from its folder under `.models/` (or `EMBEDDING_SHADOW_MODEL_DIR`).
    package func provider(environment env: [String: String], threads: Int?) throws(EmbeddingError) -> any EmbeddingProvider {
        let dir = env["EMBEDDING_SHADOW_MODEL_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? EmbeddingModelDirectory.resolve(nil, model: model, environment: env.filter { $0.key != EmbeddingModelDirectory.environmentVariable })
        return try EmbeddingProviders.nativeProvider(model: model, directory: dir, threads: threads)
    }
}
