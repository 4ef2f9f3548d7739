/// Reciprocal Rank Fusion: each arm adds `weight / (k + rank)` for every chunk it ranked
/// (ranks from 1). Scores are comparable across queries after dividing by the best possible
/// fused score (rank 1 in every arm), which maps them to (0, 1]: `min_score` then means the same
/// for every query.
package struct RankFusion: Sendable, Equatable {
    package var k: Double
    package var weights: [Double]

    package init(k: Double = SearchDefaults.rrfK, weights: [Double]) {
        self.k = k
        self.weights = weights
    }

    package struct Fused: Sendable, Equatable {
        package var id: String
        /// Normalised to (0, 1].
        package var score: Double
        /// 1-based rank in each arm, nil where the arm did not return it.
        package var ranks: [Int?]
    }

    /// - Parameter arms: ids in rank order, one list per arm (same order as `weights`).
    package func fuse(_ arms: [[String]]) -> [Fused] {
        precondition(arms.count == weights.count, "one weight per arm")
        var score: [String: Double] = [:]
        var ranks: [String: [Int?]] = [:]
        var firstSeen: [String: Int] = [:]
        var order = 0
        for (a, ids) in arms.enumerated() {
            for (i, id) in ids.enumerated() {
                if ranks[id] == nil {
                    ranks[id] = Array(repeating: nil, count: arms.count)
                    firstSeen[id] = order
                    order += 1
                }
                guard ranks[id]![a] == nil else { continue }  // an arm's duplicate counts once
                ranks[id]![a] = i + 1
                score[id, default: 0] += weights[a] / (k + Double(i + 1))
            }
        }
        let best = weights.reduce(0) { $0 + $1 / (k + 1) }
        return score.map { Fused(id: $0.key, score: best > 0 ? $0.value / best : 0, ranks: ranks[$0.key]!) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : firstSeen[$0.id]! < firstSeen[$1.id]! }
    }
}
