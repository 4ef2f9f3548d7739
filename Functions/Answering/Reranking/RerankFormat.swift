#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// The rerank APIs' wire formats: where the request goes, what it holds, and where the scores
/// are in the answer.
package enum RerankFormat: String, Sendable, CaseIterable {
    /// Cohere: `POST /v2/rerank` `{model, query, documents, top_n}` -> `{results: [{index, relevance_score}]}`.
    case cohere
    /// Jina: `POST /v1/rerank`, the same shape as Cohere's.
    case jina
    /// Hugging Face text-embeddings-inference: `POST /rerank` `{query, texts, raw_scores}` -> `[{index, score}]`.
    case tei
    /// Voyage: `POST /v1/rerank` `{model, query, documents, top_k}` -> `{data: [{index, relevance_score}]}`.
    case voyage

    package var path: String {
        switch self {
        case .cohere: "/v2/rerank"
        case .jina, .voyage: "/v1/rerank"
        case .tei: "/rerank"
        }
    }

    package var defaultBaseURL: String? {
        switch self {
        case .cohere: "https://api.cohere.com"
        case .jina: "https://api.jina.ai"
        case .voyage: "https://api.voyageai.com"
        case .tei: nil
        }
    }

    /// Whether the API needs a model name (TEI serves the one it was started with).
    package var needsModel: Bool { self != .tei }

    package func body(query: String, documents: [String], model: String?) -> Data {
        var w = JSONWriter(capacity: 64 + query.utf8.count + documents.reduce(0) { $0 + $1.utf8.count + 4 })
        w.raw("{\"query\":")
        w.string(query)
        switch self {
        case .tei:
            w.raw(",\"texts\":")
            w.strings(documents)
            w.raw(",\"raw_scores\":false,\"return_text\":false")
        case .cohere, .jina, .voyage:
            if let model {
                w.raw(",\"model\":")
                w.string(model)
            }
            w.raw(",\"documents\":")
            w.strings(documents)
            w.raw(self == .voyage ? ",\"top_k\":" : ",\"top_n\":")
            w.int(Int64(documents.count))
            if self == .jina { w.raw(",\"return_documents\":false") }
        }
        w.raw("}")
        return Data(w.bytes)
    }

    /// The scores in document order. Every document must be scored exactly once with a finite
    /// number: a reranker that drops or repeats one would silently reorder the results.
    package func scores(_ body: [UInt8], count: Int) throws(RerankError) -> [Double] {
        let root: JSONValue
        do { root = try JSONValue.parse(body) } catch { throw .malformedResponse("not JSON: \(error)") }
        let items: [JSONValue]?
        let scoreKey: String
        switch self {
        case .tei: items = root.arrayValue; scoreKey = "score"
        case .cohere, .jina: items = root["results"]?.arrayValue; scoreKey = "relevance_score"
        case .voyage: items = root["data"]?.arrayValue; scoreKey = "relevance_score"
        }
        guard let items else {
            throw .malformedResponse(self == .tei ? "expected an array of {index, score}" : "expected `\(self == .voyage ? "data" : "results")`")
        }
        var out = [Double?](repeating: nil, count: count)
        for (n, item) in items.enumerated() {
            guard let i = item["index"]?.intValue, (0..<count).contains(i) else {
                throw .malformedResponse("item \(n) has no index in 0..<\(count)")
            }
            guard out[i] == nil else { throw .malformedResponse("document \(i) is scored twice") }
            guard let s = item[scoreKey]?.doubleValue, s.isFinite else { throw .malformedResponse("item \(n) has no finite `\(scoreKey)`") }
            out[i] = s
        }
        guard out.allSatisfy({ $0 != nil }) else {
            throw .malformedResponse("\(out.filter { $0 == nil }.count) of \(count) documents were not scored")
        }
        return out.map { $0! }
    }
}
