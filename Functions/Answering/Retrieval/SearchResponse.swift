/// One hit. `dense_rank`/`keyword_rank` say where each arm put it (null: that arm did not
/// return it), for debugging relevance.
package struct SearchHit: Encodable, Sendable, Equatable {
    package var chunkId: String
    package var documentId: String
    package var title: String
    package var text: String
    package var charStart: Int
    package var charEnd: Int
    package var score: Double
    package var denseRank: Int?
    package var keywordRank: Int?
    package var denseScore: Double?
    package var keywordScore: Double?
    /// The model whose vector matched, when the dense arm found it.
    package var model: String?
    /// The reranker's score, when this hit was among the reranked candidates.
    package var rerankScore: Double?

    enum CodingKeys: String, CodingKey {
        case chunkId = "chunk_id", documentId = "document_id", title, text, charStart = "char_start", charEnd = "char_end"
        case score, denseRank = "dense_rank", keywordRank = "keyword_rank", denseScore = "dense_score"
        case keywordScore = "keyword_score", model, rerankScore = "rerank_score"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(chunkId, forKey: .chunkId)
        try c.encode(documentId, forKey: .documentId)
        try c.encode(title, forKey: .title)
        try c.encode(text, forKey: .text)
        try c.encode(charStart, forKey: .charStart)
        try c.encode(charEnd, forKey: .charEnd)
        try c.encode(score, forKey: .score)
        // Explicit nulls: "the keyword arm missed it" is information.
        try c.encode(denseRank, forKey: .denseRank)
        try c.encode(keywordRank, forKey: .keywordRank)
        try c.encodeIfPresent(denseScore, forKey: .denseScore)
        try c.encodeIfPresent(keywordScore, forKey: .keywordScore)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encodeIfPresent(rerankScore, forKey: .rerankScore)
    }
}

package struct SearchResponse: Encodable, Sendable {
    package var results: [SearchHit]
    package var mode: String
    package var groupBy: String
    /// The model the query was embedded with (the configured one), or null in keyword mode.
    package var queryModel: String?
    /// Matches after grouping and `min_score`, before `limit` (at most the candidate pool).
    package var total: Int
    package var tookMs: Double
    /// The query was longer than the model's input and was cut; `query_tokens` says by how much.
    package var queryTruncated: Bool
    package var queryTokens: Int?
    /// Things the caller should know: documents on a model this deployment cannot embed queries
    /// for (found by keyword only until they are re-embedded).
    package var warnings: [String]
    /// Where `took_ms` went, for tuning a deployment without a profiler.
    package var timings: SearchTimings

    enum CodingKeys: String, CodingKey {
        case results, mode, groupBy = "group_by", queryModel = "query_model", total, tookMs = "took_ms"
        case queryTruncated = "query_truncated", queryTokens = "query_tokens", warnings, timings
    }
}

/// Milliseconds per phase of one search. The two arms run side by side, so `dense_ms` and
/// `keyword_ms` overlap; an arm the mode skips is 0.
package struct SearchTimings: Encodable, Sendable, Equatable {
    /// Embedding the query (once per model the org has vectors of; a cache hit is ~0).
    package var embedMs: Double = 0
    package var denseMs: Double = 0
    package var keywordMs: Double = 0
    /// Reading the page's texts and titles.
    package var pageMs: Double = 0
    /// Reading the candidates' texts and the reranker's call (absent without `rerank`).
    package var rerankMs: Double?

    package init() {}

    enum CodingKeys: String, CodingKey {
        case embedMs = "embed_ms", denseMs = "dense_ms", keywordMs = "keyword_ms", pageMs = "page_ms", rerankMs = "rerank_ms"
    }
}
