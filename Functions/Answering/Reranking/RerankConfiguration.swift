#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Resilience

/// The reranker, from the environment:
///
/// | Variable | Meaning |
/// |---|---|
/// | `RERANK_PROVIDER` | `cohere`, `jina`, `tei` or `voyage`; unset: no reranker |
/// | `RERANK_BASE_URL` | the server (defaults for cohere, jina, voyage; required for tei) |
/// | `RERANK_MODEL` | the model name (required but for tei), e.g. `rerank-v3.5`, `jina-reranker-v2-base-multilingual` |
/// | `RERANK_API_KEY` | bearer key |
/// | `RERANK_CANDIDATES` | how many fused results are reranked (default 50, at most 200) |
/// | `RERANK_TIMEOUT_MS` | per attempt (default 5000) |
package struct RerankConfiguration: Sendable {
    package var format: RerankFormat
    package var baseURL: String
    package var model: String?
    package var apiKey: String?
    package var candidates: Int
    package var timeout: Duration
    package var retry: RetryPolicy
    package let breaker: CircuitBreaker

    package init(format: RerankFormat, baseURL: String, model: String?, apiKey: String?, candidates: Int = 50,
                 timeout: Duration = .seconds(5), retry: RetryPolicy = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500)),
                 breaker: CircuitBreaker = CircuitBreaker(failureThreshold: 5, openDuration: .seconds(30))) {
        self.format = format
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.candidates = candidates
        self.timeout = timeout
        self.retry = retry
        self.breaker = breaker
    }

    package static let maxCandidates = 200

    /// Nil when `RERANK_PROVIDER` is unset.
    package static func fromEnvironment(_ env: [String: String]) throws(RerankError) -> RerankConfiguration? {
        func value(_ n: String) -> String? { env[n].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 } }
        guard let name = value("RERANK_PROVIDER") else { return nil }
        guard let format = RerankFormat(rawValue: name.lowercased()) else {
            throw .configuration("RERANK_PROVIDER=\(name) is not one of " + RerankFormat.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let base = value("RERANK_BASE_URL") ?? format.defaultBaseURL else {
            throw .configuration("RERANK_PROVIDER=\(name) needs RERANK_BASE_URL (e.g. http://127.0.0.1:8080)")
        }
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw .configuration("RERANK_BASE_URL=\(base) is not an http(s) URL")
        }
        let model = value("RERANK_MODEL")
        if format.needsModel, model == nil { throw .configuration("RERANK_PROVIDER=\(name) needs RERANK_MODEL") }
        func int(_ n: String, _ range: ClosedRange<Int>, _ fallback: Int) throws(RerankError) -> Int {
            guard let raw = value(n) else { return fallback }
            guard let v = Int(raw), range.contains(v) else { throw .configuration("\(n)=\(raw) must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
            return v
        }
        return RerankConfiguration(format: format, baseURL: base, model: model, apiKey: value("RERANK_API_KEY"),
                                   candidates: try int("RERANK_CANDIDATES", 1...maxCandidates, 50),
                                   timeout: .milliseconds(try int("RERANK_TIMEOUT_MS", 1...120_000, 5000)))
    }
}
