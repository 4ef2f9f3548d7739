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
    /// Every other member (request id, org, status...).
    package var properties: JSONObject

    package static func == (a: EMFRecord, b: EMFRecord) -> Bool {
        a.namespace == b.namespace && a.timestampMs == b.timestampMs && a.metrics == b.metrics && a.properties == b.properties
            && a.dimensions.map(\.name) == b.dimensions.map(\.name) && a.dimensions.map(\.value) == b.dimensions.map(\.value)
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
        guard let value = try? JSONValue.parse(Array(line.utf8)), case .object(let o) = value else { throw .notJSON }
        guard case .object(let aws)? = o["_aws"] else { throw .notEMF("no `_aws` object") }
        guard let ts = aws["Timestamp"]?.doubleValue, ts >= 0 else { throw .notEMF("`_aws.Timestamp` is not a number of milliseconds") }
        guard case .array(let directives)? = aws["CloudWatchMetrics"], !directives.isEmpty else {
            throw .notEMF("`_aws.CloudWatchMetrics` is not a non-empty array")
        }
        var namespace = ""
        var metrics: [Metric] = []
        var widest: [String] = []
        for case let d in directives {
            guard case .object(let directive) = d, let ns = directive["Namespace"]?.stringValue, !ns.isEmpty else {
                throw .notEMF("a directive without a `Namespace`")
            }
            namespace = ns
            guard case .array(let sets)? = directive["Dimensions"] else { throw .notEMF("a directive without `Dimensions`") }
            for set in sets {
                guard case .array(let names) = set else { throw .notEMF("a dimension set that is not an array") }
                let strings = names.compactMap(\.stringValue)
                guard strings.count == names.count, strings.count <= 30 else { throw .notEMF("a dimension set of non-strings or over 30 names") }
                for n in strings where o[n]?.stringValue == nil { throw .notEMF("dimension `\(n)` is not a string member of the record") }
                if strings.count > widest.count { widest = strings }
            }
            guard case .array(let defs)? = directive["Metrics"], defs.count <= 100 else { throw .notEMF("a directive without `Metrics` (at most 100)") }
            for def in defs {
                guard let name = def["Name"]?.stringValue else { throw .notEMF("a metric without `Name`") }
                guard let v = o[name]?.doubleValue else { throw .notEMF("metric `\(name)` is not a number member of the record") }
                metrics.append(Metric(name: name, unit: def["Unit"]?.stringValue ?? "None", value: v))
            }
        }
        var properties = o
        properties["_aws"] = nil
        for m in metrics { properties[m.name] = nil }
        for n in widest { properties[n] = nil }
        return EMFRecord(namespace: namespace, timestampMs: Int64(ts), dimensions: widest.map { ($0, o[$0]!.stringValue!) },
                         metrics: metrics, properties: properties)
    }

    package func dimension(_ name: String) -> String? { dimensions.first { $0.name == name }?.value }
    package func metric(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}
