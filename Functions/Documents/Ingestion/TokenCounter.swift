/// Counts the tokens a text costs the embedding model, without `[CLS]`/`[SEP]` or other
/// per-input extras. Ingestion does not depend on any model: the worker passes the local
/// tokenizer's count (`{ tokenizer.wordPieces(String($0)).count }` for MiniLM) or, for a
/// remote model whose tokenizer is not available, `TokenCounter.estimate`.
package struct TokenCounter: Sendable {
    private let body: @Sendable (Substring) -> Int

    package init(_ count: @escaping @Sendable (Substring) -> Int) {
        body = count
    }

    package func count(_ text: Substring) -> Int { body(text) }
    package func count(_ text: String) -> Int { body(text[...]) }

    /// A deliberately generous estimate for BPE tokenizers of remote models (OpenAI, Jina...):
    /// per whitespace-separated word, one token per 4 ASCII letters or digits (at least one),
    /// one per 2 other letters (Vietnamese, Cyrillic: BPE vocabularies split them more), one per
    /// CJK character and one per punctuation mark or symbol. It overestimates English by about
    /// a fifth, which keeps chunks under the limit; the real count is only known remotely.
    package static let estimate = TokenCounter { text in
        var total = 0
        var ascii = 0
        var other = 0
        func flush() {
            if ascii > 0 { total += (ascii + 3) / 4 }
            if other > 0 { total += (other + 1) / 2 }
            ascii = 0
            other = 0
        }
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                if (v | 0x20) &- 0x61 < 26 || v &- 0x30 < 10 {
                    ascii += 1
                } else {
                    flush()
                    if v > 0x20 && v != 0x7F { total += 1 }
                }
            } else if s.properties.isWhitespace {
                flush()
            } else if (0x3000...0x9FFF).contains(v) || (0xAC00...0xD7AF).contains(v) || (0xF900...0xFAFF).contains(v) {
                flush()
                total += 1
            } else if s.properties.isAlphabetic || s.properties.generalCategory == .nonspacingMark {
                other += 1
            } else {
                flush()
                total += 1
            }
        }
        flush()
        return total
    }
}
