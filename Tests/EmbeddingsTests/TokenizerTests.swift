import Embeddings
import Testing

/// The BERT normaliser, pre-tokeniser and WordPiece, case by case (the fixtures cover whole
/// sentences; these pin each rule).
@Suite struct TokenizerTests {
    let tokenizer: BertTokenizer

    init() throws { tokenizer = try Shared.embedder().tokenizer }

    func tokens(_ text: String) -> [String] { tokenizer.tokens(tokenizer.wordPieces(text)) }

    @Test func specialTokensWrapTheText() {
        let e = tokenizer.encode("Hello world")
        #expect(tokenizer.tokens(e.ids) == ["[CLS]", "hello", "world", "[SEP]"])
        #expect(e.ids.first == 101 && e.ids.last == 102)
        #expect(tokenizer.encode("").ids == [101, 102])
        #expect(tokenizer.encode(" \t\n ").ids == [101, 102])
    }

    @Test func accentsAreStrippedAndCaseFolded() {
        #expect(tokens("Crème Brûlée, NAÏVE façade") == tokens("creme brulee, naive facade"))
        #expect(tokens("ÉCOLE Ångström") == tokens("ecole angstrom"))
        // İ is I + combining dot above in NFD; the dot is a non-spacing mark.
        #expect(tokens("İstanbul") == tokens("istanbul"))
        // Đ has no decomposition: it stays a letter of its own.
        #expect(tokens("Đà Nẵng").first == "đ")
    }

    @Test func cjkIdeographsAreWordsOfTheirOwn() {
        #expect(tokens("中国人") == ["中", "国", "人"])
        #expect(tokens("abc我def") == ["abc", "我", "def"])
        // Without the spacing, "中国人" would be one word with no WordPiece split: one [UNK].
        #expect(tokens("我想") == ["我", "[UNK]"])  // 想 is not in this vocabulary
        // Kana and Hangul are not ideographs: no spaces are put around them.
        #expect(tokens("東京は").first == "東")
        #expect(tokens("東京は").count == 3)
    }

    @Test func punctuationIsSplitOff() {
        #expect(tokens("hello,world!") == ["hello", ",", "world", "!"])
        #expect(tokens("a$b=c") == ["a", "$", "b", "=", "c"])  // ASCII symbols count as punctuation
        #expect(tokens("¿qué?") == ["¿", "que", "?"])            // Unicode P* too
        #expect(tokens("x≈y") == ["x", "##≈", "##y"])             // a non-ASCII symbol stays in its word
        #expect(tokens("x ≈ y") == ["x", "≈", "y"])
    }

    @Test func controlCharactersAreDroppedAndWhitespaceFolded() {
        #expect(tokens("a\u{07}b") == tokens("ab"))
        #expect(tokens("zero\u{200B}width") == tokens("zerowidth"))  // format (Cf)
        #expect(tokens("\u{FEFF}bom") == tokens("bom"))
        #expect(tokens("nul\u{0}l") == tokens("null"))
        #expect(tokens("re\u{FFFD}place") == tokens("replace"))
        #expect(tokens("a\u{0B}b") == tokens("ab"))  // vertical tab is a control there, not whitespace
        #expect(tokens("nbsp\u{A0}x") == tokens("nbsp x"))
        #expect(tokens("wide\u{3000}space") == tokens("wide space"))
        #expect(tokens("tab\tnew\nline\r\n") == tokens("tab new line"))
    }

    @Test func longWordsBecomeUnknown() {
        #expect(tokens(String(repeating: "x", count: 101)) == ["[UNK]"])
        #expect(!tokens(String(repeating: "x", count: 100)).contains("[UNK]"))
        #expect(tokens("ok " + String(repeating: "ab", count: 51) + " ok") == ["ok", "[UNK]", "ok"])
    }

    @Test func wordPieceIsGreedyLongestFirst() {
        #expect(tokens("unaffable") == ["una", "##ffa", "##ble"])  // not "##ff" "##able": longest first
        #expect(tokens("playing") == ["playing"])
        // A word with a piece no vocabulary entry covers is one [UNK], not a partial split.
        #expect(tokens("ab\u{1F9FF}cd") == ["[UNK]"])
    }

    @Test func truncatesTo256TokensAndCountsTheRest() {
        let e = tokenizer.encode(String(repeating: "hello ", count: 300))
        #expect(e.ids.count == 256)
        #expect(e.untruncatedCount == 302)
        #expect(e.truncated)
        #expect(e.ids.first == 101 && e.ids.last == 102)
        let fits = tokenizer.encode(String(repeating: "hello ", count: 254))
        #expect(fits.ids.count == 256 && !fits.truncated)
    }

    @Test func specialTokensInTheTextAreRecognised() {
        #expect(tokenizer.encode("a [MASK] b").ids == [101] + tokenizer.wordPieces("a") + [103] + tokenizer.wordPieces("b") + [102])
        #expect(tokens("x[SEP]y") == ["x", "[SEP]", "y"])
        #expect(tokens("[mask]") == ["[", "mask", "]"])  // matched before lower-casing, so case-sensitive
    }

    /// Hugging Face's category tables are Unicode 8.0's: punctuation assigned later (Adlam's,
    /// Unicode 9) is not split off, punctuation from Unicode 7 (U+2E42) is.
    @Test func punctuationFollowsUnicode8() {
        #expect(tokens("a\u{1E95E}b") == ["[UNK]"])
        #expect(tokens("a\u{2E42}b").count == 3)
    }
}
