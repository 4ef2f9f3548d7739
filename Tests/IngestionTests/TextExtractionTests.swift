import Foundation
import Ingestion
import JSON
import Testing

@Suite("Text extraction")
struct TextExtractionTests {
    func extract(_ text: String, _ type: DocumentType) throws(IngestionError) -> ExtractedText {
        try TextExtractor.extractText(Array(text.utf8), format: DocumentFormat(type: type))
    }

    // MARK: Plain text and markdown

    @Test func plainTextBOMAndLineEnds() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("first line\r\nsecond line\rthird line\n".utf8)
        let out = try TextExtractor.extractText(bytes, format: DocumentFormat(type: .plainText))
        #expect(out.text == "first line\nsecond line\nthird line")
        #expect(out.text.unicodeScalars.first == "f")
    }

    @Test func normalisation() throws {
        let messy = "\n\n  Title  \t\n\n\n\nBody\twith\u{A0}nbsp and\u{2003}em space   \n\u{1}bell\u{7}\u{200B} zero\u{AD}width\r\n\r\n\r\n \t \nEnd\u{85}\n\n"
        #expect(try extract(messy, .plainText).text == "  Title\n\nBody with nbsp and em space\nbell zerowidth\n\nEnd")
    }

    @Test func ligaturesAreSpelledOut() throws {
        let out = try extract("\u{FB01}nance o\u{FB03}ce \u{FB02}oor \u{FB00} \u{FB06}", .plainText).text
        #expect(out == "finance office floor ff st", "\(out.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test func outputIsNFC() throws {
        let nfd = "Tiếng Việt có dấu".decomposedStringWithCanonicalMapping
        let out = try extract(nfd, .plainText)
        #expect(out.text.sameScalars("Tiếng Việt có dấu".precomposedStringWithCanonicalMapping))
    }

    @Test func markdownIsKeptAsWritten() throws {
        let md = "# Heading\r\n\r\n- item *one*\r\n- item `two`\r\n\r\n```swift\r\nlet x = 1\r\n```\r\n"
        #expect(try extract(md, .markdown).text == "# Heading\n\n- item *one*\n- item `two`\n\n```swift\nlet x = 1\n```")
    }

    @Test func invalidUTF8Is422NotACrash() {
        let bytes = Array("ok ".utf8) + [0xFF, 0xFE, 0x80] + Array(" more".utf8)
        #expect(throws: IngestionError.self) { try TextExtractor.extractText(bytes, format: DocumentFormat(type: .plainText)) }
        do {
            _ = try TextExtractor.extractText(bytes, format: DocumentFormat(type: .markdown))
        } catch {
            #expect(error.httpStatus == 422)
        }
    }

    @Test func noTextIs422() {
        #expect(throws: IngestionError.invalidContent("the document contains no text")) {
            try extract("<html><head><script>var x = 1</script></head><body>  </body></html>", .html)
        }
        #expect(throws: IngestionError.invalidContent("the document contains no text")) { try extract("{\"a\": null, \"b\": []}", .json) }
    }

    // MARK: HTML

    @Test func htmlDocument() throws {
        let html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Leave policy &amp; holidays</title>
              <style>body { color: red; } p > a { }</style>
              <script>if (a < b && c > d) { document.write("<p>nope</p>"); }</script>
            </head>
            <body>
              <!-- navigation: <p>hidden</p> -->
              <noscript><p>Enable JavaScript</p></noscript>
              <template><p>template</p></template>
              <h1>Leave   policy</h1>
              <p>Employees get <b>20&nbsp;days</b> of paid leave.<br>Unused days expire.</p>
              <h2 class="x">How to apply</h2>
              <ol>
                <li>Open the <a href="/hr" title="a > b">HR portal</a>.</li>
                <li>Pick dates
                  <ul><li>at least one week ahead</li><li>not during audits</li></ul>
                </li>
              </ol>
              <table>
                <tr><th>Days</th><th>Approver</th></tr>
                <tr><td>1&ndash;3</td><td>Team lead</td></tr>
              </table>
              <pre>
            line 1
              indented line 2</pre>
              <div>Caf&eacute; &#8220;quoted&#x201D; &copy 2024 &bogus; AT&T &#0; &#150;</div>
            </body>
            </html>
            """
        let out = try extract(html, .html)
        #expect(out.title == "Leave policy & holidays")
        #expect(out.text == """
            Leave policy & holidays

            # Leave policy

            Employees get 20 days of paid leave.
            Unused days expire.

            ## How to apply

            1. Open the HR portal.
            2. Pick dates
              - at least one week ahead
              - not during audits

            Days | Approver
            1–3 | Team lead

            line 1
              indented line 2

            Café “quoted” © 2024 &bogus; AT&T \u{FFFD} –
            """)
    }

    @Test func titleNotRepeatedWhenTheFirstHeadingSaysIt() throws {
        let out = try extract("<title>Guide</title><h1>Guide</h1><p>Text.</p>", .html)
        #expect(out.text == "# Guide\n\nText.")
        #expect(out.title == "Guide")
    }

    @Test func malformedHTML() throws {
        #expect(try extract("<p>a < b and c > d<p>unclosed <b>bold<div>x", .html).text == "a < b and c > d\n\nunclosed bold\nx")
        #expect(try extract("<p>x <= y, 3<4 and <3 love", .html).text == "x <= y, 3<4 and <3 love")
        // A tag that never closes is text; an unterminated quote does not swallow the page.
        #expect(try extract("<p>Start</p><a href=\"x>link</a> after<p>more", .html).text == "Start\n\nlink after\n\nmore")
        #expect(try extract("text then <b never closed", .html).text == "text then <b never closed")
        #expect(try extract("<p>one</p><!-- unterminated comment <p>two</p>", .html).text == "one")
        #expect(throws: IngestionError.self) { try extract("<script>never closed <p>x</p>", .html) }
    }

    @Test func htmlCostIsLinear() throws {
        // Patterns that make naive tag scanners quadratic: stray "<a" and unmatched quotes.
        let strays = String(repeating: "<a b=\"c ", count: 20_000) + "end"
        let comments = String(repeating: "<!x ", count: 20_000)
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            _ = try extract(strays, .html)
            _ = try? extract(comments, .html)
            _ = try extract(String(repeating: "<p>para &amp; <i>it</i></p>", count: 20_000), .html)
        }
        #expect(elapsed < .seconds(60), "quadratic markup handling would take far longer: \(elapsed)")
    }

    @Test func randomTagSoupNeverTraps() {
        let units = ["<p>", "</p>", "<div class=\"a\">", "<", ">", "</", "<!--", "-->", "<script>", "</script>", "<br/>", "<li>",
                     "<ul>", "</ul>", "<h2>", "</h2>", "&amp;", "&", "&#", "&#x41;", "&#99999999;", "text", " ", "\n", "Việt", "\"", "'",
                     "=", "<a href='x'>", "</a>", "<pre>", "</pre>", "<td>", "<tr>", "<title>", "</title>", "<!doctype html>", "<?xml ?>"]
        var state: UInt64 = 7
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        for _ in 0..<200 {
            let html = (0..<(1 + next(200))).map { _ in units[next(units.count)] }.joined()
            if let out = try? extract(html, .html) {
                #expect(out.text == TextNormalizer.normalize(out.text))
                #expect(!out.text.isEmpty)
            }
        }
    }

    // MARK: JSON

    @Test func jsonKeyPathsInDocumentOrder() throws {
        let json = """
            {
              "title": "Onboarding",
              "version": 2.50,
              "draft": false,
              "owner": null,
              "sections": [
                {"heading": "Day one", "body": "Meet the team.\\nGet a laptop."},
                {"heading": "Tools", "tags": ["git", "swift"], "empty": "", "nested": {"deep": {"x": -1e3}}}
              ],
              "zeta": "last \\u00e9 \\ud83d\\ude00 \\"q\\""
            }
            """
        let out = try extract(json, .json)
        #expect(out.text == """
            title: Onboarding

            version: 2.50

            draft: false

            sections.0.heading: Day one
            sections.0.body: Meet the team.
            Get a laptop.
            sections.1.heading: Tools
            sections.1.tags.0: git
            sections.1.tags.1: swift
            sections.1.nested.deep.x: -1e3

            zeta: last é 😀 "q"
            """)
    }

    @Test func jsonScalarsAndArraysAtTheTop() throws {
        #expect(try extract("\"just a string\"", .json).text == "just a string")
        #expect(try extract("[\"a\", {\"b\": 1}]", .json).text == "0: a\n\n1.b: 1")
    }

    @Test func invalidJSONAtExtraction() {
        #expect(throws: IngestionError.self) { try extract("{\"a\": tru}", .json) }
        #expect(throws: IngestionError.self) { try extract("{\"a\": \"bad \u{1} control\"}", .json) }
        #expect(throws: IngestionError.self) { try extract("[01]", .json) }
    }

    @Test func uploadsAreReadWithTheSameGrammarAsFramesOnlyMoreForgiving() throws {
        // The one parser: a document is refused at the same byte, for the same reason, as
        // `JSONValue.parse` refuses it.
        for bad in ["{\"a\": 1,}", "[1 2]", "{\"a\" 1}", "[\"x\u{1}\"]", "-", "1e", "\"open", "{} {}", "[tru]"] {
            var parseError: JSONParseError?
            do { _ = try JSONValue.parse(Array(bad.utf8)) } catch { parseError = error }
            let e = try #require(parseError, "\(bad)")
            #expect(throws: IngestionError.invalidContent("invalid JSON at byte \(e.offset): \(e.reason)")) { try extract(bad, .json) }
        }
        // Where uploads are more forgiving: half a surrogate pair reads as U+FFFD instead of
        // failing the whole document, and the next escape still counts.
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(#"["a\ud800b"]"#.utf8)) }
        #expect(try extract(#"{"t": "a\ud800b", "u": "\ud83d\u0041", "v": "\udc00"}"#, .json).text == "t: a\u{FFFD}b\n\nu: \u{FFFD}A\n\nv: \u{FFFD}")
        // Numbers keep their spelling; duplicate keys are both kept, in document order.
        #expect(try extract(#"{"n": 1.50, "m": 1E3, "n": -0}"#, .json).text == "n: 1.50\n\nm: 1E3\n\nn: -0")
    }

    // MARK: Pipeline

    @Test func sniffThenExtractEveryTextType() async throws {
        let cases: [(String, String, String, String)] = [
            ("Hello there.", "text/plain", "a.txt", "Hello there."),
            ("# Hi\n\nThere.", "text/markdown", "a.md", "# Hi\n\nThere."),
            ("<p>Hi <b>there</b></p>", "text/html", "a.html", "Hi there"),
            ("{\"greeting\": \"hi\"}", "application/json", "a.json", "greeting: hi"),
        ]
        for (content, type, name, expected) in cases {
            let bytes = Array(content.utf8)
            let format = try ContentSniffer.sniff(bytes, declaredContentType: type, filename: name)
            let out = try await TextExtractor().extract(bytes, format: format)
            #expect(out.text == expected)
            #expect(out.format == format)
        }
    }
}
