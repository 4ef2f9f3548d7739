/// The answer when no provider could give one: the context sentences that best match the
/// query, each followed by its chunk's `[n]`, best first. Built from the documents alone, so it
/// works offline and in microseconds.
///
/// A sentence's score is the share of the query's content words it holds (accents and case
/// ignored), plus half the share of the query's adjacent word pairs it holds in order (so
/// "annual leave" beats a sentence with "leave" and "annual" apart), plus a small bonus for
/// the chunk's rank as a tie-break. Sentences without any query word are never picked.
struct ExtractiveAnswer {
    struct Pick: Equatable {
        var number: Int
        var sentence: String
        var score: Double
    }

    static func pick(query: String, chunks: [ContextChunk], maxSentences: Int) -> [Pick] {
        let terms = Sentences.contentTerms(query)
        let wanted = Set(terms)
        guard !wanted.isEmpty else { return [] }
        let pairs = Set(zip(terms, terms.dropFirst()).map { "\($0) \($1)" })
        var candidates: [Pick] = []
        var seen = Set<String>()
        for (i, chunk) in chunks.enumerated() {
            for sentence in Sentences.split(chunk.content) {
                let words = Sentences.contentTerms(sentence)
                guard words.count >= 2 else { continue }
                let present = Set(words).intersection(wanted)
                guard !present.isEmpty else { continue }
                let key = words.joined(separator: " ")
                guard seen.insert(key).inserted else { continue }
                let sentencePairs = Set(zip(words, words.dropFirst()).map { "\($0) \($1)" })
                var score = Double(present.count) / Double(wanted.count)
                if !pairs.isEmpty { score += 0.5 * Double(sentencePairs.intersection(pairs).count) / Double(pairs.count) }
                score += 0.05 * (1 - Double(i) / Double(max(1, chunks.count)))
                candidates.append(Pick(number: i + 1, sentence: String(sentence), score: score))
            }
        }
        // Stable: equal scores keep document order.
        let ranked = candidates.enumerated().sorted { a, b in
            a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset
        }.map(\.element)
        return Array(ranked.prefix(maxSentences))
    }

    /// "sentence [n]" lines, a sentence's final punctuation before its marker kept.
    static func lines(_ picks: [Pick]) -> String {
        picks.map { "- \($0.sentence) [\($0.number)]" }.joined(separator: "\n")
    }
}
