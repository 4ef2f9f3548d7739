import DocumentStore
import Retrieval

/// Finds the context for a question when the caller gives none.
package protocol ContextRetriever: Sendable {
    func retrieve(org: OrgID, query: String, limit: Int, minScore: Double?) async throws -> [ContextChunk]
}

/// The search library's hybrid retrieval over the org's latest ready versions.
package struct SearchRetriever: ContextRetriever {
    package let searcher: HybridSearcher

    package init(searcher: HybridSearcher) { self.searcher = searcher }

    package func retrieve(org: OrgID, query: String, limit: Int, minScore: Double?) async throws -> [ContextChunk] {
        // The query was checked against the same 2,000-character limit search applies.
        var request = SearchRequest(query: query, limit: limit, minScore: minScore.map(Float.init))
        // With a reranker configured, the answer's context is the reranked best, not the fused.
        request.rerank = searcher.reranks
        let response = try await searcher.search(org: org, request)
        // The best fusion score possible: first in both arms.
        let best = (searcher.denseWeight + searcher.keywordWeight) / (searcher.rrfK + 1)
        return response.results.map { hit in
            let relevance = hit.denseScore.map { min(1, max(0, $0)) } ?? min(1, max(0, hit.score / best))
            return ContextChunk(chunkId: hit.chunkId, documentId: hit.documentId, title: hit.title, page: nil, content: hit.text,
                                relevance: relevance)
        }
    }
}

/// A retriever for deployments (and tests) without a store: nothing is ever found.
package struct NoRetriever: ContextRetriever {
    package init() {}
    package func retrieve(org: OrgID, query: String, limit: Int, minScore: Double?) async throws -> [ContextChunk] { [] }
}
