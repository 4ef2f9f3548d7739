import Embeddings
import Foundation
import JSON

/// Scores requests against one configuration: rules, seed embeddings and BM25 word overlap per
/// action, fused (`ScoreFusion`), ranked, and turned into a UI decision (`UIDecision`).
/// Immutable: a new catalog means a new `Router` (see `RouterHost`), so a request in flight
/// always sees one consistent catalog.
package struct Router: Sendable {
    package let configuration: RouterConfiguration
    /// The configuration's settings resolved for the provider's model (`RouterSettings.models`).
    package let settings: RouterSettings
    package let provider: any EmbeddingProvider
    package let seeds: SeedMatrix
    /// Each action's seed rows and BM25 document, reused by the next build for unchanged actions.
    let prepared: [PreparedAction]
    let rules: RuleEngine
    let lexical: LexicalIndex
    let fusion: ScoreFusion
    let decision: UIDecision
    /// Per request language, per action, its normalised fusion weights.
    let weights: [RequestLanguage: [FusionWeights]]
    /// Trained on the seed vectors at build time (nil under two actions or with weight 0).
    let classifier: SeedClassifier?

    package var catalogVersion: String { configuration.version }
    package var catalog: ActionCatalog { configuration.catalog }

    /// A router, where its seed vectors came from, and what the build cost.
    package struct Build: Sendable {
        package let router: Router
        package let seeds: SeedMatrix.BuildReport
        /// Preparing changed actions' texts, copying the known vectors and embedding the others.
        package let seedsMilliseconds: Double
        /// The rules (compiled, or the previous router's when rules and action ids are the
        /// same), the lexical index and the fusion weights.
        package let indexMilliseconds: Double
        /// Texts the build embedded (0 when every vector was reused or read from a file).
        package var embeddedTexts: Int { seeds.embedded }
    }

    /// Builds a router, embedding the seeds (and descriptions) neither `previous` nor
    /// `precomputed` (a seed vector file) already has. With `previous`, only the actions whose
    /// texts changed are prepared again, and its compiled rules are kept if they still apply.
    package static func build(_ configuration: RouterConfiguration, provider: any EmbeddingProvider,
                             reusing previous: Router? = nil, precomputed: SeedVectorFile? = nil) async throws -> Build {
        let clock = ContinuousClock()
        let start = clock.now
        let prepared = PreparedAction.prepare(configuration, reusing: previous?.prepared)
        let (matrix, report) = try await SeedMatrix.build(prepared, provider: provider, reusing: previous?.seeds,
                                                          precomputed: precomputed)
        let seeded = clock.now
        let router = Router(configuration: configuration, provider: provider, seeds: matrix, prepared: prepared, previous: previous)
        return Build(router: router, seeds: report, seedsMilliseconds: (seeded - start).milliseconds,
                     indexMilliseconds: (clock.now - seeded).milliseconds)
    }

    init(configuration: RouterConfiguration, provider: any EmbeddingProvider, seeds: SeedMatrix, prepared: [PreparedAction],
         previous: Router?) {
        self.configuration = configuration
        let settings = configuration.settings.resolved(forModel: provider.modelId)
        self.settings = settings
        self.provider = provider
        self.seeds = seeds
        self.prepared = prepared
        // Compiling every regex again costs milliseconds; a seed edit changes no rule.
        let rules: RuleEngine
        if let previous, RuleEngine.sameInputs(previous.configuration, configuration) {
            rules = previous.rules
        } else {
            rules = RuleEngine(configuration: configuration)
        }
        let fusion = ScoreFusion(settings: settings.fusion)
        self.rules = rules
        self.fusion = fusion
        lexical = LexicalIndex(prepared: prepared, settings: settings.lexical)
        decision = UIDecision(thresholds: settings.decision)
        var weights: [RequestLanguage: [FusionWeights]] = [:]
        for language in RequestLanguage.allCases {
            weights[language] = configuration.catalog.actions.enumerated().map { i, a in
                fusion.weights(domain: a.domain, intentType: a.intentType, language: language, hasRule: rules.hasRule(i))
            }
        }
        self.weights = weights
        classifier = settings.embedding.classifierWeight > 0
            ? SeedClassifier(vectors: seeds.vectors, dimension: seeds.dimension, actionRows: seeds.actionRows,
                             shrinkage: settings.embedding.classifierShrinkage)
            : nil
    }

    // MARK: Routing

    /// Embeds the request (role `.query`) and scores it.
    package func route(_ text: String, requestId: String? = nil) async throws -> RouteResult {
        let normalized = NormalizedText(text)
        guard !normalized.isEmpty else { return result(for: normalized, ranked: [], requestId: requestId) }
        let embedding = try await provider.embed([normalized.normalized], role: .query)
        guard let vector = embedding.first?.vector else {
            throw EmbeddingError.malformedResponse("no embedding for the request")
        }
        // A provider swapped without a rebuild would otherwise score every action 0 in silence.
        guard vector.count == seeds.dimension else {
            throw EmbeddingError.configuration(
                "the query vector has \(vector.count) dimensions, the catalog's seed vectors \(seeds.dimension) (\(seeds.modelId))")
        }
        return score(normalized, queryVector: vector, requestId: requestId)
    }

    /// Scores a request whose embedding is already known (evaluation embeds a devset in one batch).
    package func score(_ text: NormalizedText, queryVector: [Float], requestId: String? = nil) -> RouteResult {
        let topK = settings.decision.topK
        return result(for: text, ranked: rank(text, queryVector: queryVector, explain: topK), requestId: requestId)
    }

    /// Every action scored, best first (ties by catalog order). The first `explain` get their
    /// `reasoning`; building it for all actions of a large catalog would cost more than scoring.
    package func rank(_ text: NormalizedText, queryVector: [Float], explain: Int = .max) -> [ScoredAction] {
        let language = RequestLanguage.detect(text, fallback: settings.defaultLanguage)
        let evidence = self.evidence(text, queryVector: queryVector, language: language)
        return evidence.enumerated().map { position, e in
            ScoredAction(actionId: configuration.catalog.actions[e.index].id, ruleScore: e.rule.score, embedScore: e.embedScore,
                         lexicalScore: e.lexicalScore, finalScore: e.finalScore,
                         reasoning: position < explain ? reasoning(e, language: language) : [])
        }
    }

    /// The scores of one action before they become a `ScoredAction`.
    struct Evidence {
        let index: Int
        let rule: RuleMatch
        let cosine: Double
        let bestRow: Int?
        let embedScore: Double
        let lexicalScore: Double
        let finalScore: Double
    }

    func evidence(_ text: NormalizedText, queryVector: [Float], language: RequestLanguage) -> [Evidence] {
        let actions = configuration.catalog.actions
        guard !text.isEmpty, !actions.isEmpty else { return [] }
        let embedding = settings.embedding
        let aggregates = seeds.aggregate(seeds.similarities(queryVector), settings: embedding)
        let lex = lexical.scores(text)
        let request = RuleEngine.Request(engine: rules, text: text)
        let floor = embedding.floor(for: language)
        let weights = self.weights[language]!
        // Relative to the most likely action's, so the classifier's choice keeps its whole
        // embedding score (the decision thresholds were set on it) and the others lose part.
        let posteriors = classifier?.posteriors(queryVector).relativeToMax
        let beta = embedding.classifierWeight
        var out: [Evidence] = []
        out.reserveCapacity(actions.count)
        for i in actions.indices {
            let rule = rules.match(i, request: request)
            let cosine = Double(aggregates[i].cosine)
            // Below the floor a cosine says nothing (MiniLM puts unrelated short texts there).
            var embedScore = min(1, max(0, (cosine - floor) / (1 - floor)))
            // The classifier only re-weights what the cosine already grants, so a request far
            // from every seed (out of scope) never gains from it.
            if let posteriors { embedScore *= (1 - beta) + beta * posteriors[i] }
            let lexicalScore = Double(lex[i])
            let final = fusion.fuse(rule: rule.score, embedding: embedScore, lexical: lexicalScore, weights: weights[i],
                                    patternFired: rule.patternFired, negativeStrength: rule.negativeStrength)
            out.append(Evidence(index: i, rule: rule, cosine: cosine, bestRow: aggregates[i].bestRow, embedScore: embedScore,
                                lexicalScore: lexicalScore, finalScore: final))
        }
        out.sort { $0.finalScore != $1.finalScore ? $0.finalScore > $1.finalScore : $0.index < $1.index }
        return out
    }

    func reasoning(_ e: Evidence, language: RequestLanguage) -> [String] {
        let action = configuration.catalog.actions[e.index]
        var out = e.rule.reasons
        var semantic = "embedding \(Self.format(e.embedScore)) (cosine \(Self.format(e.cosine))"
        if let row = e.bestRow {
            let slot = seeds.keys[row].slot
            let text = slot == SeedKey.descriptionSlot ? "description" : "seed #\(slot) '\(action.seeds[slot])'"
            semantic += ", closest \(text)"
        }
        out.append(semantic + ")")
        out.append("lexical \(Self.format(e.lexicalScore))")
        let s = settings.fusion
        if e.rule.patternFired { out.append("pattern bonus +\(Self.format(s.patternBonus))") }
        if e.rule.negativeStrength > 0 { out.append("negative penalty -\(Self.format(s.negativePenalty * e.rule.negativeStrength))") }
        let w = weights[language]![e.index]
        out.append("weights rule \(Self.format(w.rule)) / embedding \(Self.format(w.embedding)) / lexical \(Self.format(w.lexical))")
        return out
    }

    static func format(_ x: Double) -> String { Fixed2.format(x) }

    func result(for text: NormalizedText, ranked: [ScoredAction], requestId: String?) -> RouteResult {
        let language = RequestLanguage.detect(text, fallback: settings.defaultLanguage)
        let (strategy, choices) = decision.decide(ranked.map { (id: $0.actionId, score: $0.finalScore) })
        let message = UIDecision.message(strategy, choices: choices, catalog: configuration.catalog,
                                         messages: settings.messages(for: language), language: language)
        return RouteResult(requestId: requestId, topActions: Array(ranked.prefix(settings.decision.topK)), uiStrategy: strategy,
                           message: message, language: language, choices: choices, catalogVersion: configuration.version)
    }
}

extension [Double] {
    /// Each value over the largest (1 for the largest); all 1 when the largest is 0.
    var relativeToMax: [Double] {
        let top = self.max() ?? 0
        return top > 0 ? map { $0 / top } : map { _ in 1 }
    }
}
