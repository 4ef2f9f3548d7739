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

    init(configuration: RouterConfiguration) {
        let s = configuration.settings.lexical
        k1 = Float(s.k1)
        bigrams = s.bigrams
        let actions = configuration.catalog.actions
        documentCount = actions.count
        var lengths: [Int] = []
        var counts: [String: [Int32: Int]] = [:]
        for (a, action) in actions.enumerated() {
            var texts = action.seeds
            if s.includeDescription && !action.description.isEmpty { texts.append(action.description) }
            var length = 0
            for text in texts {
                let terms = Self.indexTerms(NormalizedText(text).terms, bigrams: s.bigrams)
                length += terms.count
                for t in terms { counts[t, default: [:]][Int32(a), default: 0] += 1 }
            }
            lengths.append(length)
        }
        let avg = Float(max(1, lengths.reduce(0, +))) / Float(max(1, lengths.count))
        lengthNorm = lengths.map { 1 - Float(s.b) + Float(s.b) * Float($0) / avg }
        postings = counts.mapValues { byAction in
            byAction.sorted { $0.key < $1.key }.map { Posting(action: $0.key, tf: Float($0.value)) }
        }
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
