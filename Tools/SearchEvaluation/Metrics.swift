import Foundation

/// Ranking metrics as BEIR reports them (pytrec_eval's definitions), so figures compare with
/// published ones: graded judgments, a document is relevant when its grade is above 0.
package enum RankingMetrics {
    /// nDCG@k with linear gains (gain = grade, as pytrec_eval's `ndcg_cut`, which BEIR uses) and
    /// a log2(rank + 1) discount; the ideal ranking is the judged documents by grade. 0 when
    /// nothing relevant is judged.
    package static func ndcg(ranking: [String], judgments: [String: Int], k: Int) -> Double {
        var dcg = 0.0
        var seen = Set<String>()
        for (i, id) in ranking.prefix(k).enumerated() where seen.insert(id).inserted {
            let g = judgments[id] ?? 0
            if g > 0 { dcg += Double(g) / log2(Double(i + 2)) }
        }
        let ideal = judgments.values.filter { $0 > 0 }.sorted(by: >).prefix(k).enumerated()
            .reduce(0.0) { $0 + Double($1.element) / log2(Double($1.offset + 2)) }
        return ideal > 0 ? dcg / ideal : 0
    }

    /// Relevant documents in the top k over all relevant ones (0 when none is judged relevant).
    package static func recall(ranking: [String], judgments: [String: Int], k: Int) -> Double {
        let relevant = Set(judgments.filter { $0.value > 0 }.keys)
        guard !relevant.isEmpty else { return 0 }
        return Double(Set(ranking.prefix(k)).intersection(relevant).count) / Double(relevant.count)
    }

    /// 1 / rank of the first relevant document in the top k, else 0.
    package static func reciprocalRank(ranking: [String], judgments: [String: Int], k: Int) -> Double {
        for (i, id) in ranking.prefix(k).enumerated() where (judgments[id] ?? 0) > 0 { return 1 / Double(i + 1) }
        return 0
    }
}

/// The four figures the harness prints, averaged over the queries that have judgments.
package struct MetricSummary: Sendable, Equatable, Codable {
    package var ndcg10: Double
    package var recall10: Double
    package var recall100: Double
    package var mrr10: Double
    package var queries: Int

    package init(ndcg10: Double, recall10: Double, recall100: Double, mrr10: Double, queries: Int) {
        self.ndcg10 = ndcg10
        self.recall10 = recall10
        self.recall100 = recall100
        self.mrr10 = mrr10
        self.queries = queries
    }

    /// - Parameters:
    ///   - rankings: query id -> ranked corpus ids (a query without a ranking scores 0).
    ///   - qrels: query id -> corpus id -> grade; only these queries are averaged (BEIR's rule).
    package static func evaluate(rankings: [String: [String]], qrels: [String: [String: Int]]) -> MetricSummary {
        let ids = qrels.keys.filter { qrels[$0]!.values.contains { $0 > 0 } }
        guard !ids.isEmpty else { return MetricSummary(ndcg10: 0, recall10: 0, recall100: 0, mrr10: 0, queries: 0) }
        var s = MetricSummary(ndcg10: 0, recall10: 0, recall100: 0, mrr10: 0, queries: ids.count)
        for q in ids {
            let r = rankings[q] ?? [], j = qrels[q]!
            s.ndcg10 += RankingMetrics.ndcg(ranking: r, judgments: j, k: 10)
            s.recall10 += RankingMetrics.recall(ranking: r, judgments: j, k: 10)
            s.recall100 += RankingMetrics.recall(ranking: r, judgments: j, k: 100)
            s.mrr10 += RankingMetrics.reciprocalRank(ranking: r, judgments: j, k: 10)
        }
        let n = Double(ids.count)
        s.ndcg10 /= n
        s.recall10 /= n
        s.recall100 /= n
        s.mrr10 /= n
        return s
    }
}
