import Foundation

/// BM25 over the folded terms of each action's seed phrases (one document per action), so a
/// catalog without hand-written rules still rewards word overlap, and Vietnamese typed without
/// accents matches seeds written with them.
///
/// Normalised to [0, 1] by dividing by the sum of the query terms' IDFs: a document holding each
/// query term once at average length scores exactly 1, and query words no seed uses (which get
/// the largest IDF) pull the score down, which is what an out-of-scope request looks like.
/// Repeated terms saturate through BM25's k1 and the result is capped at 1.
struct LexicalIndex: Sendable {
    struct Posting: Sendable {
        let action: Int32
        let tf: Float
    }

    let postings: [String: [Posting]]
    let lengthNorm: [Float]      // per action: 1 - b + b * dl / avgdl
    let documentCount: Int
    let k1: Float
    let bigrams: Bool

    /// From the actions' term counts (`PreparedAction`, kept across reloads for unchanged
    /// actions): merging them is cheap, folding every seed again is not.
    init(prepared: [PreparedAction], settings s: LexicalScoring) {
        k1 = Float(s.k1)
        bigrams = s.bigrams
        documentCount = prepared.count
        var postings: [String: [Posting]] = [:]
        for (a, action) in prepared.enumerated() {
            // Actions in order, so every posting list is sorted by action.
            for (term, tf) in action.termCounts { postings[term, default: []].append(Posting(action: Int32(a), tf: Float(tf))) }
        }
        self.postings = postings
        let lengths = prepared.map(\.length)
        let avg = Float(max(1, lengths.reduce(0, +))) / Float(max(1, lengths.count))
        lengthNorm = lengths.map { 1 - Float(s.b) + Float(s.b) * Float($0) / avg }
    }

    /// Unigrams, plus adjacent pairs joined by "_" when `bigrams` is on.
    static func indexTerms(_ terms: [String], bigrams: Bool) -> [String] {
        guard bigrams, terms.count > 1 else { return terms }
        var out = terms
        out.reserveCapacity(terms.count * 2 - 1)
        for i in 0..<(terms.count - 1) { out.append(terms[i] + "_" + terms[i + 1]) }
        return out
    }

    func idf(_ df: Int) -> Float {
        let n = Float(documentCount), d = Float(df)
        return log(1 + (n - d + 0.5) / (d + 0.5))
    }

    /// One score in [0, 1] per action.
    func scores(_ text: NormalizedText) -> [Float] {
        var out = [Float](repeating: 0, count: documentCount)
        guard documentCount > 0 else { return out }
        var seen: Set<String> = []
        var idfSum: Float = 0
        for term in Self.indexTerms(text.terms, bigrams: bigrams) where seen.insert(term).inserted {
            let list = postings[term] ?? []
            let w = idf(list.count)
            idfSum += w
            for p in list {
                let a = Int(p.action)
                out[a] += w * p.tf * (k1 + 1) / (p.tf + k1 * lengthNorm[a])
            }
        }
        guard idfSum > 0 else { return out }
        for a in out.indices { out[a] = min(1, out[a] / idfSum) }
        return out
    }
}
