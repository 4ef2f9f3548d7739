/// One step of the chain as `response_metadata.attempts[]` shows it: a provider call (each
/// retry its own entry), a provider skipped and why, a cache hit, or a fallback.
package struct AttemptRecord: Encodable, Sendable, Equatable {
    /// The provider's configured name, or `cache`, `extractive`, `search_only`, `no_context`.
    package var provider: String
    package var model: String?
    /// `ok`, a `ProviderFailure.Kind` (`rate_limited`, `timed_out`...), or why it was skipped:
    /// `disabled`, `cooldown`, `circuit_open`, `out_of_time`, `pii_blocked` (PII_POLICY=local and
    /// an external provider); `hit` for the cache; `used` or
    /// `no_match` for the fallbacks.
    package var outcome: String
    package var httpStatus: Int?
    package var durationMs: Double
    /// The wait the provider asked for (`Retry-After`), when it did.
    package var retryAfterMs: Int?
    /// Context chunks in the prompt (fewer after a context-length error).
    package var chunks: Int?
    package var detail: String?

    package init(provider: String, model: String? = nil, outcome: String, httpStatus: Int? = nil, durationMs: Double = 0,
                retryAfterMs: Int? = nil, chunks: Int? = nil, detail: String? = nil) {
        self.provider = provider
        self.model = model
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.durationMs = durationMs
        self.retryAfterMs = retryAfterMs
        self.chunks = chunks
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case provider, model, outcome, httpStatus = "http_status", durationMs = "duration_ms", retryAfterMs = "retry_after_ms"
        case chunks, detail
    }
}
