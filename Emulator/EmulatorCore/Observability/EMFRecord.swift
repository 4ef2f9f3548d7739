import JSON

/// A CloudWatch Embedded Metric Format record read back from a function's log line: the same
/// validation CloudWatch applies (a `_aws` object with `Timestamp` and one or more
/// `CloudWatchMetrics` directives naming members of the record), so a line the emulator
/// accepts is one CloudWatch would turn into metrics.
package struct EMFRecord: Sendable, Equatable {
    package struct Metric: Sendable, Equatable {
        package var name: String
        package var unit: String
        package var value: Double
    }

    package var namespace: String
    package var timestampMs: Int64
    /// The widest dimension set's names and values, in the record's order.
    package var dimensions: [(name: String, value: String)]
    package var metrics: [Metric]
    /// The record's members but `_aws`, in order (properties are read from here by name).
    package var members: [(name: String, value: JSONValue)]

    /// Every member that is neither a metric nor a dimension (request id, org, status...). Built
    /// on demand: the emulator reads the few it needs with `property(_:)`.
    package var properties: JSONObject {
        var p = JSONObject()
        for m in members where property(m.name) != nil { p[m.name] = m.value }
        return p
    }

    package func property(_ name: String) -> JSONValue? {
        guard !dimensions.contains(where: { $0.name == name }), !metrics.contains(where: { $0.name == name }) else { return nil }
        return members.first { $0.name == name }?.value
    }

    package static func == (a: EMFRecord, b: EMFRecord) -> Bool {
        a.namespace == b.namespace && a.timestampMs == b.timestampMs && a.metrics == b.metrics
            && a.dimensions.map(\.name) == b.dimensions.map(\.name) && a.dimensions.map(\.value) == b.dimensions.map(\.value)
            && a.properties == b.properties
    }

    package enum ParseError: Error, Equatable, CustomStringConvertible {
        case notJSON
        case notEMF(String)

        package var description: String {
            switch self {
            case .notJSON: "not a JSON object"
            case .notEMF(let why): "not an EMF record: \(why)"
            }
        }
    }

    /// Cheap test before parsing: EMF lines are JSON objects whose first member is `_aws`
    /// (what every writer in this bundle produces); any other line is a log line.
    package static func looksLikeEMF(_ line: String) -> Bool {
        line.utf8.starts(with: #"{"_aws":"#.utf8)
    }

    package static func parse(_ line: String) throws(ParseError) -> EMFRecord {
        // A flat reading (arrays of members, no dictionaries): one record per invocation passes
        // through here, and the tree parse's hash tables were most of the emulator's cost per
        // request in the one-core benchmark (infra/bench/interleave.sh).
        var text = line
        let parsed: FlatJSON? = text.withUTF8 { buffer in
            var sink = FlatSink()
            var parser = JSONParser(buffer, options: JSONParseOptions(maxDepth: 16))
            return try? parser.parseDocument(into: &sink)
        }
        guard case .object(let o)? = parsed else { throw .notJSON }
        func member(_ name: String, in object: [(String, FlatJSON)]) -> FlatJSON? { object.first { $0.0 == name }?.1 }
        guard case .object(let aws)? = member("_aws", in: o) else { throw .notEMF("no `_aws` object") }
        guard case .number(let ts)? = member("Timestamp", in: aws), ts >= 0 else { throw .notEMF("`_aws.Timestamp` is not a number of milliseconds") }
        guard case .array(let directives)? = member("CloudWatchMetrics", in: aws), !directives.isEmpty else {
            throw .notEMF("`_aws.CloudWatchMetrics` is not a non-empty array")
        }
        var namespace = ""
        var metrics: [Metric] = []
        var widest: [String] = []
        for d in directives {
            guard case .object(let directive) = d, case .string(let ns)? = member("Namespace", in: directive), !ns.isEmpty else {
                throw .notEMF("a directive without a `Namespace`")
            }
            namespace = ns
            guard case .array(let sets)? = member("Dimensions", in: directive) else { throw .notEMF("a directive without `Dimensions`") }
            for set in sets {
                guard case .array(let names) = set else { throw .notEMF("a dimension set that is not an array") }
                let strings = names.compactMap { v -> String? in if case .string(let s) = v { s } else { nil } }
                guard strings.count == names.count, strings.count <= 30 else { throw .notEMF("a dimension set of non-strings or over 30 names") }
                for n in strings {
                    guard case .string? = member(n, in: o) else { throw .notEMF("dimension `\(n)` is not a string member of the record") }
                }
                if strings.count > widest.count { widest = strings }
            }
            guard case .array(let defs)? = member("Metrics", in: directive), defs.count <= 100 else {
                throw .notEMF("a directive without `Metrics` (at most 100)")
            }
            for def in defs {
                guard case .object(let m) = def, case .string(let name)? = member("Name", in: m) else { throw .notEMF("a metric without `Name`") }
                guard case .number(let v)? = member(name, in: o) else { throw .notEMF("metric `\(name)` is not a number member of the record") }
                var unit = "None"
                if case .string(let u)? = member("Unit", in: m) { unit = u }
                metrics.append(Metric(name: name, unit: unit, value: v))
            }
        }
        let dimensions = widest.map { n -> (name: String, value: String) in
            if case .string(let v)? = member(n, in: o) { return (n, v) }
            return (n, "")
        }
        return EMFRecord(namespace: namespace, timestampMs: Int64(ts), dimensions: dimensions, metrics: metrics,
                         members: o.filter { $0.0 != "_aws" }.map { ($0.0, $0.1.value) })
    }

    package func dimension(_ name: String) -> String? { dimensions.first { $0.name == name }?.value }
    package func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}

/// JSON as arrays only: what `EMFRecord.parse` reads a line into.
indirect enum FlatJSON {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([FlatJSON])
    case object([(String, FlatJSON)])

    var value: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .number(let n): .number(n)
        case .bool(let b): .bool(b)
        case .null: .null
        case .array(let a): .array(a.map(\.value))
        case .object(let o):
            .object({ var d = JSONObject(); for (k, v) in o where d[k] == nil { d[k] = v.value }; return d }())
        }
    }
}

struct FlatSink: JSONSink {
    func beginObject() -> [(String, FlatJSON)] { [] }
    func endMember(_ key: String, _ value: FlatJSON, in object: inout [(String, FlatJSON)]) { object.append((key, value)) }
    func object(_ object: [(String, FlatJSON)]) -> FlatJSON { .object(object) }
    func beginArray() -> [FlatJSON] { [] }
    func endElement(_ value: FlatJSON, in array: inout [FlatJSON]) { array.append(value) }
    func array(_ array: [FlatJSON]) -> FlatJSON { .array(array) }
    func string(_ s: String) -> FlatJSON { .string(s) }
    func bool(_ b: Bool) -> FlatJSON { .bool(b) }
    func null() -> FlatJSON { .null }
    func number(_ t: UnsafeBufferPointer<UInt8>) -> FlatJSON? { JSONTreeSink.double(t).map(FlatJSON.number) }
}
