/// JSON to text: every string, number and boolean as a `key.path: value` line, in document
/// order (object members as written, arrays by index: `sections.0.body: ...`). Members of the
/// top-level container are separated by blank lines, so the chunker sees each as a paragraph.
/// `null`, empty strings and empty containers are left out. Numbers keep their source spelling.
///
/// A strict RFC 8259 parser of its own (LambdaEvents' `JSONValue` keeps objects in dictionaries,
/// which loses the order); the sniffer validates uploads with the same code, so what upload
/// accepts the worker can read.
enum JSONTextExtractor {
    /// Nesting deeper than this is refused (and keeps the recursion bounded).
    static let maxDepth = 256

    static func extract(_ text: String) throws(IngestionError) -> String {
        var parser = Parser(Array(text.utf8), emit: true)
        do {
            try parser.document()
        } catch {
            throw .invalidContent("invalid JSON at byte \(error.offset): \(error.reason)")
        }
        return String(decoding: parser.out, as: UTF8.self)
    }

    /// Throws `.invalidContent` unless `text` is one well-formed JSON value.
    static func validate(_ text: String) throws(IngestionError) {
        var parser = Parser(Array(text.utf8), emit: false)
        do {
            try parser.document()
        } catch {
            throw .invalidContent("invalid JSON at byte \(error.offset): \(error.reason)")
        }
    }

    struct Failure: Error {
        let offset: Int
        let reason: String
    }

    struct Parser {
        let b: [UInt8]
        let emit: Bool
        var i = 0
        var depth = 0
        var out: [UInt8] = []
        /// The key path to the current value, as UTF-8 components.
        var path: [[UInt8]] = []
        /// The top-level member the last emitted line belonged to.
        var lastGroup: [UInt8]?

        init(_ bytes: [UInt8], emit: Bool) {
            b = bytes
            self.emit = emit
            // A BOM is not JSON, but editors write one; the extractor removed it already.
            if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        }

        func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

        mutating func document() throws(Failure) {
            try value()
            skipSpace()
            guard i == b.count else { throw fail("unexpected data after the value") }
        }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func value() throws(Failure) {
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of the document") }
            switch b[i] {
            case UInt8(ascii: "{"): try object()
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "\""):
                let s = try string()
                if !s.isEmpty { leaf(s) }
            case UInt8(ascii: "t"): try literal("true"); leaf(Array("true".utf8))
            case UInt8(ascii: "f"): try literal("false"); leaf(Array("false".utf8))
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                try number()
                leaf(Array(b[start..<i]))
            default: throw fail("unexpected character")
            }
        }

        mutating func object() throws(Failure) {
            try enter()
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; depth -= 1; return }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
                i += 1
                path.append(key.isEmpty ? Array("(empty)".utf8) : key)
                try value()
                path.removeLast()
                skipSpace()
                guard i < b.count else { throw fail("unexpected end inside an object") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}' in an object")
            }
            depth -= 1
        }

        mutating func array() throws(Failure) {
            try enter()
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; depth -= 1; return }
            var index = 0
            while true {
                path.append(Array(String(index).utf8))
                try value()
                path.removeLast()
                index += 1
                skipSpace()
                guard i < b.count else { throw fail("unexpected end inside an array") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']' in an array")
            }
            depth -= 1
        }

        mutating func enter() throws(Failure) {
            depth += 1
            guard depth <= JSONTextExtractor.maxDepth else { throw fail("nested more than \(JSONTextExtractor.maxDepth) levels deep") }
        }

        mutating func literal(_ word: String) throws(Failure) {
            let w = Array(word.utf8)
            guard b.count - i >= w.count, b[i..<(i + w.count)].elementsEqual(w) else { throw fail("unexpected character") }
            i += w.count
        }

        mutating func number() throws(Failure) {
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count, isDigit(b[i]) else { throw fail("expected a digit") }
            if b[i] == UInt8(ascii: "0") { i += 1 } else { while i < b.count, isDigit(b[i]) { i += 1 } }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                guard i < b.count, isDigit(b[i]) else { throw fail("expected a digit after '.'") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                i += 1
                if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < b.count, isDigit(b[i]) else { throw fail("expected a digit in the exponent") }
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
        }

        func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

        /// A string's contents, escapes decoded, as UTF-8.
        mutating func string() throws(Failure) -> [UInt8] {
            i += 1
            var s: [UInt8] = []
            while true {
                guard i < b.count else { throw fail("unterminated string") }
                let c = b[i]
                if c == UInt8(ascii: "\"") { i += 1; return s }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") {
                    if emit { s.append(c) }
                    i += 1
                    continue
                }
                i += 1
                guard i < b.count else { throw fail("unterminated escape") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): s.append(e)
                case UInt8(ascii: "b"): s.append(0x08)
                case UInt8(ascii: "f"): s.append(0x0C)
                case UInt8(ascii: "n"): s.append(0x0A)
                case UInt8(ascii: "r"): s.append(0x0D)
                case UInt8(ascii: "t"): s.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        if b.count - i >= 6, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                            let save = i
                            i += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                i = save
                                scalar = 0xFFFD
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    if emit { s.append(contentsOf: String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8) }
                default: throw fail("invalid escape")
                }
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard b.count - i >= 4 else { throw fail("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 0x30)
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 0x61 + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 0x41 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        /// One `path: value` line (just the value for a scalar document).
        mutating func leaf(_ value: [UInt8]) {
            guard emit else { return }
            let group = path.first
            if !out.isEmpty { out.append(contentsOf: group != lastGroup ? [0x0A, 0x0A] : [0x0A]) }
            lastGroup = group
            for (k, component) in path.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ".")) }
                out.append(contentsOf: component)
            }
            if !path.isEmpty { out.append(contentsOf: [UInt8(ascii: ":"), 0x20]) }
            out.append(contentsOf: value)
        }
    }
}
