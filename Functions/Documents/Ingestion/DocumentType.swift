/// The document types ingestion accepts. Anything else is refused with 415 at upload.
package enum DocumentType: String, Sendable, CaseIterable, Codable {
    case plainText = "text/plain"
    case markdown = "text/markdown"
    case html = "text/html"
    case pdf = "application/pdf"
    case json = "application/json"

    /// The MIME types accepted at upload, for 415 messages and API documentation.
    package static var acceptedMimeTypes: [String] { allCases.map(\.mimeType) }

    /// The MIME type without parameters, as stored in `documents.mime_type` for UTF-8 content.
    package var mimeType: String { rawValue }

    /// The extension a file of this type gets when its name is unusable (`document.pdf`).
    package var defaultExtension: String {
        switch self {
        case .plainText: "txt"
        case .markdown: "md"
        case .html: "html"
        case .pdf: "pdf"
        case .json: "json"
        }
    }

    /// Whether the bytes are text in some character encoding (everything but PDF).
    package var isText: Bool { self != .pdf }

    /// The type a file name's extension suggests (`.md`, `.markdown`, `.htm`...), if any.
    package static func forExtension(_ ext: String) -> DocumentType? {
        switch ext.lowercased() {
        case "txt", "text", "log": .plainText
        case "md", "markdown", "mdown", "mkd", "mkdn": .markdown
        case "html", "htm", "xhtml": .html
        case "pdf": .pdf
        case "json": .json
        default: nil
        }
    }

    /// The type a declared MIME essence (`text/x-markdown`, `application/x-pdf`...) names, if it
    /// is one of ours or a common alias of one.
    package static func forMimeType(_ essence: String) -> DocumentType? {
        switch essence {
        case "text/plain": .plainText
        case "text/markdown", "text/x-markdown", "text/x-web-markdown": .markdown
        case "text/html", "application/xhtml+xml": .html
        case "application/pdf", "application/x-pdf": .pdf
        case "application/json", "text/json", "application/x-json": .json
        default: essence.hasPrefix("application/") && essence.hasSuffix("+json") ? .json : nil
        }
    }
}

/// A document's type and, for text types, the character encoding of its bytes: what the upload
/// handler stores (`mimeType`) and what the worker extracts with (`DocumentFormat(mimeType:)`).
package struct DocumentFormat: Sendable, Equatable, Hashable, CustomStringConvertible {
    package var type: DocumentType
    /// How the bytes decode to text; `.utf8` for PDF (pdftotext is asked for UTF-8).
    package var encoding: TextEncoding

    package init(type: DocumentType, encoding: TextEncoding = .utf8) {
        self.type = type
        self.encoding = type == .pdf ? .utf8 : encoding
    }

    /// `text/plain`, or `text/plain; charset=windows-1252` when the bytes are not UTF-8.
    /// Round-trips through `init?(mimeType:)`.
    package var mimeType: String {
        encoding == .utf8 || type == .pdf ? type.mimeType : "\(type.mimeType); charset=\(encoding.rawValue)"
    }

    package var description: String { mimeType }

    /// Parses a stored `mimeType` (or any Content-Type naming one of our types). Nil for other
    /// types and for charsets `TextEncoding` does not know.
    package init?(mimeType: String) {
        let media = MediaType(mimeType)
        guard let type = DocumentType.forMimeType(media.essence) else { return nil }
        var encoding = TextEncoding.utf8
        if let charset = media.charset {
            guard let e = TextEncoding(charset: charset) else { return nil }
            encoding = e
        }
        self.init(type: type, encoding: encoding)
    }
}

/// A parsed `Content-Type` value: `text/plain; charset="UTF-8"` gives essence `text/plain` and
/// charset `utf-8` (both lower-cased). Lenient: junk parameters are ignored.
package struct MediaType: Sendable, Equatable {
    /// `type/subtype`, lower-cased, without parameters; empty when nothing was declared.
    package var essence: String
    /// The `charset` parameter, lower-cased and unquoted.
    package var charset: String?

    package init(_ header: String?) {
        guard let header else { essence = ""; charset = nil; return }
        var parts = header.split(separator: ";", omittingEmptySubsequences: false).makeIterator()
        essence = (parts.next() ?? "").trimmingASCIISpaces().lowercased()
        charset = nil
        while let part = parts.next() {
            guard let eq = part.firstIndex(of: "=") else { continue }
            let name = part[..<eq].trimmingASCIISpaces().lowercased()
            guard name == "charset" else { continue }
            var value = part[part.index(after: eq)...].trimmingASCIISpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            charset = value.lowercased()
        }
    }

    /// No type, or one that says nothing about the content (`application/octet-stream`): the
    /// bytes and the file name decide.
    package var isGeneric: Bool {
        essence.isEmpty || essence == "application/octet-stream" || essence == "binary/octet-stream"
            || essence == "application/unknown" || essence == "*/*" || essence == "application/x-www-form-urlencoded"
            || !essence.contains("/")
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
