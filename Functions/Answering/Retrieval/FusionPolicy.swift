import Embeddings
import LanguageDetection

/// How the dense and keyword arms are fused for one query when the request does not say
/// (`fusion` in the request always wins). Reciprocal Rank Fusion with equal weights lets a weak
/// arm pull a query below the better arm alone; which arm is weak is predictable from the query
/// and the model, so the weights follow it:
///
/// - **Vietnamese typed without diacritics** (`xin nghi phep nam`): the keyword arm folds accents
///   on both sides and matches it as well as accented text, while a dense model sees other words
///   (multilingual-e5-small's dense nDCG@10 on the shipped set's 27 such questions: 0.423, against
///   0.865 for the same questions with diacritics; keyword: 0.758 both ways). Keyword-led.
/// - **Vietnamese with diacritics and a model that reads only English** (all-MiniLM-L6-v2: dense
///   0.661, keyword 0.780 on the shipped set's 27). Keyword-led.
/// - **Everything else**: the deployment's defaults (`SearchDefaults`).
///
/// "Led" is RRF with k = 10 and the other arm at a tenth of the weight: the leading arm's order
/// decides, the other adds what the leader missed and breaks its ties. Measured in README,
/// Search evaluation (per category and on BEIR NFCorpus, so the rule is not fitted to one set).
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

    static let keywordLed = Settings(k: 10, denseWeight: 0.1, keywordWeight: 1, rule: "keyword_led")

    package func settings(for query: String) -> Settings {
        guard Language.detect(query, fallback: .en) == .vi else { return defaults }
        let unaccented = query.unicodeScalars.allSatisfy(\.isASCII)
        if unaccented { return with(Self.keywordLed, rule: "keyword_led:vi_unaccented") }
        if !denseReadsVietnamese { return with(Self.keywordLed, rule: "keyword_led:vi_english_model") }
        return defaults
    }

    private func with(_ s: Settings, rule: String) -> Settings {
        var s = s
        s.rule = rule
        return s
    }
}
