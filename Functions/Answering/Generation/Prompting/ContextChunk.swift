/// A passage the answer may use and cite, whether the caller passed it or search found it.
/// Its position in `GenerationContext.chunks` (1-based) is its citation number `[n]`.
package struct ContextChunk: Sendable, Equatable {
    package var chunkId: String
    package var documentId: String?
    package var title: String?
    package var page: Int?
    package var content: String
    /// Relevance in [0, 1] when known (the caller's `confidence_score`, a dense similarity, a
    /// normalised fusion score); feeds the confidence score.
    package var relevance: Double?

    package init(chunkId: String, documentId: String? = nil, title: String? = nil, page: Int? = nil,
                content: String, relevance: Double? = nil) {
        self.chunkId = chunkId
        self.documentId = documentId
        self.title = title
        self.page = page
        self.content = content
        self.relevance = relevance
    }
}

/// Where the context came from: the caller's `context_chunks` or a search of the org.
package enum ContextSource: String, Sendable, Encodable {
    case request
    case search
}
