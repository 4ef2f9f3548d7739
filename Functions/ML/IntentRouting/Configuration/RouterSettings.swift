import Embeddings

/// The three weights of the fusion, each in [0, 1]. They are relative: the fuser divides by their
/// sum, so {rule 2, embedding 1} is not allowed (out of range) but {0.6, 0.3, 0.3} means
/// {0.5, 0.25, 0.25}.
package struct FusionWeights: Sendable, Hashable {
    package var rule: Double
    package var embedding: Double
    package var lexical: Double

    package init(rule: Double, embedding: Double, lexical: Double) {
        self.rule = rule
        self.embedding = embedding
        self.lexical = lexical
    }
}

/// A partial override of the weights: the fields it sets replace the defaults' (or the
/// domain's, for an intent type override).
package struct FusionWeightOverride: Sendable, Hashable {
    package var rule: Double?
    package var embedding: Double?
    package var lexical: Double?

    package init(rule: Double? = nil, embedding: Double? = nil, lexical: Double? = nil) {
        self.rule = rule
        self.embedding = embedding
        self.lexical = lexical
    }

    func applied(to w: FusionWeights) -> FusionWeights {
        FusionWeights(rule: rule ?? w.rule, embedding: embedding ?? w.embedding, lexical: lexical ?? w.lexical)
    }
}

/// How the fuser combines the scores (see `ScoreFusion`).
package struct FusionSettings: Sendable, Hashable {
    package var weights: FusionWeights
    package var domainWeights: [String: FusionWeightOverride]
    package var intentTypeWeights: [String: FusionWeightOverride]
    /// Applied last, by the request's language: how far the embedding model can be trusted
    /// depends on whether it was trained on that language.
    package var languageWeights: [RequestLanguage: FusionWeightOverride]
    /// Added when one of the action's patterns fired: a regex is written for one action and is
    /// stronger evidence than its weight alone says.
    package var patternBonus: Double
    /// Subtracted (times the strongest negative keyword's weight) when a negative keyword fired,
    /// so "hủy đơn nghỉ phép" does not land on creating one on the strength of its embedding.
    package var negativePenalty: Double

    package init(weights: FusionWeights, domainWeights: [String: FusionWeightOverride] = [:],
                intentTypeWeights: [String: FusionWeightOverride] = [:],
                languageWeights: [RequestLanguage: FusionWeightOverride] = [:], patternBonus: Double, negativePenalty: Double) {
        self.weights = weights
        self.domainWeights = domainWeights
        self.intentTypeWeights = intentTypeWeights
        self.languageWeights = languageWeights
        self.patternBonus = patternBonus
        self.negativePenalty = negativePenalty
    }
}

/// How seed similarities become one embedding score per action.
package enum SeedAggregation: String, Sendable, Hashable, CaseIterable {
    /// The best seed: one close paraphrase is enough.
    case max
    /// The average over all seeds (and the description): rewards actions whose seeds all agree.
    case mean
    /// `(1 - meanWeight) * max + meanWeight * mean(top meanTopK)`: mostly the best seed, with a
    /// little credit for several close ones, which breaks ties between near-duplicate actions.
    case maxMean = "max_mean"
}

package struct EmbeddingScoring: Sendable, Hashable {
    package var aggregation: SeedAggregation
    package var meanWeight: Double
    package var meanTopK: Int
    /// Whether the business description is embedded and scored like one more seed.
    package var includeDescription: Bool
    /// Cosine at or below which the embedding score is 0; above it the score is rescaled to
    /// (cos - floor) / (1 - floor). MiniLM puts unrelated short English texts around 0.1-0.3, so
    /// the raw cosine would give every action a free share of the embedding weight.
    package var floor: Double
    /// The floor by request language, where it differs. An English-only model sees Vietnamese
    /// as word pieces: any two Vietnamese sentences come out at 0.5-0.8.
    package var languageFloors: [RequestLanguage: Double]
    /// How much the seed classifier's posterior re-weights the embedding score (0: not at all;
    /// 1: the score is the cosine's times the posterior). See `SeedClassifier`.
    package var classifierWeight: Double = 0.5
    /// The classifier's covariance shrinkage toward the identity (1: nearest centroid).
    package var classifierShrinkage: Double = 0.6

    package init(aggregation: SeedAggregation, meanWeight: Double, meanTopK: Int, includeDescription: Bool, floor: Double,
                languageFloors: [RequestLanguage: Double] = [:]) {
        self.aggregation = aggregation
        self.meanWeight = meanWeight
        self.meanTopK = meanTopK
        self.includeDescription = includeDescription
        self.floor = floor
        self.languageFloors = languageFloors
    }

    package func floor(for language: RequestLanguage) -> Double { languageFloors[language] ?? floor }
}

/// BM25 over folded seed terms (see `LexicalIndex`).
package struct LexicalScoring: Sendable, Hashable {
    package var k1: Double
    package var b: Double
    /// Adds adjacent-term pairs ("nghi_phep") to the terms: Vietnamese words are mostly two
    /// syllables, and the pair is far more telling than either syllable.
    package var bigrams: Bool
    package var includeDescription: Bool

    package init(k1: Double, b: Double, bigrams: Bool, includeDescription: Bool) {
        self.k1 = k1
        self.b = b
        self.bigrams = bigrams
        self.includeDescription = includeDescription
    }
}

package struct RuleScoring: Sendable, Hashable {
    /// The rule score is multiplied by this when a required entity is missing.
    package var missingEntityFactor: Double
    package init(missingEntityFactor: Double) { self.missingEntityFactor = missingEntityFactor }
}

/// The score bands of the UI decision (see `UIDecision`).
package struct DecisionThresholds: Sendable, Hashable {
    /// Below this top score nothing is relevant: `clarify`.
    package var clarifyBelow: Double
    /// At or above this top score, with `executeMargin` over the runner-up: `execute`.
    package var executeAt: Double
    package var executeMargin: Double
    /// Candidates within this of the top score (and above `clarifyBelow`) are "close":
    /// two or more close ones means `disambiguate`.
    package var disambiguateMargin: Double
    /// Most candidates offered when disambiguating.
    package var maxChoices: Int
    /// Actions returned in `top_actions`.
    package var topK: Int

    package init(clarifyBelow: Double, executeAt: Double, executeMargin: Double, disambiguateMargin: Double,
                maxChoices: Int, topK: Int) {
        self.clarifyBelow = clarifyBelow
        self.executeAt = executeAt
        self.executeMargin = executeMargin
        self.disambiguateMargin = disambiguateMargin
        self.maxChoices = maxChoices
        self.topK = topK
    }
}

/// The UI messages of one language. `{action}` is the top action's title, `{actions}` the
/// candidates' titles joined with ", " and `or`.
package struct DecisionMessages: Sendable, Hashable {
    package var execute: String
    package var confirm: String
    package var disambiguate: String
    package var clarify: String
    package var or: String

    package init(execute: String, confirm: String, disambiguate: String, clarify: String, or: String) {
        self.execute = execute
        self.confirm = confirm
        self.disambiguate = disambiguate
        self.clarify = clarify
        self.or = or
    }
}

/// What one embedding model changes about the scoring: its cosines live on their own scale
/// (all-MiniLM-L6-v2 puts unrelated short English texts at 0.1-0.3; multilingual-e5-small puts
/// nearly everything above 0.7), so the floor that makes a cosine mean "related", and how far
/// the model is trusted per language, belong to the model. Everything else (the score bands of
/// the decision included) works on the rescaled scores and is shared.
package struct ModelOverride: Sendable, Hashable {
    /// Replaces the top-level floor and its per-language floors, when set.
    package var floor: Double?
    package var languageFloors: [RequestLanguage: Double]
    /// Applied on top of the top-level weights.
    package var weights: FusionWeightOverride?
    /// Replace the top-level override of the same language.
    package var languageWeights: [RequestLanguage: FusionWeightOverride]
    /// Replaces the seed classifier's weight, when set.
    package var classifierWeight: Double?

    package init(floor: Double? = nil, languageFloors: [RequestLanguage: Double] = [:], weights: FusionWeightOverride? = nil,
                languageWeights: [RequestLanguage: FusionWeightOverride] = [:]) {
        self.floor = floor
        self.languageFloors = languageFloors
        self.weights = weights
        self.languageWeights = languageWeights
    }

    func applied(to settings: RouterSettings) -> RouterSettings {
        var s = settings
        if floor != nil || !languageFloors.isEmpty {
            s.embedding.floor = floor ?? s.embedding.floor
            s.embedding.languageFloors = languageFloors
        }
        if let weights { s.fusion.weights = weights.applied(to: s.fusion.weights) }
        s.fusion.languageWeights.merge(languageWeights) { _, new in new }
        if let classifierWeight { s.embedding.classifierWeight = classifierWeight }
        s.models = [:]
        return s
    }
}

/// How a `RouterHost` caches results and watches its files.
package struct RuntimeSettings: Sendable, Hashable {
    package var cacheTTLSeconds: Double
    package var cacheMaxEntries: Int
    /// Least time between two looks at the files' mtime and size.
    package var reloadCheckIntervalSeconds: Double

    package init(cacheTTLSeconds: Double, cacheMaxEntries: Int, reloadCheckIntervalSeconds: Double) {
        self.cacheTTLSeconds = cacheTTLSeconds
        self.cacheMaxEntries = cacheMaxEntries
        self.reloadCheckIntervalSeconds = reloadCheckIntervalSeconds
    }
}

/// Everything tunable about scoring and the decision: `config/routing/router.yaml`. Every field
/// has a default (`RouterSettings.defaults`, measured on the shipped devset; see the README), so
/// the file only needs what it changes.
package struct RouterSettings: Sendable, Hashable {
    package var fusion: FusionSettings
    package var embedding: EmbeddingScoring
    package var lexical: LexicalScoring
    package var rules: RuleScoring
    package var decision: DecisionThresholds
    package var messages: [RequestLanguage: DecisionMessages]
    /// The language of a request that shows no sign of either.
    package var defaultLanguage: RequestLanguage
    package var runtime: RuntimeSettings
    /// By embedding model id (`EmbeddingModelRegistry`'s canonical id): see `ModelOverride`.
    package var models: [String: ModelOverride]

    package init(fusion: FusionSettings, embedding: EmbeddingScoring, lexical: LexicalScoring, rules: RuleScoring,
                decision: DecisionThresholds, messages: [RequestLanguage: DecisionMessages],
                defaultLanguage: RequestLanguage, runtime: RuntimeSettings, models: [String: ModelOverride] = [:]) {
        self.fusion = fusion
        self.embedding = embedding
        self.lexical = lexical
        self.rules = rules
        self.decision = decision
        self.messages = messages
        self.defaultLanguage = defaultLanguage
        self.runtime = runtime
        self.models = models
    }

    /// The settings a router over `modelId`'s vectors scores with: these, with the model's
    /// override applied where there is one.
    package func resolved(forModel modelId: String) -> RouterSettings {
        let id = EmbeddingModelRegistry.spec(for: modelId)?.id ?? modelId
        guard let o = models[id] else {
            var s = self
            s.models = [:]
            return s
        }
        return o.applied(to: self)
    }

    package func messages(for language: RequestLanguage) -> DecisionMessages {
        messages[language] ?? messages[defaultLanguage] ?? RouterSettings.defaults.messages[language]!
    }

    package static let defaults = RouterSettings(
        fusion: FusionSettings(
            weights: FusionWeights(rule: 0.4, embedding: 0.35, lexical: 0.25),
            languageWeights: [.en: FusionWeightOverride(embedding: 0.5)],
            patternBonus: 0.1,
            negativePenalty: 0.3),
        embedding: EmbeddingScoring(aggregation: .maxMean, meanWeight: 0.3, meanTopK: 3, includeDescription: true, floor: 0.2,
                                    languageFloors: [.vi: 0.6]),
        lexical: LexicalScoring(k1: 1.2, b: 0.5, bigrams: true, includeDescription: false),
        rules: RuleScoring(missingEntityFactor: 0.6),
        decision: DecisionThresholds(clarifyBelow: 0.22, executeAt: 0.7, executeMargin: 0.15, disambiguateMargin: 0.05,
                                     maxChoices: 3, topK: 5),
        messages: [
            .vi: DecisionMessages(
                execute: "Đang thực hiện: {action}.",
                confirm: "Có phải bạn muốn {action}?",
                disambiguate: "Bạn muốn thực hiện việc nào: {actions}?",
                clarify: "Xin lỗi, tôi chưa hiểu yêu cầu của bạn. Bạn có thể nói rõ hơn không?",
                or: "hoặc"),
            .en: DecisionMessages(
                execute: "Doing it: {action}.",
                confirm: "Do you want to {action}?",
                disambiguate: "Which one do you mean: {actions}?",
                clarify: "Sorry, I did not understand the request. Could you say more?",
                or: "or"),
        ],
        defaultLanguage: .vi,
        runtime: RuntimeSettings(cacheTTLSeconds: 300, cacheMaxEntries: 1000, reloadCheckIntervalSeconds: 1),
        models: [
            // Swept on the shipped devset and Banking77 (README, Routing): a floor of 0.2 lets
            // every action through, out-of-scope recall 0.067; at 0.7 (0.8 for Vietnamese) 0.967.
            "intfloat/multilingual-e5-small": ModelOverride(floor: 0.7, languageFloors: [.vi: 0.8]),
        ])
}
