import EmbeddedMetrics
import JSON
import Synchronization

/// The metrics of one invocation: the runtime fills in what every function has (invocations,
/// duration, errors, cold start, and for HTTP functions the route and status class), the handler
/// adds its phases, and the runtime writes it as one EMF line when the invocation ends.
public final class InvocationMetrics: Sendable {
    private let record: Mutex<MetricRecord>

    init(function: String, requestId: String) {
        var r = MetricRecord(function: function)
        r.property("requestId", .string(requestId))
        record = Mutex(r)
    }

    /// A dimension: a bounded label (route, provider, model, outcome), never a tenant or text.
    public func dimension(_ name: String, _ value: String) { record.withLock { $0.dimension(name, value) } }

    /// A value for this invocation (replaces an earlier one of the same name).
    public func set(_ name: String, _ value: Double, unit: MetricRecord.Unit = .count) { record.withLock { $0.metric(name, value, unit: unit) } }

    /// Adds to a value for this invocation (starts at 0).
    public func add(_ name: String, _ value: Double = 1, unit: MetricRecord.Unit = .count) { record.withLock { $0.add(name, value, unit: unit) } }

    /// A time in milliseconds.
    public func milliseconds(_ name: String, _ value: Double) { set(name, value, unit: .milliseconds) }

    /// A fact kept in the line but not a metric (an org id, a status code, a model name).
    public func property(_ name: String, _ value: String) { record.withLock { $0.property(name, .string(value)) } }
    public func property(_ name: String, _ value: Double) { record.withLock { $0.property(name, .number(value)) } }

    var snapshot: MetricRecord { record.withLock { $0 } }
}
