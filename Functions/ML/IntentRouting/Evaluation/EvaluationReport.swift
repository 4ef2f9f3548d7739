/// How one devset line was routed.
package struct EvaluationOutcome: Sendable, Hashable, Codable {
    package var text: String
    /// The expected action id, or `oos`.
    package var label: String
    /// Action ids, best first (all of them, so MRR sees every rank).
    package var ranking: [String]
    /// The final scores of `ranking`, when the classifier has them.
    package var scores: [Double]
    package var strategy: UIStrategy

    package init(text: String, label: String, ranking: [String], scores: [Double] = [], strategy: UIStrategy) {
        self.text = text
        self.label = label
        self.ranking = ranking
        self.scores = scores
        self.strategy = strategy
    }

    enum CodingKeys: String, CodingKey {
        case text, label, ranking, scores, strategy
    }

    /// What the user would get: `oos` when the router asks to clarify, else its top action.
    package var predicted: String { strategy == .clarify ? LabelledText.outOfScope : (ranking.first ?? LabelledText.outOfScope) }
}

package struct ActionAccuracy: Sendable, Hashable, Codable {
    package var actionId: String
    /// In-scope devset lines with this label.
    package var support: Int
    /// Of those, how many had it ranked first.
    package var top1: Int
    package var accuracy: Double

    package init(actionId: String, support: Int, top1: Int, accuracy: Double) {
        self.actionId = actionId
        self.support = support
        self.top1 = top1
        self.accuracy = accuracy
    }

    enum CodingKeys: String, CodingKey {
        case actionId = "action_id", support, top1 = "top1_correct", accuracy
    }
}

package struct ConfusionPair: Sendable, Hashable, Codable {
    package var expected: String
    package var predicted: String
    package var count: Int

    package init(expected: String, predicted: String, count: Int) {
        self.expected = expected
        self.predicted = predicted
        self.count = count
    }
}

/// The figures of a devset run.
///
/// - top-1, top-3, MRR: over in-scope lines only, from the ranking (whatever the UI decision):
///   how well the right action is ranked.
/// - accuracy: over all lines, from what the user would get (`EvaluationOutcome.predicted`):
///   in scope, the top action and no `clarify`; out of scope, `clarify`.
/// - OOS precision / recall: `clarify` as a detector of `oos` lines. Nil when undefined
///   (no `clarify` at all, or no `oos` line).
/// - confusion pairs: (expected, predicted) for every wrong `predicted`, most frequent first;
///   `oos` on either side means a wrong clarify or a missed out-of-scope line.
package struct EvaluationReport: Sendable, Hashable, Codable {
    package var lines: Int
    package var inScope: Int
    package var outOfScope: Int
    package var top1: Double
    package var top3: Double
    package var mrr: Double
    package var accuracy: Double
    package var oosPrecision: Double?
    package var oosRecall: Double?
    package var strategies: [String: Int]
    package var perAction: [ActionAccuracy]
    package var confusions: [ConfusionPair]

    enum CodingKeys: String, CodingKey {
        case lines, inScope = "in_scope", outOfScope = "out_of_scope", top1 = "top1", top3 = "top3", mrr, accuracy
        case oosPrecision = "oos_precision", oosRecall = "oos_recall", strategies
        case perAction = "per_action", confusions = "confusion_pairs"
    }

    package init(outcomes: [EvaluationOutcome]) {
        let oos = LabelledText.outOfScope
        let inside = outcomes.filter { $0.label != oos }
        lines = outcomes.count
        inScope = inside.count
        outOfScope = outcomes.count - inside.count

        var hits1 = 0, hits3 = 0, reciprocal = 0.0
        var support: [String: Int] = [:], correct: [String: Int] = [:]
        for o in inside {
            support[o.label, default: 0] += 1
            if let rank = o.ranking.firstIndex(of: o.label) {
                reciprocal += 1 / Double(rank + 1)
                if rank == 0 {
                    hits1 += 1
                    correct[o.label, default: 0] += 1
                }
                if rank < 3 { hits3 += 1 }
            }
        }
        let n = Double(max(1, inside.count))
        top1 = inside.isEmpty ? 0 : Double(hits1) / n
        top3 = inside.isEmpty ? 0 : Double(hits3) / n
        mrr = inside.isEmpty ? 0 : reciprocal / n

        var right = 0, clarifyOnOOS = 0, clarifies = 0
        var pairs: [ConfusionPair: Int] = [:]
        var strategies: [String: Int] = [:]
        for o in outcomes {
            strategies[o.strategy.rawValue, default: 0] += 1
            if o.strategy == .clarify {
                clarifies += 1
                if o.label == oos { clarifyOnOOS += 1 }
            }
            if o.predicted == o.label {
                right += 1
            } else {
                pairs[ConfusionPair(expected: o.label, predicted: o.predicted, count: 0), default: 0] += 1
            }
        }
        self.strategies = strategies
        accuracy = outcomes.isEmpty ? 0 : Double(right) / Double(outcomes.count)
        oosPrecision = clarifies == 0 ? nil : Double(clarifyOnOOS) / Double(clarifies)
        oosRecall = outOfScope == 0 ? nil : Double(clarifyOnOOS) / Double(outOfScope)
        perAction = support.keys.sorted().map { id in
            ActionAccuracy(actionId: id, support: support[id]!, top1: correct[id] ?? 0,
                           accuracy: Double(correct[id] ?? 0) / Double(support[id]!))
        }
        confusions = pairs.map { ConfusionPair(expected: $0.key.expected, predicted: $0.key.predicted, count: $0.value) }
            .sorted { ($0.count, $1.expected, $1.predicted) > ($1.count, $0.expected, $0.predicted) }
    }
}
