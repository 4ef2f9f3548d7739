import Documents
import Foundation
import Testing

@Suite struct MultipartTests {
    func parse(_ form: Form) throws -> MultipartForm {
        try MultipartForm.parse(form.body(), boundary: try MultipartForm.boundary(contentType: form.contentType))
    }

    func parse(_ text: String, boundary: String = "b0und") throws(MultipartForm.ParseError) -> MultipartForm {
        try MultipartForm.parse(Array(text.utf8), boundary: boundary)
    }

    @Test func fileTitleAndMetadataParts() throws {
        let form = try parse(Form.file("hello world\n", filename: "notes.txt", title: "My notes", metadata: #"{"dept":"hr"}"#))
        #expect(form.parts.count == 3)
        let file = form.parts[0]
        #expect(file.name == "file")
        #expect(file.filename == "notes.txt")
        #expect(file.contentType == "text/plain")
        #expect(Array(file.body) == Array("hello world\n".utf8))
        #expect(form.parts[1].name == "title" && String(decoding: form.parts[1].body, as: UTF8.self) == "My notes")
        #expect(String(decoding: form.parts[2].body, as: UTF8.self) == #"{"dept":"hr"}"#)
    }

    @Test(arguments: [false, true]) func boundaryQuotedOrNot(quoted: Bool) throws {
        var f = Form.file("x")
        f.quoteBoundary = quoted
        #expect(try MultipartForm.boundary(contentType: f.contentType) == f.boundary)
        #expect(try parse(f).parts.count == 1)
        // Other parameters and odd spacing around it.
        #expect(try MultipartForm.boundary(contentType: "multipart/form-data ;charset=utf-8;  boundary = \"a b:c\"") == "a b:c")
    }

    @Test func missingOrInvalidBoundaryParameter() {
        #expect(throws: MultipartForm.ParseError.missingBoundary) { try MultipartForm.boundary(contentType: "multipart/form-data") }
        #expect(throws: MultipartForm.ParseError.invalidBoundary) { try MultipartForm.boundary(contentType: "multipart/form-data; boundary=\"\"") }
        let long = String(repeating: "x", count: 201)
        #expect(throws: MultipartForm.ParseError.invalidBoundary) { try MultipartForm.boundary(contentType: "multipart/form-data; boundary=\(long)") }
    }

    @Test func bareLFLineEndings() throws {
        var f = Form.file("line one\nline two", title: "T")
        f.lineEnding = "\n"
        let form = try parse(f)
        #expect(form.parts.count == 2)
        #expect(String(decoding: form.parts[0].body, as: UTF8.self) == "line one\nline two")
        #expect(String(decoding: form.parts[1].body, as: UTF8.self) == "T")
    }

    @Test func binaryContentWithLineBreaksAndBoundaryLookalikesIsKeptExactly() throws {
        // CR, LF, CRLF at the ends, a line that starts like the delimiter but goes on, dashes.
        let tricky: [UInt8] = [0x0D, 0x0A] + Array("--b0undary-not-a-delimiter\r\n--b0und-x\r\n-- b0und\r\n".utf8)
            + [0x00, 0xFF, 0x0D] + Array("\r\n".utf8)
        var f = Form()
        f.boundary = "b0und"
        f.addFile(tricky, filename: "x.bin", contentType: "application/octet-stream")
        let form = try parse(f)
        #expect(form.parts.count == 1)
        #expect(Array(form.parts[0].body) == tricky)
    }

    @Test func preambleEpilogueAndTransportPadding() throws {
        let text = "This is a preamble.\r\n--b0und  \t\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nbody\r\n--b0und--  \r\nepilogue ignored\r\n"
        let form = try parse(text)
        #expect(form.parts.count == 1)
        #expect(String(decoding: form.parts[0].body, as: UTF8.self) == "body")
    }

    @Test func emptyPartContent() throws {
        let form = try parse("--b0und\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\r\n--b0und--\r\n")
        #expect(form.parts.count == 1)
        #expect(form.parts[0].body.isEmpty)
        // A sloppy client that puts the delimiter right after the blank line.
        let sloppy = try parse("--b0und\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n--b0und--\r\n")
        #expect(sloppy.parts.count == 1 && sloppy.parts[0].body.isEmpty)
    }

    @Test func filenameStarUTF8WinsOverFilename() throws {
        let text = "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Tieng Viet.txt\"; filename*=UTF-8''Ti%E1%BA%BFng%20Vi%E1%BB%87t.txt\r\n\r\nx\r\n--b0und--"
        #expect(try parse(text).parts[0].filename == "Tiếng Việt.txt")
        // Raw UTF-8 bytes in the quoted filename, as browsers send them.
        let raw = "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"báo cáo.md\"\r\n\r\nx\r\n--b0und--"
        #expect(try parse(raw).parts[0].filename == "báo cáo.md")
    }

    @Test func quotedFilenameEscapesAndWindowsPaths() throws {
        let text = "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"C:\\Users\\a \\\"q\\\".txt\"\r\n\r\nx\r\n--b0und--"
        #expect(try parse(text).parts[0].filename == "C:\\Users\\a \"q\".txt")
    }

    @Test func foldedHeadersAndCaseInsensitiveNames() throws {
        let text = "--b0und\r\ncontent-DISPOSITION: form-data;\r\n name=\"file\";\r\n\tfilename=\"f.md\"\r\nCONTENT-TYPE: text/markdown\r\n\r\n# Hi\r\n--b0und--\r\n"
        let part = try parse(text).parts[0]
        #expect(part.name == "file")
        #expect(part.filename == "f.md")
        #expect(part.contentType == "text/markdown")
    }

    @Test func missingClosingBoundaryIsAnError() {
        #expect(throws: MultipartForm.ParseError.missingClosingDelimiter) {
            try parse("--b0und\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ntruncated conte")
        }
        #expect(throws: MultipartForm.ParseError.missingClosingDelimiter) {
            try parse("--b0und\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nbody\r\n--b0und")
        }
        #expect(throws: MultipartForm.ParseError.missingClosingDelimiter) {
            try parse("--b0und\r\nContent-Disposition: form-data; name=\"file\"")
        }
        var f = Form.file("x")
        f.closed = false
        #expect(throws: MultipartForm.ParseError.missingClosingDelimiter) { try parse(f) }
    }

    @Test func aBodyWithoutTheBoundaryIsAnError() {
        #expect(throws: MultipartForm.ParseError.noDelimiter) { try parse("just some text") }
        #expect(throws: MultipartForm.ParseError.noDelimiter) { try parse("--other\r\n\r\nx\r\n--other--", boundary: "b0und") }
        #expect(throws: MultipartForm.ParseError.noDelimiter) { try parse("") }
    }

    @Test func malformedHeaders() {
        #expect(throws: MultipartForm.ParseError.malformedHeaders("a header line without a colon")) {
            try parse("--b0und\r\nnot a header\r\n\r\nx\r\n--b0und--")
        }
        #expect(throws: MultipartForm.ParseError.malformedHeaders("a continuation line before any header")) {
            try parse("--b0und\r\n folded first\r\n\r\nx\r\n--b0und--")
        }
    }

    @Test func closingDelimiterFirstMeansNoParts() throws {
        #expect(try parse("--b0und--\r\n").parts.isEmpty)
    }

    @Test func tooManyParts() {
        var f = Form()
        for i in 0...MultipartForm.maxParts { f.addField("f\(i)", "v") }
        #expect(throws: MultipartForm.ParseError.tooManyParts) { try parse(f) }
    }

    @Test func headerParameters() {
        let p = HeaderParameters.parse("attachment; filename=plain.txt; FILENAME*=utf-8'en'%C3%A9t%C3%A9.txt; x=\"unterminated")
        #expect(p.value == "attachment")
        #expect(p.parameters["filename"] == "plain.txt")
        #expect(p.parameters["filename*"].flatMap(HeaderParameters.decodeExtendedValue) == "été.txt")
        #expect(p.parameters["x"] == "unterminated")
        #expect(HeaderParameters.decodeExtendedValue("iso-8859-1''%E9t%E9") == "été")
        #expect(HeaderParameters.decodeExtendedValue("UTF-8''%ZZ") == nil)
        #expect(HeaderParameters.decodeExtendedValue("UTF-8''%FF") == nil)  // not UTF-8
        #expect(HeaderParameters.decodeExtendedValue("no quotes") == nil)
    }
}
