/// `POST /v1/generate`'s answer.
public struct GenerateResponse: Encodable, Sendable {
    public var answer: String
    public var citations: [Citation]
    public var confidenceScore: Double
    public var responseMetadata: ResponseMetadata

    enum CodingKeys: String, CodingKey {
        case answer, citations, confidenceScore = "confidence_score", responseMetadata = "response_metadata"
    }
}

/// Which fallback produced the answer, when the first choice did not.
public enum FallbackKind: String, Sendable, Encodable {
    /// A provider after the first in the chain answered.
    case nextProvider = "next_provider"
    /// A provider's fallback model answered.
    case fallbackModel = "fallback_model"
    /// No provider answered: the best-matching context sentences.
    case extractive
    /// No sentence matched the query: the search results with the template's message.
    case searchOnly = "search_only"
    /// Nothing to answer from: the no-context message.
    case noContext = "no_context"
}

public struct ResponseMetadata: Encodable, Sendable {
    /// The provider that answered; nil for the fallbacks built here.
    public var provider: String?
    public var modelUsed: String?
    public var tokensIn: Int
    public var tokensOut: Int
    /// True when the provider reported no usage and the counts are estimates.
    public var tokensEstimated: Bool
    public var processingTimeMs: Double
    /// USD, from the provider's reported tokens and `providers.yaml`'s prices.
    public var costEstimate: Double
    public var cacheHit: Bool
    public var attempts: [AttemptRecord]
    public var fallback: FallbackKind?
    public var language: Language
    public var contextSource: ContextSource
    /// Chunks given (or found) and chunks that fit the prompt.
    public var contextChunks: Int
    public var contextChunksUsed: Int
    /// `[n]` markers in the model's answer that named no chunk it was given (removed).
    public var citationsDropped: Int
    /// Secrets, card numbers and the like replaced in the output.
    public var redactions: Int

    enum CodingKeys: String, CodingKey {
        case provider, modelUsed = "model_used", tokensIn = "tokens_in", tokensOut = "tokens_out"
        case tokensEstimated = "tokens_estimated", processingTimeMs = "processing_time_ms", costEstimate = "cost_estimate"
        case cacheHit = "cache_hit", attempts, fallback, language, contextSource = "context_source"
        case contextChunks = "context_chunks", contextChunksUsed = "context_chunks_used", citationsDropped = "citations_dropped"
        case redactions
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        // Explicit nulls: "no provider answered" is information.
        try c.encode(provider, forKey: .provider)
        try c.encode(modelUsed, forKey: .modelUsed)
        try c.encode(tokensIn, forKey: .tokensIn)
        try c.encode(tokensOut, forKey: .tokensOut)
        try c.encode(tokensEstimated, forKey: .tokensEstimated)
        try c.encode(processingTimeMs, forKey: .processingTimeMs)
        try c.encode(costEstimate, forKey: .costEstimate)
        try c.encode(cacheHit, forKey: .cacheHit)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(fallback, forKey: .fallback)
        try c.encode(language, forKey: .language)
        try c.encode(contextSource, forKey: .contextSource)
        try c.encode(contextChunks, forKey: .contextChunks)
        try c.encode(contextChunksUsed, forKey: .contextChunksUsed)
        try c.encode(citationsDropped, forKey: .citationsDropped)
        try c.encode(redactions, forKey: .redactions)
    }
}
