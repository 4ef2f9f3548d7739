import TextFolding

/// The `confidence_score` in [0, 1], from three signals (README, "Confidence"):
///
/// - retrieval `R`: the mean relevance of the chunks the answer cites (of all chunks given when
///   it cites none); a chunk's relevance is the caller's `confidence_score`, else the dense
///   similarity search found, else its fusion score relative to the best possible, else 0.5;
/// - coverage `C`: the share of the answer's sentences that carry a valid `[n]`;
/// - checks `K`: the mean of three pass/fail checks: length within the configured bounds, no
///   invented citation numbers, not a "not found in the documents" answer.
///
/// A model's answer scores `0.4 R + 0.4 C + 0.2 K`, halved when citations are required and it
/// cites nothing. The fallbacks are capped below any cited model answer: extractive `0.5 R`
/// (every sentence is a quote, but nobody composed an answer), search only `0.25 R`, no context 0.
enum Confidence {
    struct Inputs {
        var relevances: [Double]
        var sentences: Int
        var citedSentences: Int
        var lengthOK: Bool
        var invented: Int
        var refusal: Bool
        var citationRequired: Bool
        var cited: Bool
    }

    static func retrieval(_ relevances: [Double]) -> Double {
        relevances.isEmpty ? 0 : relevances.reduce(0, +) / Double(relevances.count)
    }

    static func model(_ i: Inputs) -> Double {
        let r = retrieval(i.relevances)
        let c = i.sentences == 0 ? 0 : Double(i.citedSentences) / Double(i.sentences)
        let k = ((i.lengthOK ? 1.0 : 0) + (i.invented == 0 ? 1.0 : 0) + (i.refusal ? 0 : 1.0)) / 3
        var score = 0.4 * r + 0.4 * c + 0.2 * k
        if i.citationRequired && !i.cited { score *= 0.5 }
        return rounded(score)
    }

    static func extractive(_ relevances: [Double]) -> Double { rounded(0.5 * retrieval(relevances)) }
    static func searchOnly(_ relevances: [Double]) -> Double { rounded(0.25 * retrieval(relevances)) }

    static func rounded(_ x: Double) -> Double { (min(1, max(0, x)) * 1000).rounded() / 1000 }

    /// Whether the answer says the documents do not hold the answer (the system prompt tells
    /// the model to say so in these words).
    static func isRefusal(_ answer: String) -> Bool {
        let folded = TextFolding.fold(answer)
        return refusalPhrases.contains { folded.contains($0) }
    }

    static let refusalPhrases = [
        "khong tim thay thong tin", "khong co thong tin", "cannot find this information", "could not find this information",
        "couldn't find this information", "can't find this information", "not found in the documents", "no information about",
    ]
}
