import Foundation

/// A citation in the response: chunk `number` of the context the answer was written from.
package struct Citation: Encodable, Sendable, Equatable {
    package var number: Int
    package var chunkId: String
    package var documentId: String?
    package var reference: String
    /// The chunk's sentence the citing text draws on most (its start when nothing matches).
    package var usedContent: String

    enum CodingKeys: String, CodingKey {
        case number, chunkId = "chunk_id", documentId = "document_id", reference, usedContent = "used_content"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(number, forKey: .number)
        try c.encode(chunkId, forKey: .chunkId)
        try c.encode(documentId, forKey: .documentId)
        try c.encode(reference, forKey: .reference)
        try c.encode(usedContent, forKey: .usedContent)
    }
}

/// `[n]` markers in a model's answer, checked against the chunks it was given: the prompt
/// numbered them 1...count, so any other number is invented, and is removed from the text (a
/// reader would otherwise look for a source that does not exist) and counted.
enum CitationParser {
    struct Parsed: Equatable {
        /// The answer with unknown numbers removed.
        var text: String
        /// Valid numbers in order of first appearance.
        var numbers: [Int]
        var dropped: Int
    }

    /// Matches `[3]`, `[1, 2]`, `[1,2,3]` and `[1-3]` (a range, expanded).
    static let marker = try! NSRegularExpression(pattern: #"\[(\d{1,4}(?:\s*[,\-–]\s*\d{1,4})*)\]"#)

    static func parse(_ answer: String, count: Int) -> Parsed {
        let ns = answer as NSString
        var text = ""
        var last = 0
        var numbers: [Int] = []
        var dropped = 0
        for m in marker.matches(in: answer, range: NSRange(location: 0, length: ns.length)) {
            text += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            last = m.range.location + m.range.length
            let inner = ns.substring(with: m.range(at: 1))
            var valid: [Int] = []
            for part in inner.split(separator: ",") {
                let bounds = part.split(whereSeparator: { $0 == "-" || $0 == "–" }).compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                let range: [Int]
                if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 50 { range = Array(bounds[0]...bounds[1]) }
                else { range = bounds }
                for n in range {
                    if (1...max(1, count)).contains(n) && count > 0 {
                        if !valid.contains(n) { valid.append(n) }
                    } else {
                        dropped += 1
                    }
                }
            }
            for n in valid where !numbers.contains(n) { numbers.append(n) }
            text += valid.map { "[\($0)]" }.joined()
        }
        text += ns.substring(from: last)
        if dropped > 0 { text = tidy(text) }
        return Parsed(text: text, numbers: numbers, dropped: dropped)
    }

    /// The numbers of `text`'s markers that name no chunk of `count`, in order of appearance.
    static func invalidNumbers(_ text: String, count: Int) -> [Int] {
        let ns = text as NSString
        var out: [Int] = []
        for m in marker.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            for part in ns.substring(with: m.range(at: 1)).split(separator: ",") {
                let bounds = part.split(whereSeparator: { $0 == "-" || $0 == "–" }).compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                let range = bounds.count == 2 && bounds[0] <= bounds[1] && bounds[1] - bounds[0] < 50 ? Array(bounds[0]...bounds[1]) : bounds
                for n in range where !(count > 0 && (1...count).contains(n)) && !out.contains(n) { out.append(n) }
            }
        }
        return out
    }

    /// Spaces left where a marker was removed ("text [9]." -> "text .").
    static func tidy(_ s: String) -> String {
        var t = s.replacingOccurrences(of: #"[ \t]+([.,;:!?])"#, with: "$1", options: .regularExpression)
        t = t.replacingOccurrences(of: #"[ \t]{2,}"#, with: " ", options: .regularExpression)
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The answer's sentences that cite `number`.
    static func sentences(citing number: Int, in text: String) -> [Substring] {
        Sentences.split(text).filter { $0.contains("[\(number)]") }
    }

    /// The chunk sentence sharing the most content words with the sentences citing it.
    static func usedContent(_ chunk: ContextChunk, citedBy sentences: [Substring], limit: Int = 300) -> String {
        let wanted = Set(sentences.flatMap { Sentences.contentTerms($0) })
        var best: (score: Int, text: Substring)? = nil
        for s in Sentences.split(chunk.content) {
            let score = Set(Sentences.contentTerms(s)).intersection(wanted).count
            if score > 0, score > (best?.score ?? 0) { best = (score, s) }
        }
        return clip(String(best?.text ?? Substring(chunk.content)), limit: limit)
    }

    /// At most `limit` characters, cut at a word.
    static func clip(_ s: String, limit: Int) -> String {
        let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count > limit else { return trimmed }
        let head = trimmed.prefix(limit)
        let cut = head.lastIndex(where: { $0.isWhitespace }).map { head[..<$0] } ?? head
        return cut.trimmingCharacters(in: .whitespacesAndNewlines) + "…"
    }
}
