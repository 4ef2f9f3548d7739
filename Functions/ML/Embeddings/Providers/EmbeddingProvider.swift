/// What a text is for. Models trained with prefixes (E5's "query: " / "passage: ") embed the two
/// differently; symmetric models such as all-MiniLM-L6-v2 ignore it. Callers always say which,
/// so swapping the model never means finding every call site.
package enum EmbeddingRole: String, Sendable, Hashable, CaseIterable {
    case query
    case passage
}

/// One text's embedding, with the token counts a caller needs to warn about (or chunk around)
/// truncation.
package struct Embedding: Sendable, Hashable {
    /// L2-normalised, so cosine similarity is a dot product.
    package var vector: [Float]
    /// Tokens the model saw, after truncation, special tokens included.
    package var tokenCount: Int
    /// Tokens the whole text would have needed, special tokens included.
    package var untruncatedTokenCount: Int
    /// Whether the text was cut to fit the model's input length.
    package var truncated: Bool

    package init(vector: [Float], tokenCount: Int, untruncatedTokenCount: Int, truncated: Bool) {
        self.vector = vector
        self.tokenCount = tokenCount
        self.untruncatedTokenCount = untruncatedTokenCount
        self.truncated = truncated
    }
}

/// Turns texts into vectors. Implementations throw `EmbeddingError`.
package protocol EmbeddingProvider: Sendable {
    /// Stored next to every vector, so vectors from different models are never compared.
    var modelId: String { get }
    var dimension: Int { get }
    /// Longest input in tokens, special tokens included; longer texts are truncated.
    var maxInputTokens: Int { get }
    /// One embedding per text, in order.
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding]
    /// Whether an embedding costs only this process's CPU (no request, no bill, no outage), so
    /// a caller may compute one it might not need, to overlap it with other waiting.
    var runsLocally: Bool { get }
}

extension EmbeddingProvider {
    package var runsLocally: Bool { false }
}

/// A provider that can count a text's tokens with the model's own tokenizer, so the chunker cuts
/// where the model would (an HTTP model's count is estimated instead).
package protocol CountsTokens: Sendable {
    /// Content tokens of `text`, without the model's special tokens or role prefix.
    func countTokens(_ text: String) -> Int
}
