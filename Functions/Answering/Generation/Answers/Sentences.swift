import Foundation
import TextFolding

/// Sentence splitting and word overlap, for the extractive answer, the budget's clean cuts and
/// matching a citation to the sentence it used. Rule-based on purpose: a sentence ends at `.`,
/// `!`, `?`, `…` or `;` followed by a space, or at a line break; good enough for policy text in
/// Vietnamese and English, and it never needs a model.
enum Sentences {
    static func split(_ text: String) -> [Substring] {
        var out: [Substring] = []
        var start = text.startIndex
        var i = text.startIndex
        func emit(_ end: String.Index) {
            let s = text[start..<end].trimmingCharacters(in: .whitespacesAndNewlines)
            if !s.isEmpty, let r = text.range(of: s, range: start..<end) { out.append(text[r]) }
        }
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c.isNewline {
                emit(i)
                start = next
            } else if ".!?…;".contains(c), next == text.endIndex || text[next].isWhitespace {
                // "e.g. " and "3.5 " stay whole: a one-letter word or a number before the dot.
                let word = text[start..<i].split(whereSeparator: { $0.isWhitespace }).last ?? ""
                let isAbbreviation = c == "." && (word.count == 1 || ["e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "no"].contains(word.lowercased()))
                if !isAbbreviation {
                    emit(next)
                    start = next
                }
            }
            i = next
        }
        emit(text.endIndex)
        return out
    }

    /// Folded content words: no stop words, so "what is the" matches nothing.
    static func contentTerms(_ text: some StringProtocol) -> [String] {
        TextFolding.terms(String(text)).filter { !stopWords.contains($0) }
    }

    /// Function words of both languages (folded), which say nothing about a match.
    static let stopWords: Set<String> = [
        "the", "a", "an", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "were", "be", "been", "do", "does",
        "did", "how", "what", "when", "where", "which", "who", "why", "i", "my", "me", "we", "our", "you", "your", "it", "its",
        "this", "that", "these", "those", "with", "can", "could", "get", "there", "about", "at", "by", "from", "as", "if",
        "please", "should", "would", "will", "any", "some", "tell", "much", "many",
        "la", "gi", "nao", "nhu", "cua", "va", "co", "khong", "cho", "toi", "duoc", "cac", "nhung", "mot", "thi",
        "de", "o", "ve", "trong", "voi", "bao", "nhieu", "sao", "ai", "hay", "nhe", "oi", "vay", "khi", "nay", "ban",
        "em", "anh", "chi", "minh", "ra", "len", "tai", "vi", "neu", "hoac", "nhi", "u", "ha",
    ]
}
