/// How one devset line was routed.
public struct EvaluationOutcome: Sendable, Hashable, Codable {
    public var text: String
    /// The expected action id, or `oos`.
    public var label: String
    /// Action ids, best first (all of them, so MRR sees every rank).
    public var ranking: [String]
    /// The final scores of `ranking`, when the classifier has them.
    public var scores: [Double]
    public var strategy: UIStrategy

    public init(text: String, label: String, ranking: [String], scores: [Double] = [], strategy: UIStrategy) {
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
    public var predicted: String { strategy == .clarify ? LabelledText.outOfScope : (ranking.first ?? LabelledText.outOfScope) }
}

public struct ActionAccuracy: Sendable, Hashable, Codable {
    public var actionId: String
    /// In-scope devset lines with this label.
    public var support: Int
    /// Of those, how many had it ranked first.
    public var top1: Int
    public var accuracy: Double

    public init(actionId: String, support: Int, top1: Int, accuracy: Double) {
        self.actionId = actionId
        self.support = support
        self.top1 = top1
        self.accuracy = accuracy
    }

    enum CodingKeys: String, CodingKey {
        case actionId = "action_id", support, top1 = "top1_correct", accuracy
    }
}

public struct ConfusionPair: Sendable, Hashable, Codable {
    public var expected: String
    public var predicted: String
    public var count: Int

    public init(expected: String, predicted: String, count: Int) {
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
public struct EvaluationReport: Sendable, Hashable, Codable {
    public var lines: Int
    public var inScope: Int
    public var outOfScope: Int
    public var top1: Double
    public var top3: Double
    public var mrr: Double
    public var accuracy: Double
    public var oosPrecision: Double?
    public var oosRecall: Double?
    public var strategies: [String: Int]
    public var perAction: [ActionAccuracy]
    public var confusions: [ConfusionPair]

    enum CodingKeys: String, CodingKey {
        case lines, inScope = "in_scope", outOfScope = "out_of_scope", top1 = "top1", top3 = "top3", mrr, accuracy
        case oosPrecision = "oos_precision", oosRecall = "oos_recall", strategies
        case perAction = "per_action", confusions = "confusion_pairs"
    }

    public init(outcomes: [EvaluationOutcome]) {
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
