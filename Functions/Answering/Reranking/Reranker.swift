/// Orders candidate passages by their relevance to a query, better than the fused ranks can
/// (a cross-encoder reads the query and the passage together). `HTTPReranker` speaks the hosted
/// and self-hosted wire formats.
package protocol Reranker: Sendable {
    /// Shown in warnings and metrics.
    var name: String { get }
    /// One score per document, in the documents' order (higher is more relevant).
    func rerank(query: String, documents: [String]) async throws(RerankError) -> [Double]
}

/// Why reranking failed; search falls back to the fused order with the reason as a warning.
package enum RerankError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Down, slow, its breaker open, or a 5xx: worth retrying later.
    case unavailable(String)
    /// A 401 or 403.
    case unauthorized(String)
    case rateLimited(String)
    /// A 4xx other than those: the request or the model name.
    case badRequest(String)
    /// A 200 that is not the scores asked for.
    case malformedResponse(String)
    /// Configuration that cannot work; the message says how to fix it.
    case configuration(String)

    package var description: String {
        switch self {
        case .unavailable(let m): "reranker unavailable: \(m)"
        case .unauthorized(let m): "reranker refused the credentials: \(m)"
        case .rateLimited(let m): "reranker rate limit: \(m)"
        case .badRequest(let m): "reranker refused the request: \(m)"
        case .malformedResponse(let m): "reranker sent a malformed response: \(m)"
        case .configuration(let m): "reranker configuration: \(m)"
        }
    }
}
