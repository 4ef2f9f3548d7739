import Embeddings
import LanguageDetection

/// How the dense and keyword arms are fused for one query when the request does not say
/// (`fusion` in the request always wins). Reciprocal Rank Fusion with equal weights lets a weak
/// arm pull a query below the better arm alone; which arm is weak is predictable from the query
/// and the model, so the weights follow it (nDCG@10 on the shipped set's categories, README,
/// Search evaluation):
///
/// - **Vietnamese typed without diacritics** (`xin nghi phep nam`): the keyword arm folds accents
///   on both sides and matches it as well as accented text, while a dense model sees other words
///   (multilingual-e5-small's dense arm on the 27 such questions: 0.423, against 0.865 for the
///   same questions with diacritics; keyword: 0.758 both ways). Keyword-led, whatever the model.
/// - **Vietnamese with diacritics and a model that reads only English** (all-MiniLM-L6-v2: dense
///   0.661, keyword 0.780 on the 27). Keyword-led.
/// - **Vietnamese with diacritics and a multilingual model** (multilingual-e5-small: dense 0.865,
///   keyword 0.758, equal-weight RRF 0.829; Vietnamese questions over English-only answers: dense
///   0.294, keyword 0.093, RRF 0.200, since the keyword arm can only bring same-language
///   documents). Dense-led.
/// - **Everything else**: the deployment's defaults (`SearchDefaults`). English under
///   multilingual-e5-small is not dense-led: on BEIR NFCorpus equal-weight RRF (0.332) beats both
///   dense (0.315) and dense-led (0.319).
///
/// "Led" is RRF with k = 10 and the other arm at a twentieth of the weight: the leading arm's order
/// decides, and the other only reorders documents the leader ranks close together (at k 10 a
/// twentieth cannot swap the leader's first four ranks). At a tenth the other arm already cost
/// the cross-language questions under e5 (0.294 to 0.265); at a twentieth every Vietnamese
/// category is at its better arm under both models.
package struct FusionPolicy: Sendable, Equatable {
    package struct Settings: Sendable, Equatable {
        package var k: Double
        package var denseWeight: Double
        package var keywordWeight: Double
        /// Why, for the response's `fusion` field and the logs.
        package var rule: String
    }

    /// Whether the dense arm's model reads Vietnamese.
    package var denseReadsVietnamese: Bool
    package var defaults: Settings

    package init(denseModel: String, k: Double = SearchDefaults.rrfK, denseWeight: Double = SearchDefaults.denseWeight,
                 keywordWeight: Double = SearchDefaults.keywordWeight) {
        denseReadsVietnamese = Self.multilingualModels.contains(EmbeddingModelRegistry.spec(for: denseModel)?.id ?? denseModel)
        defaults = Settings(k: k, denseWeight: denseWeight, keywordWeight: keywordWeight, rule: "default")
    }

    /// Models whose training covers Vietnamese.
    static let multilingualModels: Set<String> = [
        "intfloat/multilingual-e5-small", "intfloat/multilingual-e5-base", "intfloat/multilingual-e5-large",
        "jinaai/jina-embeddings-v3", "BAAI/bge-m3",
    ]

    static let keywordLed = Settings(k: 10, denseWeight: 0.05, keywordWeight: 1, rule: "keyword_led")
    static let denseLed = Settings(k: 10, denseWeight: 1, keywordWeight: 0.05, rule: "dense_led")

    package func settings(for query: String) -> Settings {
        guard Language.detect(query, fallback: .en) == .vi else { return defaults }
        let unaccented = query.unicodeScalars.allSatisfy(\.isASCII)
        if unaccented { return with(Self.keywordLed, rule: "keyword_led:vi_unaccented") }
        if !denseReadsVietnamese { return with(Self.keywordLed, rule: "keyword_led:vi_english_model") }
        return with(Self.denseLed, rule: "dense_led:vi_multilingual_model")
    }

    private func with(_ s: Settings, rule: String) -> Settings {
        var s = s
        s.rule = rule
        return s
    }
}
