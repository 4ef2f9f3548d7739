import Foundation
import SearchEvaluation

/// One run: a mode, with fusion settings for hybrid when the run overrides them.
struct EvaluationRun: Sendable {
    var mode: String
    var k: Double?
    var denseWeight: Double?
    var keywordWeight: Double?

    var label: String {
        var parts: [String] = []
        if let k { parts.append("k=\(Self.num(k))") }
        if let denseWeight, let keywordWeight { parts.append("w=\(Self.num(denseWeight)):\(Self.num(keywordWeight))") }
        return parts.isEmpty ? mode : "\(mode) \(parts.joined(separator: " "))"
    }

    static func num(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    /// BEIR judges documents: one result per document, 100 of them for Recall@100.
    func body(query: String) -> [String: Any] {
        var b: [String: Any] = ["query": query, "mode": mode, "limit": 100, "group_by": "document"]
        var fusion: [String: Any] = [:]
        if let k { fusion["k"] = k }
        if let denseWeight { fusion["dense_weight"] = denseWeight }
        if let keywordWeight { fusion["keyword_weight"] = keywordWeight }
        if !fusion.isEmpty { b["fusion"] = fusion }
        return b
    }
}

struct EvaluationResult: Codable {
    var run: String
    var metrics: MetricSummary
    /// Client-observed latency per query, for orientation only (the bench measures latency).
    var p50Ms: Double
    var seconds: Double
    /// The same figures over each category's queries, when categories were given.
    var categories: [String: MetricSummary]? = nil
}

struct EvaluationReport: Codable {
    var documents: Int
    var failedDocuments: Int
    var queries: Int
    var results: [EvaluationResult]

    func table() -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var lines = ["\(documents) documents (\(failedDocuments) failed to index), \(queries) queries", ""]
        lines.append(pad("run", 26) + pad("nDCG@10", 9) + pad("R@10", 9) + pad("R@100", 9) + pad("MRR@10", 9) + "p50 ms")
        for r in results {
            let m = r.metrics
            lines.append(pad(r.run, 26) + [m.ndcg10, m.recall10, m.recall100, m.mrr10].map { pad(String(format: "%.3f", $0), 9) }.joined()
                         + String(format: "%.1f", r.p50Ms))
        }
        // nDCG@10 per category: a row per category, a column per run.
        let categories = Set(results.flatMap { $0.categories?.keys.map { $0 } ?? [] }).sorted()
        if !categories.isEmpty {
            lines.append("")
            lines.append(pad("nDCG@10 by category", 26) + results.map { pad($0.run, 12) }.joined())
            for c in categories {
                let n = results.first?.categories?[c]?.queries ?? 0
                lines.append(pad("\(c) (\(n))", 26) + results.map { pad($0.categories?[c].map { String(format: "%.3f", $0.ndcg10) } ?? "-", 12) }.joined())
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }
}
