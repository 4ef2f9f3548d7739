import JSON

/// JSON to text: every string, number and boolean as a `key.path: value` line, in document
/// order (object members as written, arrays by index: `sections.0.body: ...`). Members of the
/// top-level container are separated by blank lines, so the chunker sees each as a paragraph.
/// `null`, empty strings and empty containers are left out. Numbers keep their source spelling.
///
/// The grammar is the JSON module's one parser; this file is only a sink that writes lines as
/// values go by (a `JSONValue` tree would lose member order and each number's spelling). The
/// sniffer validates uploads with the same options, so what upload accepts the worker can read.
enum JSONTextExtractor {
    /// Nesting deeper than this is refused (and keeps the recursion bounded).
    static let maxDepth = 256

    /// Uploads are read leniently where a document is still meaningful: a lone surrogate escape
    /// becomes U+FFFD, a byte order mark is skipped.
    static let options = JSONParseOptions(maxDepth: maxDepth, replacesLoneSurrogates: true, skipsByteOrderMark: true)

    static func extract(_ text: String) throws(IngestionError) -> String {
        var sink = LineSink(emit: true)
        try run(text, &sink)
        return String(decoding: sink.out, as: UTF8.self)
    }

    /// Throws `.invalidContent` unless `text` is one well-formed JSON value.
    static func validate(_ text: String) throws(IngestionError) {
        var sink = LineSink(emit: false)
        try run(text, &sink)
    }

    private static func run(_ text: String, _ sink: inout LineSink) throws(IngestionError) {
        let utf8 = Array(text.utf8)
        let result = utf8.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer, options: options)
            return Result { () throws(JSONParseError) in _ = try parser.parseDocument(into: &sink) }
        }
        if case .failure(let error) = result { throw .invalidContent("invalid JSON at byte \(error.offset): \(error.reason)") }
    }

    /// Writes one `path: value` line per scalar as the parser reports it.
    struct LineSink: JSONSink {
        let emit: Bool
        var out: [UInt8] = []
        /// The key path to the current value, as UTF-8 components.
        var path: [[UInt8]] = []
        /// The top-level member the last emitted line belonged to.
        var lastGroup: [UInt8]?

        init(emit: Bool) { self.emit = emit }

        func beginObject() {}
        mutating func beginMember(_ key: String) { path.append(key.isEmpty ? Array("(empty)".utf8) : Array(key.utf8)) }
        mutating func endMember(_ key: String, _ value: Void, in object: inout Void) { path.removeLast() }
        func object(_ object: Void) {}

        func beginArray() {}
        mutating func beginElement(_ index: Int) { path.append(Array(String(index).utf8)) }
        mutating func endElement(_ value: Void, in array: inout Void) { path.removeLast() }
        func array(_ array: Void) {}

        mutating func string(_ s: String) { if !s.isEmpty { leaf(s.utf8) } }
        mutating func number(_ text: UnsafeBufferPointer<UInt8>) -> Void? { leaf(text); return () }
        mutating func bool(_ b: Bool) { leaf((b ? "true" : "false").utf8) }
        func null() {}

        /// One `path: value` line (just the value for a scalar document).
        mutating func leaf(_ value: some Collection<UInt8>) {
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
