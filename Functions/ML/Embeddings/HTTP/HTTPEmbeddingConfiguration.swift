#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Resilience

/// Everything `OpenAICompatibleEmbedder` needs, checked once at startup so that a wrong value
/// fails the deployment's first request with a message saying what to fix, instead of storing
/// vectors of the wrong size.
///
/// The properties are `let`: changing one after the checks would skip them.
package struct HTTPEmbeddingConfiguration: Sendable, CustomStringConvertible {
    /// The provider's root (`https://api.openai.com`, `http://tei:8080`), with or without `/v1`.
    package let baseURL: String
    /// Sent as `Authorization: Bearer ...`; nil (or blank) sends no header (a local TEI/Ollama).
    package let apiKey: String?
    /// What the model produces: vector size, input limit, prefixes and tasks.
    package let spec: EmbeddingModelSpec
    /// The `model` sent, as the user wrote it: providers know models by their own names
    /// (`text-embedding-3-small`, `nomic-embed-text:latest`), which may differ from `spec.id`.
    package let requestModel: String
    /// A Matryoshka size smaller than the native one, or nil for the native size.
    package let dimensions: Int?
    /// Texts per request. Providers cap it (OpenAI 2048, TEI 32 by default, Jina 2048), and one
    /// failed request should not take a whole document's worth of chunks with it.
    package let maxBatchSize: Int
    /// For one request (one batch, one attempt).
    package let timeout: Duration
    /// For a whole `embed` call, batches and retries included; nil for no limit. Lambda and API
    /// Gateway cut a request off whatever we do, so better to stop retrying while there is still
    /// time to answer with a useful error.
    package let totalTimeout: Duration?
    package let retry: RetryPolicy
    /// Pass the same breaker to every embedder of one provider so they open and close together.
    package let breaker: CircuitBreaker

    /// - Throws: `.configuration` for a size the model cannot produce (the message lists those it
    ///   can), a URL that is not http(s), a key with a line break, a batch size or timeout below 1.
    package init(baseURL: String, apiKey: String? = nil, spec: EmbeddingModelSpec, requestModel: String? = nil,
                dimensions: Int? = nil, maxBatchSize: Int = 64, timeout: Duration = .seconds(30),
                totalTimeout: Duration? = nil, retry: RetryPolicy = RetryPolicy(),
                breaker: CircuitBreaker = CircuitBreaker()) throws(EmbeddingError) {
        let url = baseURL.trimmingWhitespace
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"),
              url.split(separator: "/", omittingEmptySubsequences: true).count >= 2 else {
            throw .configuration("the embedding base URL must start with http:// or https://, got \"\(Self.display(url))\"")
        }
        let key = apiKey?.trimmingWhitespace
        if let key, key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            // Never echo the key: it would end up in logs.
            throw .configuration("the embedding API key contains a line break or control character; check the secret's value")
        }
        if let dimensions, !spec.allowedDimensions.contains(dimensions) {
            let allowed = spec.allowedDimensions.map(String.init).joined(separator: ", ")
            throw .configuration(
                "\(spec.id) cannot produce \(dimensions)-dimensional vectors; allowed: \(allowed) (\(spec.dimension) is native)")
        }
        guard maxBatchSize >= 1 else { throw .configuration("the embedding batch size must be at least 1, got \(maxBatchSize)") }
        guard timeout > .zero else { throw .configuration("the embedding request timeout must be positive") }
        if let totalTimeout, totalTimeout <= .zero { throw .configuration("the embedding total timeout must be positive") }
        let model = requestModel?.trimmingWhitespace ?? ""
        self.baseURL = url
        self.apiKey = (key?.isEmpty ?? true) ? nil : key
        self.spec = spec
        self.requestModel = model.isEmpty ? spec.id : model
        self.dimensions = dimensions
        self.maxBatchSize = maxBatchSize
        self.timeout = timeout
        self.totalTimeout = totalTimeout
        self.retry = retry
        self.breaker = breaker
    }

    /// The size of the vectors returned.
    package var dimension: Int { dimensions ?? spec.dimension }

    /// Whether to send `dimensions`: only for a size other than the native one, since some
    /// servers (older TEI, Ollama) reject the field even when it asks for the default.
    package var requestedDimensions: Int? { dimensions.flatMap { $0 == spec.dimension ? nil : $0 } }

    /// The id stored with the vectors: a truncated size gets its own (`model@256`), because
    /// vectors of different sizes must never be compared or share an index.
    package var modelId: String { requestedDimensions.map { "\(spec.id)@\($0)" } ?? spec.id }

    /// `POST` target: `{base}/v1/embeddings`, without doubling a `/v1` (or a whole
    /// `/v1/embeddings`) the user already wrote.
    /// A query (`?api-version=...`) stays at the end.
    package var endpoint: String {
        var base = Substring(baseURL)
        var query = ""
        if let q = base.firstIndex(of: "?") {
            query = String(base[q...])
            base = base[..<q]
        }
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/embeddings") { return base + query }
        if base.hasSuffix("/v1") { return base + "/embeddings" + query }
        return base + "/v1/embeddings" + query
    }

    /// No key, ever: configurations get logged.
    package var description: String {
        "HTTPEmbeddingConfiguration(endpoint: \(Self.display(endpoint)), model: \(requestModel), id: \(modelId), "
            + "dimension: \(dimension), apiKey: \(apiKey == nil ? "none" : "set"), batch: \(maxBatchSize), "
            + "timeout: \(timeout))"
    }

    /// A URL fit for messages and logs: without user info (`https://user:secret@host`) or query
    /// (`?key=...`), where secrets hide.
    static func display(_ url: String) -> String {
        var s = Substring(url)
        if let q = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<q] }
        guard let scheme = s.range(of: "://") else { return String(s) }
        let rest = s[scheme.upperBound...]
        let hostEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<hostEnd].lastIndex(of: "@") {
            return String(s[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
        }
        return String(s)
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
