/// Decides what an upload really is from its bytes, with the declared `Content-Type` and the
/// file name's extension as hints, never the header alone:
///
/// 1. Empty (or whitespace-only) content is invalid (422).
/// 2. `%PDF-` at the start (or in the first 1 KB when the upload claims to be a PDF) is a PDF,
///    whatever was declared. A claimed PDF without it is invalid (422).
/// 3. A known binary signature (PNG, JPEG, GIF, ZIP/DOCX/XLSX, gzip, ELF, OLE .doc...) or NUL
///    bytes or many control characters: unsupported (415), named as what the bytes are.
/// 4. Otherwise it is text: decoded by its charset (see `TextEncoding` for the policy), invalid
///    UTF-8 being 422. A declared non-text type we do not index (`image/svg+xml`, `application/msword`)
///    is 415 even if the bytes are text.
/// 5. Which text type: a specific declared type wins (`text/markdown`, `text/html`,
///    `application/json`); `text/plain` and generic declarations are refined by the extension
///    (`.md`, `.html`, `.json`) and then by the content (HTML by `<!doctype html`, `<html` and
///    the start-of-document tags browsers sniff; JSON by parsing, for generic declarations
///    only). Other text types (`text/csv`, `application/xml`) are plain text. A document
///    starting with `<!doctype html` or `<html` is HTML even if declared as markdown or XML.
///    JSON must parse (422 otherwise).
package enum ContentSniffer {
    /// Bytes scanned for control characters when judging text versus binary.
    static let sampleSize = 8192

    package static func sniff(_ bytes: [UInt8], declaredContentType: String?, filename: String?) throws(IngestionError) -> DocumentFormat {
        let media = MediaType(declaredContentType)
        let declaredHeader = declaredContentType.flatMap { $0.isEmpty ? nil : $0 }
        let declared = media.isGeneric ? nil : DocumentType.forMimeType(media.essence)
        let byExtension = filename.flatMap(Self.fileExtension).flatMap(DocumentType.forExtension)

        guard !bytes.isEmpty else { throw .invalidContent("the file is empty") }

        // PDF by its header, whatever the declaration says (a PDF is something we can read).
        let claimsPDF = declared == .pdf || (declared == nil && byExtension == .pdf)
        if bytes.starts(with: pdfMagic) || (claimsPDF && bytes.prefix(1024).firstRange(of: pdfMagic) != nil) {
            return DocumentFormat(type: .pdf)
        }
        if let binary = BinarySignatures.detect(bytes) {
            throw .unsupportedType(detected: binary, declared: declaredHeader)
        }

        // Text from here on: which encoding.
        var body = bytes[...]
        let encoding: TextEncoding
        if let (bom, length) = TextEncoding.byteOrderMark(bytes) {
            encoding = bom
            body = bytes.dropFirst(length)
        } else if let charset = media.charset {
            guard let e = TextEncoding(charset: charset) else { throw .unsupportedCharset(charset) }
            encoding = e  // a declared UTF-16 without a BOM: the declared byte order
        } else {
            encoding = .utf8
        }
        if encoding == .utf8 || encoding == .latin1 || encoding == .windows1252 {
            if looksBinary(body) { throw .unsupportedType(detected: "application/octet-stream", declared: declaredHeader) }
        }
        if claimsPDF {
            throw .invalidContent("the file is declared as a PDF but does not start with %PDF-: it is damaged or not a PDF")
        }
        if !media.isGeneric, declared == nil, !isTextLike(media.essence) {
            throw .unsupportedType(detected: media.essence, declared: declaredHeader)
        }
        let text = try encoding.decode(body)
        if encoding == .utf16LE || encoding == .utf16BE, text.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw .unsupportedType(detected: "application/octet-stream", declared: declaredHeader)
        }
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
            throw .invalidContent("the file contains only whitespace")
        }

        let type = textType(text, declared: declared, declaredGeneric: media.isGeneric, byExtension: byExtension)
        if type == .json { try JSONTextExtractor.validate(text) }
        return DocumentFormat(type: type, encoding: encoding)
    }

    static let pdfMagic = Array("%PDF-".utf8)

    /// Which of the text types, once the bytes are known to be text.
    static func textType(_ text: String, declared: DocumentType?, declaredGeneric: Bool, byExtension: DocumentType?) -> DocumentType {
        let start = leadingMarkup(text)
        let strongHTML = start.hasPrefix("<!doctype html") || hasTag(start, "html")
        switch declared {
        case .markdown?: return strongHTML ? .html : .markdown
        case .html?: return .html
        case .json?: return .json
        case .pdf?: return .plainText  // unreachable: handled by the caller
        case nil where !declaredGeneric:
            // Another text type (`text/csv`, `application/xml`): plain text, unless it is a page.
            return strongHTML ? .html : .plainText
        case .plainText?, nil:
            if let byExtension, byExtension != .plainText, byExtension != .pdf {
                return byExtension == .markdown && strongHTML ? .html : byExtension
            }
            if strongHTML || sniffsAsHTML(start) { return .html }
            // Undeclared (or octet-stream) and no telling extension: JSON if it is JSON.
            if declaredGeneric, byExtension == nil, let first = start.first, first == "{" || first == "[",
               (try? JSONTextExtractor.validate(text)) != nil {
                return .json
            }
            return .plainText
        }
    }

    /// The first 512 characters after leading whitespace, lower-cased, for prefix tests.
    private static func leadingMarkup(_ text: String) -> String {
        String(text.unicodeScalars.drop(while: { $0.properties.isWhitespace }).prefix(512)).lowercased()
    }

    /// The WHATWG MIME-sniffing list of tags that make text HTML when it starts with them.
    private static let sniffTags = ["html", "head", "script", "iframe", "h1", "div", "font", "table", "a", "style", "title", "b", "body", "br", "p"]

    private static func sniffsAsHTML(_ start: String) -> Bool {
        if start.hasPrefix("<!--") { return start.contains("<html") || start.contains("<body") || start.contains("<!doctype html") }
        return sniffTags.contains { hasTag(start, $0) }
    }

    /// Whether `s` starts with `<name` followed by a space or `>`.
    private static func hasTag(_ s: String, _ name: String) -> Bool {
        guard s.hasPrefix("<" + name) else { return false }
        let rest = s.dropFirst(name.count + 1)
        guard let next = rest.first else { return false }
        return next == ">" || next == " " || next == "\n" || next == "\t" || next == "\r" || next == "/"
    }

    /// NUL bytes anywhere, or more than 2% of the first 8 KB being control characters other
    /// than tab, line feed, form feed, carriage return and escape.
    static func looksBinary(_ body: ArraySlice<UInt8>) -> Bool {
        if body.contains(0) { return true }
        var controls = 0
        let sample = body.prefix(sampleSize)
        for c in sample where c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0C && c != 0x0D && c != 0x1B { controls += 1 }
        return controls * 50 > sample.count
    }

    /// Declared types that are text in all but name: indexed as plain text.
    static func isTextLike(_ essence: String) -> Bool {
        if essence.hasPrefix("text/") { return essence != "text/rtf" }
        let textual: Set<String> = [
            "application/xml", "application/javascript", "application/x-javascript", "application/ecmascript",
            "application/x-yaml", "application/yaml", "application/csv", "application/x-sh", "application/sql",
            "application/toml", "application/x-tex", "application/x-latex", "application/x-ndjson",
        ]
        return textual.contains(essence) || (essence.hasPrefix("application/") && essence.hasSuffix("+xml"))
    }

    /// The extension of the last path component, without the dot; nil when there is none.
    static func fileExtension(_ filename: String) -> String? {
        let name = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? filename
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let ext = name[name.index(after: dot)...]
        return ext.isEmpty ? nil : ext.lowercased().trimmingASCIISpaces()
    }
}
