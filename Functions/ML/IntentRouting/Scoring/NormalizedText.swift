import Foundation
import TextFolding

/// A request or seed phrase in the forms the scorers need, computed once.
///
/// - `normalized`: Unicode NFC, lower-cased, whitespace collapsed. What is embedded and what the
///   cache is keyed by, so "Xin  nghỉ phép" and "xin nghỉ phép" share an entry. (The MiniLM
///   tokenizer strips accents itself, so the embedding sees the folded form either way.)
/// - `folded`: `normalized` without diacritics (`đ` as `d`), what keywords, patterns and entities
///   match, so "xin nghi phep" typed on a phone without a Vietnamese keyboard still matches
///   "xin nghỉ phép".
/// - `terms`: the folded word tokens, for keyword phrases and the lexical scorer.
package struct NormalizedText: Sendable, Hashable {
    package let normalized: String
    package let folded: String
    package let terms: [String]

    package init(_ text: String) {
        let lowered = text.precomposedStringWithCanonicalMapping.lowercased()
        normalized = lowered.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        folded = TextFolding.fold(normalized)
        terms = folded.split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    package var isEmpty: Bool { terms.isEmpty }
}
