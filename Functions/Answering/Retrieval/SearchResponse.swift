/// One hit. `dense_rank`/`keyword_rank` say where each arm put it (null: that arm did not
/// return it), for debugging relevance.
public struct SearchHit: Encodable, Sendable, Equatable {
    public var chunkId: String
    public var documentId: String
    public var title: String
    public var text: String
    public var charStart: Int
    public var charEnd: Int
    public var score: Double
    public var denseRank: Int?
    public var keywordRank: Int?
    public var denseScore: Double?
    public var keywordScore: Double?
    /// The model whose vector matched, when the dense arm found it.
    public var model: String?

    enum CodingKeys: String, CodingKey {
        case chunkId = "chunk_id", documentId = "document_id", title, text, charStart = "char_start", charEnd = "char_end"
        case score, denseRank = "dense_rank", keywordRank = "keyword_rank", denseScore = "dense_score"
        case keywordScore = "keyword_score", model
    }

    public func encode(to encoder: any Encoder) throws {
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
    }
}

public struct SearchResponse: Encodable, Sendable {
    public var results: [SearchHit]
    public var mode: String
    public var groupBy: String
    /// The model the query was embedded with (the configured one), or null in keyword mode.
    public var queryModel: String?
    /// Matches after grouping and `min_score`, before `limit` (at most the candidate pool).
    public var total: Int
    public var tookMs: Double
    /// The query was longer than the model's input and was cut; `query_tokens` says by how much.
    public var queryTruncated: Bool
    public var queryTokens: Int?
    /// Things the caller should know: documents on a model this deployment cannot embed queries
    /// for (found by keyword only until they are re-embedded).
    public var warnings: [String]
    /// Where `took_ms` went, for tuning a deployment without a profiler.
    public var timings: SearchTimings

    enum CodingKeys: String, CodingKey {
        case results, mode, groupBy = "group_by", queryModel = "query_model", total, tookMs = "took_ms"
        case queryTruncated = "query_truncated", queryTokens = "query_tokens", warnings, timings
    }
}

/// Milliseconds per phase of one search. The two arms run side by side, so `dense_ms` and
/// `keyword_ms` overlap; an arm the mode skips is 0.
public struct SearchTimings: Encodable, Sendable, Equatable {
    /// Embedding the query (once per model the org has vectors of; a cache hit is ~0).
    public var embedMs: Double = 0
    public var denseMs: Double = 0
    public var keywordMs: Double = 0
    /// Reading the page's texts and titles.
    public var pageMs: Double = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case embedMs = "embed_ms", denseMs = "dense_ms", keywordMs = "keyword_ms", pageMs = "page_ms"
    }
}
