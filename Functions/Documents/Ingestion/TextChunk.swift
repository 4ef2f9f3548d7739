/// One chunk of a document's extracted text: what `doc_chunks` stores.
///
/// Offsets: `charStart..<charEnd` are **Unicode scalar (code point) offsets** into
/// `ExtractedText.text` (which is NFC): what Python's `str`, Postgres's `substr()` and
/// JavaScript's `Array.from(text)` index by (not UTF-16 code units, not bytes, not grapheme
/// clusters). `text` is exactly that slice of the extracted text, overlap included, so a client
/// holding the extracted text can highlight the chunk with the two numbers.
package struct TextChunk: Sendable, Equatable, Hashable, Codable {
    /// Position in the document, from 0.
    package var index: Int
    package var text: String
    package var charStart: Int
    package var charEnd: Int
    /// Tokens of `text` by the chunker's counter (the whole text, re-counted, not a sum).
    package var tokenCount: Int
    /// SHA-256 of the UTF-8 of `text`, lower-case hex: unchanged text keeps its vector on re-embed.
    package var contentSha256: String

    package init(index: Int, text: String, charStart: Int, charEnd: Int, tokenCount: Int, contentSha256: String? = nil) {
        self.index = index
        self.text = text
        self.charStart = charStart
        self.charEnd = charEnd
        self.tokenCount = tokenCount
        self.contentSha256 = contentSha256 ?? SHA256.hex(text)
    }

    /// The text to embed: the document title, a blank line, then the chunk (the title is part
    /// of what is embedded, not of what is stored). Without a title, or when the chunk already
    /// starts with it (an HTML page's first chunk), the chunk text alone. The title is reduced
    /// to one line of single spaces.
    package func embeddingText(title: String?) -> String {
        guard let title else { return text }
        let line = title.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        guard !line.isEmpty, !text.hasPrefix(line) else { return text }
        return line + "\n\n" + text
    }

    /// This chunk's span of `source` by its scalar offsets (nil when out of range): equal to
    /// `text` when `source` is the text the chunk came from.
    package func source(in source: String) -> Substring? {
        Self.slice(source, scalarStart: charStart, scalarEnd: charEnd)
    }

    /// `text[start..<end]` in Unicode scalar offsets, exactly (not rounded to characters).
    package static func slice(_ text: String, scalarStart: Int, scalarEnd: Int) -> Substring? {
        let scalars = text.unicodeScalars
        guard scalarStart >= 0, scalarStart <= scalarEnd,
              let lo = scalars.index(scalars.startIndex, offsetBy: scalarStart, limitedBy: scalars.endIndex),
              let hi = scalars.index(lo, offsetBy: scalarEnd - scalarStart, limitedBy: scalars.endIndex)
        else { return nil }
        return Substring(scalars[lo..<hi])
    }
}
