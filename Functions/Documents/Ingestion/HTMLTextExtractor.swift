/// HTML to text, hand-written and linear in the input (no HTML library is available on the
/// target). What it keeps and how:
///
/// - `<script>`, `<style>`, `<noscript>`, `<template>`, `<iframe>`, `<svg>`, `<math>` and
///   comments are dropped with their contents;
/// - block elements end lines: `p`, headings, lists, tables, `blockquote`, `pre`, `section`,
///   `article`... are separated by a blank line (a paragraph for the chunker), `div`, `li`, `tr`,
///   `br`, `dt`/`dd` by a line break (two `<br>` in a row make a blank line);
/// - headings become their own paragraph prefixed with `#` per level (`## Costs`), list items
///   `- ` lines (`1. ` in ordered lists, indented two spaces per nesting level), table cells
///   are joined with ` | `;
/// - whitespace collapses as a browser renders it, except inside `<pre>`;
/// - character references are decoded (the HTML 4 named set and `&apos;`, decimal and hex);
/// - the `<title>` is kept as the first paragraph unless the page's first line already says it.
///
/// Malformed markup is read the way browsers do where that is cheap: unclosed elements simply
/// never end, a `<` not followed by a letter, `/`, `!` or `?` is text, and a tag that never
/// closes (no `>` before the end) is text too. No step rescans input, so the cost stays linear
/// even for adversarial input (unmatched quotes, thousands of stray `<`).
struct HTMLTextExtractor {
    /// The text (before `TextNormalizer`) and the `<title>`, if any.
    static func extract(_ html: String) -> (text: String, title: String?) {
        var x = HTMLTextExtractor(Array(html.utf8))
        x.run()
        return x.result()
    }

    private let b: [UInt8]
    private var i = 0
    private var out: [UInt8] = []
    /// Newlines at the end of `out` (0, 1 or 2).
    private var trailingNewlines = 0
    /// Line breaks owed before the next text: 1 ends the line, 2 leaves a blank line.
    private var pendingBreak = 0
    private var pendingSpace = false
    /// Written before the next text (`- `, `## `, ` | `), dropped if no text follows.
    private var pendingPrefix: [UInt8] = []
    private var preDepth = 0
    private var skipNewlineAfterPre = false
    private var lists: [(ordered: Bool, counter: Int)] = []
    private var cellInRow = 0
    private var title: String?
    /// Set once a tag ran to the end of the input without `>`: the rest is text.
    private var noMoreTags = false
    /// A quote search from a position before this found nothing: no such quote after it.
    private var noDoubleQuoteAfter = Int.max
    private var noSingleQuoteAfter = Int.max

    private init(_ bytes: [UInt8]) { b = bytes }

    // MARK: Scanning

    private mutating func run() {
        let n = b.count
        while i < n {
            let c = b[i]
            if c == UInt8(ascii: "<"), !noMoreTags, markup() { continue }
            if c == UInt8(ascii: "&") {
                characterReference()
                continue
            }
            text(c)
            i += 1
        }
    }

    /// Handles the markup at `<` and returns true, or returns false when the `<` is text.
    private mutating func markup() -> Bool {
        let n = b.count
        guard i + 1 < n else { return false }
        let next = b[i + 1]
        if next == UInt8(ascii: "!") {
            if i + 3 < n, b[i + 2] == UInt8(ascii: "-"), b[i + 3] == UInt8(ascii: "-") {
                // A comment runs to `-->` (to the end if unterminated, as in browsers).
                if i + 4 < n, b[i + 4] == UInt8(ascii: ">") { i += 5; return true }  // <!-->
                i = find("-->", from: i + 4).map { $0 + 3 } ?? n
                return true
            }
            i = find(">", from: i + 2).map { $0 + 1 } ?? n  // doctype, CDATA: bogus comments
            return true
        }
        if next == UInt8(ascii: "?") {
            i = find(">", from: i + 2).map { $0 + 1 } ?? n
            return true
        }
        let isEnd = next == UInt8(ascii: "/")
        let nameStart = isEnd ? i + 2 : i + 1
        guard nameStart < n, isASCIILetter(b[nameStart]) else { return false }
        var j = nameStart
        while j < n, isNameByte(b[j]) { j += 1 }
        let name = lowercasedName(nameStart, j)
        guard let end = tagEnd(from: j, quoted: !isEnd) else {
            noMoreTags = true
            return false
        }
        let selfClosing = end > nameStart && b[end - 1] == UInt8(ascii: "/")
        i = end + 1
        if isEnd {
            endTag(name)
        } else {
            startTag(name, selfClosing: selfClosing)
        }
        return true
    }

    /// The index of the `>` ending a tag whose name ends at `from`, skipping quoted attribute
    /// values (`title="a > b"`) when `quoted`. Nil if the input ends first.
    private mutating func tagEnd(from: Int, quoted: Bool) -> Int? {
        let n = b.count
        var j = from
        var afterEquals = false
        while j < n {
            let c = b[j]
            if c == UInt8(ascii: ">") { return j }
            if quoted, afterEquals, c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if let close = findQuote(c, from: j + 1) {
                    j = close + 1
                    afterEquals = false
                    continue
                }
            }
            if c == UInt8(ascii: "=") {
                afterEquals = true
            } else if !isSpace(c) {
                afterEquals = false
            }
            j += 1
        }
        return nil
    }

    private mutating func findQuote(_ q: UInt8, from: Int) -> Int? {
        let limit = q == UInt8(ascii: "\"") ? noDoubleQuoteAfter : noSingleQuoteAfter
        guard from < limit else { return nil }
        var j = from
        while j < b.count {
            if b[j] == q { return j }
            j += 1
        }
        if q == UInt8(ascii: "\"") { noDoubleQuoteAfter = from } else { noSingleQuoteAfter = from }
        return nil
    }

    private func find(_ needle: String, from: Int) -> Int? {
        let nb = Array(needle.utf8)
        var j = from
        while j + nb.count <= b.count {
            if b[j] == nb[0] {
                var k = 1
                while k < nb.count, b[j + k] == nb[k] { k += 1 }
                if k == nb.count { return j }
            }
            j += 1
        }
        return nil
    }

    /// The start of `</name` (any case) at or after `from`.
    private func findEndTag(_ name: String, from: Int) -> Int? {
        let nb = Array(name.utf8)
        var j = from
        while j + 2 + nb.count <= b.count {
            if b[j] == UInt8(ascii: "<"), b[j + 1] == UInt8(ascii: "/") {
                var k = 0
                while k < nb.count, b[j + 2 + k] | 0x20 == nb[k] { k += 1 }
                if k == nb.count, j + 2 + k == b.count || !isNameByte(b[j + 2 + k]) { return j }
            }
            j += 1
        }
        return nil
    }

    /// Moves past the element's end tag (`</script ...>`), or to the end of the input.
    private mutating func skipContents(of name: String) {
        guard let close = findEndTag(name, from: i) else { i = b.count; return }
        i = find(">", from: close).map { $0 + 1 } ?? b.count
    }

    // MARK: Elements

    private static let dropped: Set<String> = ["script", "style", "noscript", "template", "iframe", "svg", "math", "noembed", "noframes", "object"]
    private static let paragraphBlocks: Set<String> = [
        "p", "ul", "ol", "dl", "table", "blockquote", "pre", "section", "article", "header", "footer", "main", "nav",
        "aside", "figure", "form", "fieldset", "details", "address", "hr", "hgroup", "center", "menu", "body",
    ]
    private static let lineBlocks: Set<String> = [
        "div", "li", "tr", "dt", "dd", "figcaption", "caption", "summary", "legend", "option", "thead", "tbody", "tfoot",
        "label", "textarea", "select", "dialog", "search",
    ]

    private mutating func startTag(_ name: String, selfClosing: Bool) {
        if Self.dropped.contains(name) {
            if !selfClosing { skipContents(of: name) }
            return
        }
        if name == "title" {
            let start = i
            let close = findEndTag("title", from: i) ?? b.count
            if title == nil {
                var t = HTMLTextExtractor(Array(b[start..<close]))
                t.run()
                let s = String(decoding: t.out, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
                if !s.isEmpty { title = s }
            }
            i = close
            if close < b.count { i = find(">", from: close).map { $0 + 1 } ?? b.count }
            return
        }
        if name == "br" {
            pendingBreak = min(2, pendingBreak + 1)
            if out.isEmpty { pendingBreak = 0 }
            return
        }
        if let level = headingLevel(name) {
            breakAtLeast(2)
            pendingPrefix = Array(String(repeating: "#", count: level).utf8) + [0x20]
            return
        }
        switch name {
        case "ul", "ol":
            breakAtLeast(lists.isEmpty ? 2 : 1)
            lists.append((name == "ol", 0))
            return
        case "li":
            breakAtLeast(1)
            let indent = [UInt8](repeating: 0x20, count: 2 * max(0, lists.count - 1))
            if var top = lists.last, top.ordered {
                top.counter += 1
                lists[lists.count - 1] = top
                pendingPrefix = indent + Array("\(top.counter). ".utf8)
            } else {
                pendingPrefix = indent + Array("- ".utf8)
            }
            return
        case "tr":
            breakAtLeast(1)
            cellInRow = 0
            pendingPrefix = []
            return
        case "td", "th":
            if cellInRow > 0 { pendingPrefix = Array(" | ".utf8) }
            cellInRow += 1
            pendingSpace = false
            return
        case "pre":
            breakAtLeast(2)
            preDepth += 1
            skipNewlineAfterPre = true
            return
        default: break
        }
        if Self.paragraphBlocks.contains(name) {
            breakAtLeast(2)
        } else if Self.lineBlocks.contains(name) {
            breakAtLeast(1)
        }
    }

    private mutating func endTag(_ name: String) {
        if headingLevel(name) != nil {
            breakAtLeast(2)
            pendingPrefix = []
            return
        }
        switch name {
        case "ul", "ol":
            if !lists.isEmpty { lists.removeLast() }
            breakAtLeast(lists.isEmpty ? 2 : 1)
            pendingPrefix = []
        case "li":
            breakAtLeast(1)
            pendingPrefix = []
        case "pre":
            preDepth = max(0, preDepth - 1)
            breakAtLeast(2)
        case "td", "th":
            pendingSpace = false
        case "tr", "table":
            breakAtLeast(name == "tr" ? 1 : 2)
            cellInRow = 0
            pendingPrefix = []
        case "br":
            pendingBreak = min(2, pendingBreak + 1)  // `</br>` acts as `<br>` in browsers
        default:
            if Self.paragraphBlocks.contains(name) {
                breakAtLeast(2)
            } else if Self.lineBlocks.contains(name) {
                breakAtLeast(1)
            }
        }
    }

    private func headingLevel(_ name: String) -> Int? {
        let u = Array(name.utf8)
        guard u.count == 2, u[0] == UInt8(ascii: "h"), (0x31...0x36).contains(u[1]) else { return nil }
        return Int(u[1] - 0x30)
    }

    private mutating func breakAtLeast(_ level: Int) {
        if !out.isEmpty { pendingBreak = max(pendingBreak, level) }
        pendingSpace = false
    }

    // MARK: Text

    private mutating func text(_ c: UInt8) {
        if preDepth > 0 {
            if c == 0x0D { return }
            if c == 0x0A {
                if skipNewlineAfterPre { skipNewlineAfterPre = false; return }
                flushPending()
                out.append(0x0A)
                trailingNewlines += 1
                return
            }
            skipNewlineAfterPre = false
            flushPending()
            append(c)
            return
        }
        if isSpace(c) {
            pendingSpace = true
            return
        }
        flushPending()
        append(c)
    }

    private mutating func append(_ c: UInt8) {
        out.append(c)
        trailingNewlines = 0
    }

    /// Writes the owed line breaks or space and the prefix, before a visible character.
    private mutating func flushPending() {
        if !out.isEmpty {
            if pendingBreak > trailingNewlines {
                for _ in trailingNewlines..<pendingBreak { out.append(0x0A) }
                trailingNewlines = pendingBreak
            } else if pendingBreak == 0, pendingSpace, trailingNewlines == 0, out.last != 0x20 {
                out.append(0x20)
            }
        }
        if !pendingPrefix.isEmpty {
            out.append(contentsOf: pendingPrefix)
            trailingNewlines = 0
            pendingPrefix = []
        }
        pendingBreak = 0
        pendingSpace = false
    }

    /// `&amp;`, `&#233;`, `&#x1F600;`; anything else leaves the `&` as text.
    private mutating func characterReference() {
        let n = b.count
        var j = i + 1
        if j < n, b[j] == UInt8(ascii: "#") {
            j += 1
            let hex = j < n && (b[j] | 0x20) == UInt8(ascii: "x")
            if hex { j += 1 }
            let digitsStart = j
            var value: UInt32 = 0
            while j < n, j - digitsStart < 10 {
                let c = b[j]
                let d: UInt32
                if c &- 0x30 < 10 {
                    d = UInt32(c - 0x30)
                } else if hex, (c | 0x20) &- 0x61 < 6 {
                    d = UInt32((c | 0x20) - 0x61 + 10)
                } else {
                    break
                }
                value = min(value &* (hex ? 16 : 10) &+ d, 0x11_0000)
                j += 1
            }
            guard j > digitsStart else { return literalAmpersand() }
            if j < n, b[j] == UInt8(ascii: ";") { j += 1 }
            emitScalar(HTMLEntities.numeric(value))
            i = j
            return
        }
        let nameStart = j
        while j < n, j - nameStart < 32, isASCIILetter(b[j]) || b[j] &- 0x30 < 10 { j += 1 }
        guard j > nameStart else { return literalAmpersand() }
        let name = String(decoding: b[nameStart..<j], as: UTF8.self)
        let terminated = j < n && b[j] == UInt8(ascii: ";")
        let legacy = HTMLEntities.legacyWithoutSemicolon.contains(name)
        guard terminated || legacy,
              let value = HTMLEntities.named[name] ?? (legacy ? HTMLEntities.named[name.lowercased()] : nil),
              let scalar = Unicode.Scalar(value)
        else { return literalAmpersand() }
        emitScalar(scalar)
        i = terminated ? j + 1 : j
    }

    private mutating func literalAmpersand() {
        text(UInt8(ascii: "&"))
        i += 1
    }

    private mutating func emitScalar(_ s: Unicode.Scalar) {
        if s.value < 0x80 {
            text(UInt8(s.value))
        } else {
            flushPending()
            out.append(contentsOf: String(s).utf8)
            trailingNewlines = 0
        }
    }

    // MARK: Bytes

    private func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
    private func isNameByte(_ c: UInt8) -> Bool { isASCIILetter(c) || c &- 0x30 < 10 || c == UInt8(ascii: "-") || c == UInt8(ascii: ":") }
    private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D }

    private func lowercasedName(_ from: Int, _ to: Int) -> String {
        String(decoding: b[from..<to].map { isASCIILetter($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    // MARK: Result

    private func result() -> (text: String, title: String?) {
        let body = String(decoding: out, as: UTF8.self)
        guard let title else { return (body, nil) }
        // The first line, without heading marks, already says the title: do not repeat it.
        let firstLine = body.split(separator: "\n", maxSplits: 1).first.map { $0.drop(while: { $0 == "#" || $0 == " " }) } ?? ""
        if firstLine.lowercased() == title.lowercased() { return (body, title) }
        return (body.isEmpty ? title : title + "\n\n" + body, title)
    }
}
