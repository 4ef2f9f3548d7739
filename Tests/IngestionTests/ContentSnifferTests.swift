import TestSupport
import Foundation
import Ingestion
import ServiceErrors
import Testing

@Suite("Content sniffing")
struct ContentSnifferTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [UInt8](repeating: 1, count: 20)

    func sniff(_ bytes: [UInt8], _ contentType: String?, _ filename: String?) throws(IngestionError) -> DocumentFormat {
        try ContentSniffer.sniff(bytes, declaredContentType: contentType, filename: filename)
    }

    func sniff(_ text: String, _ contentType: String?, _ filename: String?) throws(IngestionError) -> DocumentFormat {
        try sniff(Array(text.utf8), contentType, filename)
    }

    /// The error `body` throws, or nil.
    func failure(_ body: () throws(IngestionError) -> DocumentFormat) -> IngestionError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Each accepted type

    @Test func plainText() throws {
        #expect(try sniff("Hello, world.\n", "text/plain", "notes.txt") == DocumentFormat(type: .plainText))
        #expect(try sniff("Hello", "text/plain; charset=utf-8", "notes.txt").mimeType == "text/plain")
        #expect(try sniff("Hello", "TEXT/PLAIN; Charset=\"UTF-8\"", nil).type == .plainText)
        #expect(try sniff("Hello", nil, nil).type == .plainText)
        #expect(try sniff("a,b\n1,2\n", "text/csv", "data.csv").type == .plainText)
    }

    @Test func markdownByTypeOrExtension() throws {
        let md = "# Title\n\nSome *text*.\n"
        #expect(try sniff(md, "text/markdown", "a.md").type == .markdown)
        #expect(try sniff(md, "text/x-markdown", nil).type == .markdown)
        #expect(try sniff(md, "text/plain", "README.md").type == .markdown)
        #expect(try sniff(md, "application/octet-stream", "notes.markdown").type == .markdown)
        #expect(try sniff(md, nil, "notes.txt").type == .plainText)
        // GitHub-style markdown that starts with inline HTML stays markdown.
        #expect(try sniff("<div align=\"center\">\n\n# Project\n</div>\n", "text/markdown", "README.md").type == .markdown)
    }

    @Test func html() throws {
        let page = "<!DOCTYPE html><html><head><title>T</title></head><body><p>Hi</p></body></html>"
        #expect(try sniff(page, "text/html; charset=utf-8", "page.html").type == .html)
        #expect(try sniff(page, nil, "page.htm").type == .html)
        #expect(try sniff("<p>Just a paragraph</p>", "application/octet-stream", nil).type == .html)
    }

    @Test func htmlDeclaredAsPlainTextIsHTML() throws {
        #expect(try sniff("  <!doctype html>\n<html><body>x</body></html>", "text/plain", "page.txt").type == .html)
        #expect(try sniff("<html lang=\"vi\"><body>Xin chào</body></html>", "text/plain", nil).type == .html)
        #expect(try sniff("<!DOCTYPE html><html></html>", "text/markdown", "a.md").type == .html)
        #expect(try sniff("Use <b> for bold.", "text/plain", nil).type == .plainText)
    }

    @Test func json() throws {
        #expect(try sniff("{\"title\": \"x\"}", "application/json", "a.json").type == .json)
        #expect(try sniff("[1, 2]", "application/json; charset=utf-8", nil).type == .json)
        #expect(try sniff("{\"a\": 1}", "text/plain", "data.json").type == .json)
        #expect(try sniff("{\"a\": 1}", "application/ld+json", nil).type == .json)
        #expect(try sniff("{\"a\": 1}", nil, nil).type == .json)
        #expect(try sniff("{\"a\": 1}", "text/plain", "a.txt").type == .plainText)
    }

    @Test func pdfByMagicWhateverTheDeclaration() throws {
        let pdf = PDFFixture.text([["Hello"]])
        #expect(try sniff(pdf, "application/pdf", "a.pdf") == DocumentFormat(type: .pdf))
        #expect(try sniff(pdf, "application/octet-stream", "a.bin").type == .pdf)
        #expect(try sniff(pdf, "text/plain", "a.txt").type == .pdf)
        #expect(try sniff(pdf, nil, nil).type == .pdf)
        // Junk before the header is tolerated (as readers do) when the upload says it is a PDF.
        #expect(try sniff(Array("\r\n\r\n".utf8) + pdf, "application/pdf", "a.pdf").type == .pdf)
    }

    // MARK: Lies and refusals

    @Test func pngNamedTxtDeclaredTextIs415() {
        let error = failure { () throws(IngestionError) in try sniff(Self.png, "text/plain", "notes.txt") }
        #expect(error == .unsupportedType(detected: "image/png", declared: "text/plain"))
        #expect(error?.httpStatus == 415)
        #expect(error?.description.contains("image/png") == true)
        #expect(error?.description.contains("declared as text/plain") == true)
        #expect(error?.apiError.status == 415)
        #expect(error?.apiError.details["detected"] == .string("image/png"))
    }

    @Test func knownBinariesAre415() {
        let zipDocx: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26) + Array("[Content_Types].xml".utf8) + Array("word/document.xml".utf8)
        let cases: [([UInt8], String)] = [
            ([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10] + Array("JFIF".utf8), "image/jpeg"),
            (Array("GIF89a".utf8) + [1, 0, 1, 0], "image/gif"),
            (zipDocx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ([0x50, 0x4B, 0x03, 0x04, 20, 0, 0, 0], "application/zip"),
            ([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0], "application/gzip"),
            ([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0], "application/x-elf"),
            ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], "application/x-ole-storage"),
            (Array("{\\rtf1\\ansi Hello}".utf8), "application/rtf"),
            (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "image/webp"),
        ]
        for (bytes, detected) in cases {
            let error = failure { () throws(IngestionError) in try sniff(bytes, "text/plain", "file.txt") }
            #expect(error == .unsupportedType(detected: detected, declared: "text/plain"), "\(detected)")
        }
    }

    @Test func nulBytesInTextAre415() {
        let bytes = Array("Looks like text".utf8) + [0] + Array("but is not".utf8)
        let error = failure { () throws(IngestionError) in try sniff(bytes, "text/plain", "a.txt") }
        #expect(error == .unsupportedType(detected: "application/octet-stream", declared: "text/plain"))
        #expect(error?.description.contains("binary data") == true)
    }

    @Test func invalidUTF8Is422WithTheOffset() {
        let bytes = Array("Caf".utf8) + [0xE9] + Array(" au lait".utf8)  // Latin-1 é, undeclared
        let error = failure { () throws(IngestionError) in try sniff(bytes, "text/plain", "a.txt") }
        guard case .invalidContent(let reason)? = error else { Issue.record("expected invalidContent, got \(String(describing: error))"); return }
        #expect(reason.contains("not valid UTF-8"))
        #expect(reason.contains("offset 3"))
        #expect(reason.contains("charset="))
        #expect(error?.httpStatus == 422)
        // Overlong encodings and surrogates are invalid too.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(failure { () throws(IngestionError) in try sniff(Array("ok ".utf8) + bad, "text/plain", nil) }?.httpStatus == 422)
        }
    }

    @Test func invalidJSONIs422() {
        let error = failure { () throws(IngestionError) in try sniff("{\"a\": 1,}", "application/json", "a.json") }
        guard case .invalidContent(let reason)? = error else { Issue.record("expected invalidContent"); return }
        #expect(reason.contains("invalid JSON at byte 8"))
        #expect(failure { () throws(IngestionError) in try sniff("{\"a\": 1}", "text/plain", "x.json") } == nil)
        #expect(failure { () throws(IngestionError) in try sniff("not json", "text/plain", "x.json") }?.httpStatus == 422)
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(failure { () throws(IngestionError) in try sniff(deep, "application/json", nil) }?.httpStatus == 422)
    }

    @Test func claimedPDFWithoutHeaderIs422() {
        let error = failure { () throws(IngestionError) in try sniff("plain words", "application/pdf", "a.pdf") }
        #expect(error?.httpStatus == 422)
        #expect(error?.description.contains("%PDF-") == true)
        // A PNG claimed as PDF is refused as a PNG.
        #expect(failure { () throws(IngestionError) in try sniff(Self.png, "application/pdf", "a.pdf") } == .unsupportedType(detected: "image/png", declared: "application/pdf"))
    }

    @Test func declaredTypesWeDoNotIndexAre415EvenForText() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>hi</text></svg>"
        #expect(failure { () throws(IngestionError) in try sniff(svg, "image/svg+xml", "a.svg") } == .unsupportedType(detected: "image/svg+xml", declared: "image/svg+xml"))
        #expect(failure { () throws(IngestionError) in try sniff("text", "application/msword", "a.doc") }?.httpStatus == 415)
        #expect((try? sniff("<a>x</a>", "application/xml", "a.xml"))?.type == .plainText)
    }

    @Test func emptyAndBlankAre422() {
        #expect(failure { () throws(IngestionError) in try sniff([UInt8](), "text/plain", "a.txt") } == .invalidContent("the file is empty"))
        #expect(failure { () throws(IngestionError) in try sniff(" \n\t\r\n", "text/plain", "a.txt") } == .invalidContent("the file contains only whitespace"))
    }

    // MARK: Charsets

    @Test func latin1IsConvertedWhenDeclared() throws {
        let bytes = Array("Caf".utf8) + [0xE9] + Array(" cr".utf8) + [0xE8, 0x6D, 0x65]
        let format = try sniff(bytes, "text/plain; charset=ISO-8859-1", "menu.txt")
        #expect(format == DocumentFormat(type: .plainText, encoding: .latin1))
        #expect(format.mimeType == "text/plain; charset=iso-8859-1")
        #expect(DocumentFormat(mimeType: format.mimeType) == format)
        #expect(try TextExtractor.extractText(bytes, format: format).text == "Café crème")
    }

    @Test func windows1252SmartQuotes() throws {
        let bytes: [UInt8] = [0x93] + Array("quoted".utf8) + [0x94, 0x20, 0x96, 0x20, 0x80, 0x35]
        let format = try sniff(bytes, "text/plain; charset=windows-1252", nil)
        #expect(try TextExtractor.extractText(bytes, format: format).text == "\u{201C}quoted\u{201D} \u{2013} €5")
    }

    @Test func utf16WithBOMIsConverted() throws {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in "Xin chào, thế giới".utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let format = try sniff(bytes, "text/plain", "vi.txt")
        #expect(format.encoding == .utf16LE)
        #expect(try TextExtractor.extractText(bytes, format: format).text == "Xin chào, thế giới")
    }

    @Test func unsupportedCharsetIs415() {
        let error = failure { () throws(IngestionError) in try sniff("abc", "text/plain; charset=Shift_JIS", nil) }
        #expect(error == .unsupportedCharset("shift_jis"))
        #expect(error?.httpStatus == 415)
        #expect(error?.description.contains("convert the text to UTF-8") == true)
    }

    @Test func utf8BOMWinsOverADeclaredCharset() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Việt".utf8)
        let format = try sniff(bytes, "text/plain; charset=iso-8859-1", nil)
        #expect(format.encoding == .utf8)
        #expect(try TextExtractor.extractText(bytes, format: format).text == "Việt")
    }

    @Test func mediaTypeParsing() {
        let m = MediaType(" Text/HTML ; foo=bar; charset = \"Windows-1252\" ")
        #expect(m.essence == "text/html")
        #expect(m.charset == "windows-1252")
        #expect(MediaType(nil).isGeneric)
        #expect(MediaType("application/octet-stream").isGeneric)
        #expect(!MediaType("text/plain").isGeneric)
        #expect(DocumentFormat(mimeType: "text/plain; charset=koi8-r") == nil)
        #expect(DocumentFormat(mimeType: "image/png") == nil)
        #expect(DocumentFormat(mimeType: "application/pdf") == DocumentFormat(type: .pdf))
    }

    @Test func everyErrorHasAStatusAndAMessage() {
        let errors: [IngestionError] = [
            .unsupportedType(detected: "image/png", declared: nil), .unsupportedCharset("koi8-r"),
            .invalidContent("x"), .extractorUnavailable("y"), .extractionTimedOut(seconds: 20),
        ]
        #expect(errors.map(\.httpStatus) == [415, 415, 422, 503, 504])
        #expect(errors.map(\.isRetryable) == [false, false, false, true, true])
        for e in errors {
            #expect(e.apiError.status == e.httpStatus)
            #expect(!e.description.isEmpty)
        }
        #expect(IngestionError.extractionTimedOut(seconds: 20).description == "text extraction did not finish within 20 s and was stopped")
        #expect(DocumentType.acceptedMimeTypes == ["text/plain", "text/markdown", "text/html", "application/pdf", "application/json"])
    }
}
