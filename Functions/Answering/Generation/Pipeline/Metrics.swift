#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// CloudWatch Embedded Metric Format lines (docs/ARCHITECTURE.md, section 8): one JSON object per line on stderr,
/// which CloudWatch turns into metrics on Lambda and the emulator can aggregate locally. Only
/// names, counts and timings: never query text or content.
package struct GenerationMetrics: Sendable {
    package static let namespace = "RagFunctions/Generation"
    let sink: @Sendable (String) -> Void
    let function: String

    /// - Parameter sink: receives each line (with its newline); stderr by default.
    package init(function: String = "generate", sink: @escaping @Sendable (String) -> Void = GenerationMetrics.standardError) {
        self.function = function
        self.sink = sink
    }

    package static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        // One write(2): lines from one process never interleave.
        bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// One request: `Requests`, `Duration`, tokens and cost by provider, model and status
    /// (`ok`, `cache_hit`, or the fallback that answered).
    func request(provider: String, model: String, status: String, durationMs: Double, tokensIn: Int, tokensOut: Int, cost: Double,
                 timestampMs: Int64 = Timestamps.nowMs()) {
        var w = JSONWriter(capacity: 512)
        w.raw("{\"_aws\":{\"Timestamp\":"); w.int(timestampMs)
        w.raw(",\"CloudWatchMetrics\":[{\"Namespace\":"); w.string(Self.namespace)
        w.raw(",\"Dimensions\":[[\"function\",\"provider\",\"model\",\"status\"]],\"Metrics\":[")
        w.raw("{\"Name\":\"Requests\",\"Unit\":\"Count\"},{\"Name\":\"Duration\",\"Unit\":\"Milliseconds\"},")
        w.raw("{\"Name\":\"TokensIn\",\"Unit\":\"Count\"},{\"Name\":\"TokensOut\",\"Unit\":\"Count\"},{\"Name\":\"CostUSD\",\"Unit\":\"None\"}]}]}")
        w.raw(",\"function\":"); w.string(function)
        w.raw(",\"provider\":"); w.string(provider)
        w.raw(",\"model\":"); w.string(model)
        w.raw(",\"status\":"); w.string(status)
        w.raw(",\"Requests\":1,\"Duration\":"); w.number(durationMs)
        w.raw(",\"TokensIn\":"); w.int(Int64(tokensIn))
        w.raw(",\"TokensOut\":"); w.int(Int64(tokensOut))
        w.raw(",\"CostUSD\":"); w.number(cost)
        w.raw("}\n")
        sink(String(decoding: w.bytes, as: UTF8.self))
    }

    /// One provider call (each retry counts): `ProviderCalls` and `ProviderLatency` by provider,
    /// model and outcome (`ok`, `rate_limited`, `timed_out`...).
    func attempt(_ a: AttemptRecord, timestampMs: Int64 = Timestamps.nowMs()) {
        var w = JSONWriter(capacity: 384)
        w.raw("{\"_aws\":{\"Timestamp\":"); w.int(timestampMs)
        w.raw(",\"CloudWatchMetrics\":[{\"Namespace\":"); w.string(Self.namespace)
        w.raw(",\"Dimensions\":[[\"function\",\"provider\",\"model\",\"outcome\"]],\"Metrics\":[")
        w.raw("{\"Name\":\"ProviderCalls\",\"Unit\":\"Count\"},{\"Name\":\"ProviderLatency\",\"Unit\":\"Milliseconds\"}]}]}")
        w.raw(",\"function\":"); w.string(function)
        w.raw(",\"provider\":"); w.string(a.provider)
        w.raw(",\"model\":"); w.string(a.model ?? "-")
        w.raw(",\"outcome\":"); w.string(a.outcome)
        w.raw(",\"ProviderCalls\":1,\"ProviderLatency\":"); w.number(a.durationMs)
        w.raw("}\n")
        sink(String(decoding: w.bytes, as: UTF8.self))
    }
}
