import Foundation
import Resilience
import Testing
@testable import Embeddings

let tiny = EmbeddingModelSpec(id: "test/tiny", dimension: 8, maxInputTokens: 512)
let e5 = EmbeddingModelRegistry.spec(for: "intfloat/multilingual-e5-small")!
let jina = EmbeddingModelRegistry.spec(for: "jina-embeddings-v3")!
/// Small waits so the suite runs in seconds.
let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100), maxRetryAfter: .seconds(5))

func embedder(_ base: String, spec: EmbeddingModelSpec = tiny, key: String? = nil, model: String? = nil,
              dimensions: Int? = nil, batch: Int = 64, timeout: Duration = .seconds(10), totalTimeout: Duration? = nil,
              retry: RetryPolicy = fastRetry, breaker: CircuitBreaker = CircuitBreaker()) throws -> OpenAICompatibleEmbedder {
    try OpenAICompatibleEmbedder(configuration: HTTPEmbeddingConfiguration(
        baseURL: base, apiKey: key, spec: spec, requestModel: model, dimensions: dimensions, maxBatchSize: batch,
        timeout: timeout, totalTimeout: totalTimeout, retry: retry, breaker: breaker))
}

/// The error `embed` throws, or nil (recording an issue) when it succeeds.
func embedError(_ e: OpenAICompatibleEmbedder, _ texts: [String] = ["hello"], role: EmbeddingRole = .passage,
                sourceLocation: SourceLocation = #_sourceLocation) async -> EmbeddingError? {
    do {
        _ = try await e.embed(texts, role: role)
        Issue.record("embed succeeded", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

func norm(_ v: [Float]) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

/// The tests that talk to a fake server, in parallel: `HTTPClient` blocks in libcurl on threads of
/// its own, so waiting requests never starve the in-process servers that answer them.
@Suite enum AgainstAFakeServer {}

func approximatelyEqual(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}
