/// `POST /v1/generate`'s answer.
package struct GenerateResponse: Encodable, Sendable {
    package var answer: String
    package var citations: [Citation]
    package var confidenceScore: Double
    package var responseMetadata: ResponseMetadata

    enum CodingKeys: String, CodingKey {
        case answer, citations, confidenceScore = "confidence_score", responseMetadata = "response_metadata"
    }
}

/// Which fallback produced the answer, when the first choice did not.
package enum FallbackKind: String, Sendable, Encodable {
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

package struct ResponseMetadata: Encodable, Sendable {
    /// The provider that answered; nil for the fallbacks built here.
    package var provider: String?
    package var modelUsed: String?
    package var tokensIn: Int
    package var tokensOut: Int
    /// True when the provider reported no usage and the counts are estimates.
    package var tokensEstimated: Bool
    package var processingTimeMs: Double
    /// USD, from the provider's reported tokens and `providers.yaml`'s prices.
    package var costEstimate: Double
    package var cacheHit: Bool
    package var attempts: [AttemptRecord]
    package var fallback: FallbackKind?
    package var language: Language
    package var contextSource: ContextSource
    /// Chunks given (or found) and chunks that fit the prompt.
    package var contextChunks: Int
    package var contextChunksUsed: Int
    /// `[n]` markers in the model's answer that named no chunk it was given (removed).
    package var citationsDropped: Int
    /// Secrets, card numbers and the like replaced in the output.
    package var redactions: Int

    enum CodingKeys: String, CodingKey {
        case provider, modelUsed = "model_used", tokensIn = "tokens_in", tokensOut = "tokens_out"
        case tokensEstimated = "tokens_estimated", processingTimeMs = "processing_time_ms", costEstimate = "cost_estimate"
        case cacheHit = "cache_hit", attempts, fallback, language, contextSource = "context_source"
        case contextChunks = "context_chunks", contextChunksUsed = "context_chunks_used", citationsDropped = "citations_dropped"
        case redactions
    }

    package func encode(to encoder: any Encoder) throws {
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
