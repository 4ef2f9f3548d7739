import Embeddings

/// Runs a devset through a router (and, for comparison, the nearest-seed baseline) without the
/// per-request embedding calls: the devset is embedded in batches first, then scored.
package enum Evaluation {
    /// Devset labels must be catalog actions or `oos`; a label the catalog lacks could never be
    /// right and usually means the devset and catalog drifted apart.
    package static func checkLabels(_ examples: [LabelledText], catalog: ActionCatalog, devset: String) throws(ConfigurationError) {
        let known = Set(catalog.actions.map(\.id))
        if let bad = examples.first(where: { $0.label != LabelledText.outOfScope && !known.contains($0.label) }) {
            throw .unknownAction(file: devset, action: bad.label, field: "label")
        }
    }

    /// The devset's normalised texts and their query embeddings.
    package struct EmbeddedDevset: Sendable {
        package let examples: [LabelledText]
        package let texts: [NormalizedText]
        package let vectors: [[Float]]
    }

    package static func embed(_ examples: [LabelledText], provider: any EmbeddingProvider, batchSize: Int = 256) async throws -> EmbeddedDevset {
        let texts = examples.map { NormalizedText($0.text) }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let batch = texts[start..<min(texts.count, start + batchSize)].map(\.normalized)
            vectors += try await provider.embed(batch, role: .query).map(\.vector)
            start += batchSize
        }
        return EmbeddedDevset(examples: examples, texts: texts, vectors: vectors)
    }

    package static func outcomes(router: Router, devset: EmbeddedDevset) -> [EvaluationOutcome] {
        devset.examples.indices.map { i in
            let ranked = router.rank(devset.texts[i], queryVector: devset.vectors[i], explain: 0)
            let result = router.result(for: devset.texts[i], ranked: ranked, requestId: nil)
            return EvaluationOutcome(text: devset.examples[i].text, label: devset.examples[i].label,
                                     ranking: ranked.map(\.actionId), scores: ranked.map(\.finalScore),
                                     strategy: result.uiStrategy)
        }
    }

    package static func outcomes(baseline: NearestSeedBaseline, devset: EmbeddedDevset) -> [EvaluationOutcome] {
        devset.examples.indices.map { i in
            let (ranking, strategy) = baseline.classify(devset.vectors[i])
            return EvaluationOutcome(text: devset.examples[i].text, label: devset.examples[i].label, ranking: ranking,
                                     strategy: strategy)
        }
    }

    /// Embeds and scores `examples` with `router`.
    package static func run(router: Router, examples: [LabelledText], devsetName: String = "<devset>") async throws -> EvaluationReport {
        try checkLabels(examples, catalog: router.catalog, devset: devsetName)
        let devset = try await embed(examples, provider: router.provider)
        return EvaluationReport(outcomes: outcomes(router: router, devset: devset))
    }
}

/// The plain classifier the router must beat: the action of the single most similar seed
/// phrase (max cosine), no rules, no word overlap, no descriptions, no fusion. It asks to
/// clarify when even the best seed is below `threshold`.
package struct NearestSeedBaseline: Sendable {
    package let router: Router
    package let threshold: Float

    /// Uses the router's seed vectors (its description rows are skipped), so nothing is embedded twice.
    package init(router: Router, threshold: Double) {
        self.router = router
        self.threshold = Float(threshold)
    }

    package func classify(_ query: [Float]) -> (ranking: [String], strategy: UIStrategy) {
        let seeds = router.seeds
        let sims = seeds.similarities(query)
        var best = [Float](repeating: -2, count: seeds.actionRows.count)
        for (a, rows) in seeds.actionRows.enumerated() {
            for r in rows where seeds.keys[r].slot != SeedKey.descriptionSlot { best[a] = max(best[a], sims[r]) }
        }
        let order = best.indices.sorted { best[$0] != best[$1] ? best[$0] > best[$1] : $0 < $1 }
        let ids = order.map { router.catalog.actions[$0].id }
        let top = order.first.map { best[$0] } ?? -2
        return (ids, top < threshold ? .clarify : .execute)
    }
}
