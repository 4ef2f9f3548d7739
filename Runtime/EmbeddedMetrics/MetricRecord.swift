import JSON

/// One record in CloudWatch's Embedded Metric Format (EMF): a JSON object on one log line whose
/// `_aws` member tells CloudWatch which members are metrics and which are dimensions. Lambda
/// turns such lines from a function's output into metrics with no agent and no API call; the
/// emulator reads the same lines for `/metrics` and its dashboard (docs/ARCHITECTURE.md,
/// "Observability").
///
/// Cardinality is bounded by construction: dimensions are names the code chooses (function,
/// route, provider, outcome...), never tenant ids or request text. Each distinct dimension
/// value is a separate CloudWatch metric (billed per metric-month), so an org id as a dimension
/// would multiply the bill by the number of orgs; orgs are a *property*, searchable in Logs
/// Insights, not a dimension.
public struct MetricRecord: Sendable {
    /// CloudWatch's units; the emulator turns time units into Prometheus histograms in seconds.
    public enum Unit: String, Sendable {
        case count = "Count", milliseconds = "Milliseconds", seconds = "Seconds", bytes = "Bytes", percent = "Percent", none = "None"
    }

    public static let defaultNamespace = "RagFunctions"

    public var namespace: String
    /// Ordered: the first is always `function`.
    public private(set) var dimensions: [(name: String, value: String)]
    public private(set) var metrics: [(name: String, unit: Unit, value: Double)] = []
    public private(set) var properties: [(name: String, value: JSONValue)] = []

    public init(function: String, namespace: String = MetricRecord.defaultNamespace) {
        self.namespace = namespace
        dimensions = [("function", function)]
    }

    /// Sets (or replaces) a dimension. Values are cut to 64 characters: a dimension is a label,
    /// not a place for text.
    public mutating func dimension(_ name: String, _ value: String) {
        let v = String(value.prefix(64))
        if let i = dimensions.firstIndex(where: { $0.name == name }) { dimensions[i].value = v } else { dimensions.append((name, v)) }
    }

    /// Sets (or replaces) a metric value.
    public mutating func metric(_ name: String, _ value: Double, unit: Unit = .count) {
        guard value.isFinite else { return }
        if let i = metrics.firstIndex(where: { $0.name == name }) { metrics[i] = (name, unit, value) } else { metrics.append((name, unit, value)) }
    }

    /// Adds to a metric (a count over an invocation).
    public mutating func add(_ name: String, _ value: Double, unit: Unit = .count) {
        guard value.isFinite else { return }
        if let i = metrics.firstIndex(where: { $0.name == name }) { metrics[i].value += value } else { metrics.append((name, unit, value)) }
    }

    /// A fact that is neither metric nor dimension (request id, org, status code): kept in the
    /// log line for queries, not turned into a metric.
    public mutating func property(_ name: String, _ value: JSONValue) {
        if let i = properties.firstIndex(where: { $0.name == name }) { properties[i].value = value } else { properties.append((name, value)) }
    }

    public var isEmpty: Bool { metrics.isEmpty }

    /// The line (with its newline). Two dimension sets: `function` alone (the totals a graph
    /// starts from) and every dimension (the breakdown); one when they are the same.
    public func line(timestampMs: Int64) -> String {
        String(decoding: bytes(timestampMs: timestampMs), as: UTF8.self)
    }

    /// The line as bytes, written straight to the log without a String in between (this runs
    /// once per invocation of every function).
    public func bytes(timestampMs: Int64) -> [UInt8] {
        var w = JSONWriter(capacity: 320 + 48 * (metrics.count + properties.count))
        w.raw("{\"_aws\":{\"Timestamp\":"); w.int(timestampMs)
        w.raw(",\"CloudWatchMetrics\":[{\"Namespace\":"); w.string(namespace)
        w.raw(",\"Dimensions\":[[\"function\"]")
        if dimensions.count > 1 {
            w.raw(",[")
            for (i, d) in dimensions.enumerated() {
                if i > 0 { w.raw(",") }
                w.string(d.name)
            }
            w.raw("]")
        }
        w.raw("],\"Metrics\":[")
        for (i, m) in metrics.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"Name\":"); w.string(m.name)
            w.raw(",\"Unit\":"); w.string(m.unit.rawValue)
            w.raw("}")
        }
        w.raw("]}]}")
        for d in dimensions {
            w.raw(","); w.string(d.name); w.raw(":"); w.string(d.value)
        }
        for m in metrics {
            w.raw(","); w.string(m.name); w.raw(":"); w.number(m.value)
        }
        // A property may not shadow a dimension or a metric (CloudWatch would read the wrong
        // member); the lists are a handful long, so a scan beats hashing.
        for p in properties where !dimensions.contains(where: { $0.name == p.name }) && !metrics.contains(where: { $0.name == p.name }) {
            w.raw(","); w.string(p.name); w.raw(":"); w.value(p.value)
        }
        w.raw("}\n")
        return w.bytes
    }
}
