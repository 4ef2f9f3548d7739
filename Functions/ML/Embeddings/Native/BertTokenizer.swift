import Foundation

/// The uncased BERT tokenizer of all-MiniLM-L6-v2, as Hugging Face tokenizers runs it (which
/// is what sentence-transformers uses): special tokens matched in the raw text, then
/// `BertNormalizer` (clean text, space out CJK ideographs, NFD and drop non-spacing marks,
/// lower-case), `BertPreTokenizer` (split on whitespace, isolate punctuation), greedy
/// longest-match-first WordPiece, `[CLS] ... [SEP]`, truncation. Every step is over Unicode
/// scalars, as Rust's `char`s are, never over Swift `Character`s (grapheme clusters).
package struct BertTokenizer: Sendable {
    package struct Encoding: Sendable, Equatable {
        /// `[CLS] pieces... [SEP]`, at most `maxLength` ids.
        package var ids: [Int32]
        /// What `ids.count` would be without truncation.
        package var untruncatedCount: Int
        package var truncated: Bool { untruncatedCount > ids.count }
    }

    let vocab: WordPieceVocabulary
    /// Including `[CLS]` and `[SEP]` (sentence-transformers' `max_seq_length`).
    package let maxLength: Int
    package let clsId: Int32, sepId: Int32, unkId: Int32, padId: Int32
    /// Matched in the raw text before normalisation, as `added_tokens` with `normalized: false`.
    private let specialTokens: [(bytes: [UInt8], id: Int32)]

    /// A word longer than this many scalars becomes one `[UNK]`.
    static let maxInputCharsPerWord = 100

    /// `vocabTxt`: the contents of `vocab.txt`. Throws if a special token is missing from it.
    package init(vocabTxt: [UInt8], maxLength: Int = 256) throws(EmbeddingError) {
        guard maxLength >= 2 else { throw .invalidInput("maxLength \(maxLength) leaves no room for [CLS] and [SEP]") }
        let vocab = WordPieceVocabulary(vocabTxt: vocabTxt)
        var ids: [Int32] = []
        for t in ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]"] {
            guard let id = vocab.id(of: t) else { throw .modelCorrupt(path: "vocab.txt", reason: "\(t) is not in the vocabulary") }
            ids.append(id)
        }
        self.vocab = vocab
        (clsId, sepId, unkId, padId) = (ids[0], ids[1], ids[2], ids[3])
        specialTokens = [("[PAD]", ids[3]), ("[UNK]", ids[2]), ("[CLS]", ids[0]), ("[SEP]", ids[1]), ("[MASK]", ids[4])]
            .map { (Array($0.0.utf8), $0.1) }
        self.maxLength = maxLength
    }

    package var vocabularySize: Int { vocab.count }

    /// The model input for one text.
    package func encode(_ text: String) -> Encoding {
        let pieces = wordPieces(text)
        let room = maxLength - 2
        var ids = [Int32]()
        ids.reserveCapacity(min(pieces.count, room) + 2)
        ids.append(clsId)
        ids.append(contentsOf: pieces.prefix(room))
        ids.append(sepId)
        return Encoding(ids: ids, untruncatedCount: pieces.count + 2)
    }

    /// The token texts of `ids` (`##` pieces as they are), for logs and tests.
    package func tokens(_ ids: [Int32]) -> [String] {
        ids.map { Int($0) < vocab.tokens.count && $0 >= 0 ? vocab.tokens[Int($0)] : "[UNK]" }
    }

    /// All WordPiece ids of `text`, without `[CLS]`/`[SEP]` and untruncated.
    package func wordPieces(_ text: String) -> [Int32] {
        var state = State()
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3 + 4)
        forEachSegment(of: text) { segment, special in
            if let special {
                out.append(special)
            } else {
                tokenizeNormalized(normalize(segment), into: &out, state: &state)
            }
        }
        return out
    }

    // MARK: Special tokens

    /// Splits `text` into runs of ordinary text and the special tokens (`[SEP]`...) written in it.
    private func forEachSegment(of text: String, _ body: (Substring, Int32?) -> Void) {
        let utf8 = text.utf8
        guard utf8.contains(0x5B) else { return body(text[...], nil) }  // no "[": the usual case
        var runStart = utf8.startIndex
        var i = utf8.startIndex
        while i < utf8.endIndex {
            if utf8[i] == 0x5B, let (id, end) = specialToken(in: utf8, at: i) {
                if runStart < i { body(text[runStart..<i], nil) }
                body(text[i..<i], id)
                runStart = end
                i = end
            } else {
                utf8.formIndex(after: &i)
            }
        }
        if runStart < utf8.endIndex { body(text[runStart...], nil) }
    }

    private func specialToken(in utf8: String.UTF8View, at i: String.Index) -> (Int32, String.Index)? {
        for (bytes, id) in specialTokens {
            var j = i
            var matched = true
            for b in bytes {
                guard j < utf8.endIndex, utf8[j] == b else { matched = false; break }
                utf8.formIndex(after: &j)
            }
            if matched { return (id, j) }
        }
        return nil
    }

    // MARK: BertNormalizer

    /// Cleaned, CJK spaced out, accents stripped, lower-cased.
    func normalize(_ text: Substring) -> [Unicode.Scalar] {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(text.utf8.count)
        var ascii = true
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                switch v {
                case 0x09, 0x0A, 0x0D: cleaned.append(" ")
                case 0..<0x20, 0x7F: continue  // controls, NUL included
                default: cleaned.append(s)
                }
                continue
            }
            ascii = false
            if v == 0xFFFD || BertCharacters.isControl(s) { continue }
            if BertCharacters.isWhitespace(s) {
                cleaned.append(" ")
            } else if BertCharacters.isChineseCharacter(s) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
            } else {
                cleaned.append(s)
            }
        }
        if ascii {
            for i in cleaned.indices where cleaned[i].value &- 0x41 < 26 {
                cleaned[i] = Unicode.Scalar(cleaned[i].value | 0x20)!
            }
            return cleaned
        }
        // Accents: NFD, then drop non-spacing marks (strip_accents follows lowercase), then
        // lower-case each scalar with its full mapping, as Rust's `char::to_lowercase`.
        var view = String.UnicodeScalarView()
        view.append(contentsOf: cleaned)
        let decomposed = String(view).decomposedStringWithCanonicalMapping
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(cleaned.count + 8)
        for s in decomposed.unicodeScalars {
            if s.value < 0x80 {
                out.append(s.value &- 0x41 < 26 ? Unicode.Scalar(s.value | 0x20)! : s)
            } else if !BertCharacters.isNonspacingMark(s) {
                let lower = s.properties.lowercaseMapping.unicodeScalars
                if lower.count == 1, lower.first == s { out.append(s) } else { out.append(contentsOf: lower) }
            }
        }
        return out
    }

    // MARK: BertPreTokenizer + WordPiece

    /// Reused per text: the current word as UTF-8 and where each scalar of it starts.
    private struct State {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var scalars = 0
        mutating func reset() {
            bytes.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            scalars = 0
        }
        mutating func append(_ s: Unicode.Scalar) {
            starts.append(bytes.count)
            scalars += 1
            if s.value < 0x80 { bytes.append(UInt8(s.value)) } else { bytes.append(contentsOf: String(s).utf8) }
        }
    }

    private func tokenizeNormalized(_ scalars: [Unicode.Scalar], into out: inout [Int32], state: inout State) {
        state.reset()
        for s in scalars {
            if BertCharacters.isWhitespace(s) {
                flush(&state, into: &out)
            } else if BertCharacters.isPunctuation(s) {
                flush(&state, into: &out)
                state.append(s)
                flush(&state, into: &out)
            } else {
                state.append(s)
            }
        }
        flush(&state, into: &out)
    }

    /// Greedy longest-match-first WordPiece on the word in `state`; any position where no piece
    /// matches makes the whole word one `[UNK]`.
    private func flush(_ state: inout State, into out: inout [Int32]) {
        defer { state.reset() }
        guard state.scalars > 0 else { return }
        guard state.scalars <= Self.maxInputCharsPerWord else { return out.append(unkId) }
        let mark = out.count
        let bytes = state.bytes
        var startScalar = 0
        while startScalar < state.scalars {
            let start = state.starts[startScalar]
            var endScalar = state.scalars
            var found: Int32?
            while endScalar > startScalar {
                let end = endScalar == state.scalars ? bytes.count : state.starts[endScalar]
                if let id = vocab.piece(bytes[start..<end], continuing: startScalar > 0) {
                    found = id
                    break
                }
                endScalar -= 1
            }
            guard let id = found else {
                out.removeSubrange(mark...)
                out.append(unkId)
                return
            }
            out.append(id)
            startScalar = endScalar
        }
    }
}
