import Foundation
import Ingestion
import Testing

@Suite("File names")
struct FilenameSanitizerTests {
    func clean(_ s: String?, _ type: DocumentType? = nil) -> String { FilenameSanitizer.sanitize(s, type: type) }

    @Test func keepsOrdinaryNames() {
        #expect(clean("report.pdf") == "report.pdf")
        #expect(clean("Quarterly Report 2024 (final).docx.pdf") == "Quarterly Report 2024 (final).docx.pdf")
        #expect(clean("Báo cáo tài chính.pdf") == "Báo cáo tài chính.pdf")
        #expect(clean("日本語のファイル.txt") == "日本語のファイル.txt")
    }

    @Test func stripsDirectoriesWithEitherSeparator() {
        #expect(clean("/etc/passwd") == "passwd")
        #expect(clean("C:\\Users\\an\\Desktop\\notes.txt") == "notes.txt")
        #expect(clean("a/b\\c/d.md") == "d.md")
        #expect(clean("folder/") == "document")
        #expect(clean("folder/", .pdf) == "document.pdf")
    }

    @Test func pathTraversal() {
        #expect(clean("../../etc/passwd") == "passwd")
        #expect(clean("..\\..\\windows\\system.ini") == "system.ini")
        #expect(clean("..", .plainText) == "document.txt")
        #expect(clean("...", .markdown) == "document.md")
        #expect(clean("report..final...pdf") == "report.final.pdf")
        #expect(!clean("a..b..c").contains(".."))
    }

    @Test func controlAndInvisibleCharacters() {
        #expect(clean("line\nbreak\r\ttab.txt") == "linebreaktab.txt")
        #expect(clean("nul\u{0}byte.txt") == "nulbyte.txt")
        #expect(clean("del\u{7F}\u{85}c1.txt") == "delc1.txt")
        // Right-to-left override: "invoice\u{202E}fdp.exe" would display as "invoiceexe.pdf".
        #expect(clean("invoice\u{202E}fdp.exe") == "invoicefdp.exe")
        #expect(clean("\u{FEFF}bom.txt") == "bom.txt")
    }

    @Test func leadingDotsAndTrailingDotsAndSpaces() {
        #expect(clean(".bashrc") == "bashrc")
        #expect(clean("...hidden.txt") == "hidden.txt")
        #expect(clean("  spaced   out  name .txt  ") == "spaced out name .txt")
        #expect(clean("trailing.txt. . ") == "trailing.txt")
    }

    @Test func reservedCharactersBecomeUnderscores() {
        #expect(clean("a<b>c:d\"e|f?g*h.txt") == "a_b_c_d_e_f_g_h.txt")
        #expect(clean("C:report.pdf") == "C_report.pdf")
    }

    @Test func windowsDeviceNames() {
        #expect(clean("CON.txt") == "_CON.txt")
        #expect(clean("nul") == "_nul")
        #expect(clean("com1.tar.gz") == "_com1.tar.gz")
        #expect(clean("console.txt") == "console.txt")
    }

    @Test func nfcNormalised() {
        let nfd = "Tiếng Việt.txt".decomposedStringWithCanonicalMapping
        #expect(!nfd.unicodeScalars.elementsEqual("Tiếng Việt.txt".unicodeScalars))
        #expect(clean(nfd).unicodeScalars.elementsEqual("Tiếng Việt.txt".precomposedStringWithCanonicalMapping.unicodeScalars))
    }

    @Test func cappedAt255BytesKeepingTheExtension() {
        let long = String(repeating: "a", count: 400) + ".pdf"
        let capped = clean(long)
        #expect(capped.utf8.count == 255)
        #expect(capped.hasSuffix(".pdf"))
        // Multi-byte characters are never cut in half.
        let vietnamese = String(repeating: "ệ", count: 200) + ".markdown"  // 3 bytes each
        let v = clean(vietnamese)
        #expect(v.utf8.count <= 255)
        #expect(v.hasSuffix(".markdown"))
        #expect(v.dropLast(".markdown".count).allSatisfy { $0 == "ệ" })
        #expect(v.utf8.count > 255 - 3)
        // A very long "extension" is not kept as one.
        let odd = "name." + String(repeating: "x", count: 300)
        #expect(clean(odd).utf8.count <= 255)
    }

    @Test func emptyResultGetsTheTypesExtension() {
        #expect(clean(nil, .pdf) == "document.pdf")
        #expect(clean("", .json) == "document.json")
        #expect(clean("\u{0}\u{1}", .html) == "document.html")
        #expect(clean("///", .markdown) == "document.md")
        #expect(clean(nil) == "document")
        #expect(clean(".pdf") == "pdf")
    }
}
