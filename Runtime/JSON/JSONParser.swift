#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension JSONValue {
    /// Parses JSON text (RFC 8259, strict) straight into a `JSONValue`, several times faster than
    /// going through `JSONDecoder` and `Codable`. The runtime and the emulator parse a frame per
    /// invocation, so this sits on the hot path. Throws `JSONParseError` on malformed input.
    public static func parse<C: Collection<UInt8>>(_ bytes: C) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var sink = JSONTreeSink()
            var parser = JSONParser(buffer, options: JSONParseOptions())
            return Result { () throws(JSONParseError) -> JSONValue in try parser.parseDocument(into: &sink) }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes))
    }
}

public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// How strict a parse is where RFC 8259 leaves room or callers differ.
package struct JSONParseOptions: Sendable {
    /// Containers nested deeper than this are refused (and keep the recursion bounded).
    package var maxDepth = 512
    /// A `\u` escape of half a surrogate pair: refused, or read as U+FFFD (documents written by
    /// tools that split pairs are still readable).
    package var replacesLoneSurrogates = false
    /// A UTF-8 byte order mark before the value is skipped (editors write one; it is not JSON).
    package var skipsByteOrderMark = false

    package init(maxDepth: Int = 512, replacesLoneSurrogates: Bool = false, skipsByteOrderMark: Bool = false) {
        self.maxDepth = maxDepth
        self.replacesLoneSurrogates = replacesLoneSurrogates
        self.skipsByteOrderMark = skipsByteOrderMark
    }
}

/// What the parser reports, value by value and in document order. The parser does the grammar;
/// the sink decides what a value becomes: `JSONTreeSink` builds a `JSONValue`, the ingestion
/// extractor writes `key.path: value` lines without building anything. One grammar, so what one
/// reader accepts the other accepts.
package protocol JSONSink {
    associatedtype Value
    associatedtype Members
    associatedtype Elements

    mutating func beginObject() -> Members
    /// Before the member's value is parsed.
    mutating func beginMember(_ key: String)
    mutating func endMember(_ key: String, _ value: Value, in object: inout Members)
    mutating func object(_ object: Members) -> Value

    mutating func beginArray() -> Elements
    /// Before the element's value is parsed.
    mutating func beginElement(_ index: Int)
    mutating func endElement(_ value: Value, in array: inout Elements)
    mutating func array(_ array: Elements) -> Value

    mutating func string(_ s: String) -> Value
    /// A number as written (valid JSON number syntax); nil if the sink cannot represent it.
    mutating func number(_ text: UnsafeBufferPointer<UInt8>) -> Value?
    mutating func bool(_ b: Bool) -> Value
    mutating func null() -> Value
}

extension JSONSink {
    package mutating func beginMember(_ key: String) {}
    package mutating func beginElement(_ index: Int) {}
}

/// Builds the `JSONValue` tree.
package struct JSONTreeSink: JSONSink {
    package init() {}

    package func beginObject() -> JSONObject { [:] }
    package func endMember(_ key: String, _ value: JSONValue, in object: inout JSONObject) {
        // The first of duplicate keys wins, as with JSONDecoder, so both paths agree.
        if object[key] == nil { object[key] = value }
    }
    package func object(_ object: JSONObject) -> JSONValue { .object(object) }

    package func beginArray() -> [JSONValue] { [] }
    package func endElement(_ value: JSONValue, in array: inout [JSONValue]) { array.append(value) }
    package func array(_ array: [JSONValue]) -> JSONValue { .array(array) }

    package func string(_ s: String) -> JSONValue { .string(s) }
    package func bool(_ b: Bool) -> JSONValue { .bool(b) }
    package func null() -> JSONValue { .null }

    package func number(_ t: UnsafeBufferPointer<UInt8>) -> JSONValue? { Self.double(t).map(JSONValue.number) }

    /// A number as written, as a `Double`: short integers (ids, epochs, counts) without going
    /// through text. For every sink that keeps numbers as doubles.
    package static func double(_ t: UnsafeBufferPointer<UInt8>) -> Double? {
        if t.count <= 15, !t.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) {
            let negative = t[0] == 0x2D
            var v: Int64 = 0
            for k in (negative ? 1 : 0)..<t.count { v = v * 10 + Int64(t[k] - 0x30) }
            return Double(negative ? -v : v)
        }
        return Double(String(decoding: t, as: UTF8.self))
    }
}

/// A strict RFC 8259 recursive-descent parser over a byte buffer, reporting to a `JSONSink`.
/// Hand-written rather than Foundation's JSONSerialization: it is on the per-invocation path
/// (several times faster than JSONDecoder for a frame), and the ingestion extractor needs member
/// order and each number's spelling, which no Foundation reader gives.
package struct JSONParser {
    private let b: UnsafeBufferPointer<UInt8>
    private let options: JSONParseOptions
    private var i = 0
    private var depth = 0

    package init(_ buffer: UnsafeBufferPointer<UInt8>, options: JSONParseOptions) {
        b = buffer
        self.options = options
        if options.skipsByteOrderMark, b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
    }

    /// Exactly one value, with nothing but whitespace after it.
    package mutating func parseDocument<S: JSONSink>(into sink: inout S) throws(JSONParseError) -> S.Value {
        let v = try value(&sink)
        skipWhitespace()
        guard i == b.count else { throw fail("unexpected data after the value") }
        return v
    }

    private func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    private mutating func skipWhitespace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private mutating func value<S: JSONSink>(_ sink: inout S) throws(JSONParseError) -> S.Value {
        skipWhitespace()
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        case 0x7B: return try object(&sink)
        case 0x5B: return try array(&sink)
        case 0x22: return sink.string(try string())
        case 0x74: try literal("true"); return sink.bool(true)
        case 0x66: try literal("false"); return sink.bool(false)
        case 0x6E: try literal("null"); return sink.null()
        case 0x2D, 0x30...0x39:
            let start = i
            try number()
            guard let v = sink.number(UnsafeBufferPointer(rebasing: b[start..<i])) else {
                i = start
                throw fail("invalid number")
            }
            return v
        default: throw fail("unexpected character")
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= options.maxDepth else { throw fail("nested more than \(options.maxDepth) levels deep") }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("unexpected end") }
        for k in 0..<n where b[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func object<S: JSONSink>(_ sink: inout S) throws(JSONParseError) -> S.Value {
        try enter()
        defer { depth -= 1 }
        i += 1
        var out = sink.beginObject()
        skipWhitespace()
        if i < b.count, b[i] == 0x7D { i += 1; return sink.object(out) }
        while true {
            skipWhitespace()
            guard i < b.count, b[i] == 0x22 else { throw fail("expected a key") }
            let key = try string()
            skipWhitespace()
            guard i < b.count, b[i] == 0x3A else { throw fail("expected ':'") }
            i += 1
            sink.beginMember(key)
            let v = try value(&sink)
            sink.endMember(key, v, in: &out)
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end") }
            if b[i] == 0x2C { i += 1; continue }
            if b[i] == 0x7D { i += 1; return sink.object(out) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array<S: JSONSink>(_ sink: inout S) throws(JSONParseError) -> S.Value {
        try enter()
        defer { depth -= 1 }
        i += 1
        var out = sink.beginArray()
        skipWhitespace()
        if i < b.count, b[i] == 0x5D { i += 1; return sink.array(out) }
        var index = 0
        while true {
            sink.beginElement(index)
            let v = try value(&sink)
            sink.endElement(v, in: &out)
            index += 1
            skipWhitespace()
            guard i < b.count else { throw fail("unexpected end") }
            if b[i] == 0x2C { i += 1; continue }
            if b[i] == 0x5D { i += 1; return sink.array(out) }
            throw fail("expected ',' or ']'")
        }
    }

    /// Advances over one number, checking its syntax.
    private mutating func number() throws(JSONParseError) {
        if b[i] == 0x2D { i += 1 }
        guard i < b.count, (0x30...0x39).contains(b[i]) else { throw fail("invalid number") }
        if b[i] == 0x30 { i += 1 } else { while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 } }
        if i < b.count, b[i] == 0x2E {
            i += 1
            guard i < b.count, (0x30...0x39).contains(b[i]) else { throw fail("invalid number") }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
            guard i < b.count, (0x30...0x39).contains(b[i]) else { throw fail("invalid number") }
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
        }
    }

    private mutating func string() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes.
        while i < b.count {
            let c = b[i]
            if c == 0x22 {
                let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                guard let s else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c == 0x5C { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x22:
                i += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            case 0x5C:
                i += 1
                guard i < b.count else { throw fail("unexpected end") }
                let e = b[i]
                i += 1
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75: out.append(contentsOf: try unicodeEscape().utf8)
                default: throw fail("invalid escape")
                }
            default:
                if c < 0x20 { throw fail("control character in string") }
                out.append(c)
                i += 1
            }
        }
        throw fail("unterminated string")
    }

    /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a surrogate pair.
    private mutating func unicodeEscape() throws(JSONParseError) -> String {
        let replacement = "\u{FFFD}"
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            if i + 1 < b.count, b[i] == 0x5C, b[i + 1] == 0x75 {
                let save = i
                i += 2
                let low = try hex4()
                if (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if options.replacesLoneSurrogates {
                    i = save  // the next escape is read on its own
                    return replacement
                } else {
                    throw fail("invalid surrogate pair")
                }
            } else if options.replacesLoneSurrogates {
                return replacement
            } else {
                throw fail("lone surrogate")
            }
        } else if (0xDC00...0xDFFF).contains(scalar) {
            if options.replacesLoneSurrogates { return replacement }
            throw fail("lone surrogate")
        }
        guard let u = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
        return String(Character(u))
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= b.count else { throw fail("unexpected end") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }
}
