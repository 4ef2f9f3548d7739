/// The text of a document, ready for chunking: normalised by `TextNormalizer` (NFC, `\n` line
/// ends, no control characters, at most one blank line in a row). Chunk offsets index into
/// `text` (see `TextChunk`).
package struct ExtractedText: Sendable, Equatable {
    package var text: String
    package var format: DocumentFormat
    /// The HTML `<title>`, when there is one: a default for `documents.title`.
    package var title: String?

    package init(text: String, format: DocumentFormat, title: String? = nil) {
        self.text = text
        self.format = format
        self.title = title
    }
}

/// Bytes of a sniffed document to normalised text. Plain text and markdown are decoded as
/// they are (markdown syntax kept: it reads fine and marks headings), HTML through
/// `HTMLTextExtractor`, JSON through `JSONTextExtractor`, PDF through `PDFTextExtractor`.
/// Every failure is an `IngestionError`; nothing here traps on bad input.
package struct TextExtractor: Sendable {
    package var pdf: PDFTextExtractor

    package init(pdf: PDFTextExtractor = PDFTextExtractor()) {
        self.pdf = pdf
    }

    /// The text of `bytes`, read as `format` (what `ContentSniffer.sniff` returned, or
    /// `DocumentFormat(mimeType:)` of the stored type). Throws `.invalidContent` when it has no
    /// text at all.
    package func extract(_ bytes: [UInt8], format: DocumentFormat) async throws(IngestionError) -> ExtractedText {
        if format.type == .pdf {
            let raw = try await pdf.extract(bytes)
            let text = TextNormalizer.normalize(raw)
            guard !text.isEmpty else { throw .invalidContent("the PDF has no text layer (scanned images?): run OCR on it and upload the result") }
            return ExtractedText(text: text, format: format)
        }
        return try Self.extractText(bytes, format: format)
    }

    /// The synchronous path for the text types (everything but PDF, which needs a process).
    package static func extractText(_ bytes: [UInt8], format: DocumentFormat) throws(IngestionError) -> ExtractedText {
        guard format.type != .pdf else { throw .invalidContent("a PDF needs TextExtractor.extract (pdftotext)") }
        let decoded = try TextEncoding.decode(bytes, declared: format.encoding)
        var raw = decoded
        var title: String?
        switch format.type {
        case .plainText, .markdown, .pdf:
            break
        case .html:
            (raw, title) = HTMLTextExtractor.extract(decoded)
        case .json:
            raw = try JSONTextExtractor.extract(decoded)
        }
        let text = TextNormalizer.normalize(raw)
        guard !text.isEmpty else { throw .invalidContent("the document contains no text") }
        return ExtractedText(text: text, format: format, title: title.map(TextNormalizer.normalize))
    }
}
