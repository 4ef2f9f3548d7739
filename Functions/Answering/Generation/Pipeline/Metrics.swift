import EmbeddedMetrics
import JSON

/// The generation records (docs/ARCHITECTURE.md, section 6a), besides the runtime's one per
/// invocation: one per answered request and one per provider call, as CloudWatch Embedded Metric
/// Format lines on stderr. Only names, counts and timings: never query text or content.
package struct GenerationMetrics: Sendable {
    let sink: MetricOutput.Sink
    let function: String

    /// - Parameter sink: receives each line (with its newline); stderr by default.
    package init(function: String = "generate", sink: @escaping MetricOutput.Sink = MetricOutput.standardError) {
        self.function = function
        self.sink = sink
    }

    /// One request: `Requests`, `GenerationTime`, `Attempts`, tokens, cost and whether the cache or a
    /// fallback answered, by provider, model and status (`ok`, `cache_hit`, or the fallback).
    func request(provider: String, model: String, status: String, durationMs: Double, tokensIn: Int, tokensOut: Int, cost: Double,
                 attempts: Int = 0, cacheHit: Bool = false, fallback: Bool = false, timestampMs: Int64 = Timestamps.nowMs()) {
        var r = MetricRecord(function: function)
        r.dimension("provider", provider)
        r.dimension("model", model)
        r.dimension("status", status)
        r.metric("Requests", 1)
        r.metric("GenerationTime", durationMs, unit: .milliseconds)
        r.metric("TokensIn", Double(tokensIn))
        r.metric("TokensOut", Double(tokensOut))
        r.metric("CostUSD", cost, unit: .none)
        r.metric("ProviderAttempts", Double(attempts))
        r.metric("CacheHits", cacheHit ? 1 : 0)
        r.metric("Fallbacks", fallback ? 1 : 0)
        sink(r.line(timestampMs: timestampMs))
    }

    /// One provider call (each retry counts): `ProviderCalls`, `ProviderFailures` and
    /// `ProviderLatency` by provider, model and outcome (`ok`, `rate_limited`, `timed_out`...).
    func attempt(_ a: AttemptRecord, timestampMs: Int64 = Timestamps.nowMs()) {
        var r = MetricRecord(function: function)
        r.dimension("provider", a.provider)
        r.dimension("model", a.model ?? "-")
        r.dimension("outcome", a.outcome)
        r.metric("ProviderCalls", 1)
        r.metric("ProviderFailures", a.outcome == "ok" ? 0 : 1)
        r.metric("ProviderLatency", a.durationMs, unit: .milliseconds)
        r.property("kind", .string("generation"))
        sink(r.line(timestampMs: timestampMs))
    }
}
