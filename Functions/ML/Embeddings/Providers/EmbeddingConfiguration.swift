import Foundation
import PrivacyGuard

/// Which embedding provider and model to use, read from the environment:
///
/// | Variable | Meaning |
/// |---|---|
/// | `EMBEDDING_PROVIDER` | `native` (default: multilingual-e5-small or all-MiniLM-L6-v2 in process), or an OpenAI-compatible server: `openai`, `jina`, `ollama`, `tei`, `vllm`, `http` |
/// | `EMBEDDING_MODEL` | the model id (default `intfloat/multilingual-e5-small`); required for HTTP providers |
/// | `EMBEDDING_DIMENSIONS` | vector size; for a known model, its own or one of its Matryoshka sizes; required for a model the registry does not know |
/// | `EMBEDDING_BASE_URL` | the server (defaults for openai, jina, ollama) |
/// | `EMBEDDING_API_KEY` | bearer key (else `OPENAI_API_KEY` / `JINA_API_KEY` for those providers) |
/// | `EMBEDDING_MAX_TOKENS`, `EMBEDDING_QUERY_PREFIX`, `EMBEDDING_PASSAGE_PREFIX` | conventions of a model the registry does not know |
/// | `EMBEDDING_BATCH_SIZE`, `EMBEDDING_TIMEOUT_MS`, `EMBEDDING_THREADS` | tuning |
/// | `EMBEDDING_WEIGHTS` | the native model's weights: `half` (default; float32 arithmetic) or `float32` |
/// | `EMBEDDING_MODEL_DIR` | the native model's folder (default `.models/multilingual-e5-small` or `.models/all-MiniLM-L6-v2`) |
/// | `QUERY_CACHE_SIZE`, `QUERY_CACHE_TTL_SECONDS` | the query-vector cache (0 turns it off) |
/// | `QUERY_CACHE_SHARED` | its second level, shared by every process: `auto` (default: Redis when `REDIS_URL` is set, else the store), `store`, `redis`, `off` |
/// | `QUERY_CACHE_SHARED_TTL_LOCAL_SECONDS`, `QUERY_CACHE_SHARED_TTL_API_SECONDS` | how long shared entries live, by provider kind (seed 004: 24 hours for a local model, 7 days for an API) |
/// | `REDIS_URL` | `redis://[:password@]host[:port][/db]` |
/// | `PII_POLICY` | personal data on its way to an external provider: `local` (default: refused), `redact` (masked), `allow` |
/// | `EMBEDDING_PROVIDER_LOCATION` | `private` or `external`: overrides what the base URL's address says |
///
/// Every inconsistency is an error naming the variable and the fix; nothing falls back to
/// another model on its own, because vectors from two models must never be mixed.
package struct EmbeddingConfiguration: Sendable, Equatable {
    package enum ProviderKind: String, Sendable, Equatable, CaseIterable {
        case native, openai, jina, ollama, tei, vllm, http

        /// Where the well-known hosted or local servers listen when no base URL is given.
        package var defaultBaseURL: String? {
            switch self {
            case .openai: "https://api.openai.com"
            case .jina: "https://api.jina.ai"
            case .ollama: "http://127.0.0.1:11434"
            default: nil
            }
        }
    }

    package var provider: ProviderKind
    package var spec: EmbeddingModelSpec
    /// The model name as configured (sent to HTTP servers as `model`).
    package var requestModel: String
    /// A requested size other than the model's own (Matryoshka), else nil.
    package var dimensions: Int?
    package var baseURL: String?
    package var apiKey: String?
    package var modelDirectory: String
    package var threads: Int?
    /// The native model's weight precision (`EMBEDDING_WEIGHTS`: `half`, the default, or `float32`).
    package var weightPrecision: WeightPrecision = .half
    package var batchSize: Int
    package var timeout: Duration
    package var queryCacheSize: Int
    package var queryCacheTTL: Duration
    /// Where the query-vector cache's second level lives.
    package var sharedCache: SharedCacheChoice = .auto
    package var sharedCacheTTLLocal: Duration = .seconds(86_400)
    package var sharedCacheTTLAPI: Duration = .seconds(604_800)
    package var redisURL: String?
    package var piiPolicy: PIIPolicy = .local
    /// Where an HTTP provider runs (from its URL, or `EMBEDDING_PROVIDER_LOCATION`).
    package var providerLocation: ProviderLocation = .inProcess

    package enum SharedCacheChoice: String, Sendable, Equatable, CaseIterable {
        case auto, store, redis, off
    }

    /// The dimension the provider must produce.
    package var dimension: Int { dimensions ?? spec.dimension }

    /// The id stored with every vector: the model's, with the size appended when it is not the
    /// model's own, so vectors of two sizes never share an id.
    package var modelId: String { dimensions.map { "\(spec.id)@\($0)" } ?? spec.id }

    package static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(EmbeddingError) -> EmbeddingConfiguration {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        /// Prefixes keep their trailing space ("query: "): only an empty value counts as unset.
        func prefix(_ name: String) -> String? {
            guard let v = env[name], !v.isEmpty else { return nil }
            return v
        }
        func integer(_ name: String, min: Int) throws(EmbeddingError) -> Int? {
            guard let raw = value(name) else { return nil }
            guard let n = Int(raw), n >= min else { throw .configuration("\(name)=\(raw) must be a whole number of at least \(min)") }
            return n
        }

        // Read by the C kernels themselves (they cap their level with it); an unknown value
        // would silently cap nothing, so it is refused here, where the error has a voice.
        if let kernels = env["VECTOR_KERNELS"], !["scalar", "avx2", "avx512"].contains(kernels) {
            throw .configuration("VECTOR_KERNELS=\(kernels) is not a kernel level; use scalar, avx2 or avx512 (or leave it unset for the best the CPU has)")
        }
        let providerName = value("EMBEDDING_PROVIDER")?.lowercased() ?? "native"
        let aliases: [String: ProviderKind] = ["local": .native, "minilm": .native, "openai-compatible": .http]
        guard let provider = ProviderKind(rawValue: providerName) ?? aliases[providerName] else {
            throw .configuration("EMBEDDING_PROVIDER=\(providerName) is not a provider; use one of "
                                 + ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let requestedDimensions = try integer("EMBEDDING_DIMENSIONS", min: 1)

        let modelName: String
        var spec: EmbeddingModelSpec
        if provider == .native {
            modelName = value("EMBEDDING_MODEL") ?? EmbeddingModelRegistry.defaultNative.id
            guard let native = EmbeddingModelRegistry.spec(for: modelName), EmbeddingModelRegistry.native.contains(native) else {
                throw .configuration("EMBEDDING_MODEL=\(modelName): the native provider runs only "
                                     + EmbeddingModelRegistry.native.map(\.id).joined(separator: " and ") + ". "
                                     + "To use \(modelName), set EMBEDDING_PROVIDER to an OpenAI-compatible server "
                                     + "(openai, jina, ollama, tei, vllm or http) and EMBEDDING_BASE_URL.")
            }
            spec = native
        } else {
            guard let name = value("EMBEDDING_MODEL") else {
                throw .configuration("EMBEDDING_PROVIDER=\(provider.rawValue) needs EMBEDDING_MODEL (the model name the server expects, e.g. text-embedding-3-small)")
            }
            modelName = name
            if let known = EmbeddingModelRegistry.spec(for: name) {
                spec = known
                if let p = prefix("EMBEDDING_QUERY_PREFIX") { spec.queryPrefix = p }
                if let p = prefix("EMBEDDING_PASSAGE_PREFIX") { spec.passagePrefix = p }
            } else {
                guard let d = requestedDimensions else {
                    throw .configuration("EMBEDDING_MODEL=\(name) is not in the model registry, so its vector size is unknown: "
                                         + "set EMBEDDING_DIMENSIONS to the size the server returns (and EMBEDDING_MAX_TOKENS, "
                                         + "EMBEDDING_QUERY_PREFIX, EMBEDDING_PASSAGE_PREFIX if the model uses them)")
                }
                spec = EmbeddingModelSpec(id: name, dimension: d, maxInputTokens: try integer("EMBEDDING_MAX_TOKENS", min: 1) ?? 512,
                                          queryPrefix: prefix("EMBEDDING_QUERY_PREFIX") ?? "",
                                          passagePrefix: prefix("EMBEDDING_PASSAGE_PREFIX") ?? "")
            }
        }
        var dimensions: Int? = nil
        if let d = requestedDimensions, d != spec.dimension {
            guard spec.matryoshkaDimensions.contains(d), provider != .native else {
                let allowed = provider == .native ? [spec.dimension] : spec.allowedDimensions
                throw .configuration("EMBEDDING_DIMENSIONS=\(d) does not fit \(spec.id), which produces "
                                     + allowed.map(String.init).joined(separator: ", ")
                                     + " dimensions; set EMBEDDING_DIMENSIONS to one of those or leave it unset")
            }
            dimensions = d
        }

        let baseURL = value("EMBEDDING_BASE_URL") ?? provider.defaultBaseURL
        if provider != .native {
            guard let baseURL else {
                throw .configuration("EMBEDDING_PROVIDER=\(provider.rawValue) needs EMBEDDING_BASE_URL (e.g. http://127.0.0.1:8080)")
            }
            guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw .configuration("EMBEDDING_BASE_URL=\(baseURL) is not an http(s) URL")
            }
        }
        let apiKey = value("EMBEDDING_API_KEY")
            ?? (provider == .openai ? value("OPENAI_API_KEY") : provider == .jina ? value("JINA_API_KEY") : nil)
        if provider == .openai || provider == .jina, apiKey == nil {
            throw .configuration("EMBEDDING_PROVIDER=\(provider.rawValue) needs an API key: set EMBEDDING_API_KEY")
        }
        let timeoutMs = try integer("EMBEDDING_TIMEOUT_MS", min: 1) ?? 30_000
        var weights = WeightPrecision.half
        if let raw = value("EMBEDDING_WEIGHTS") {
            guard let w = WeightPrecision(rawValue: raw.lowercased()) else {
                throw .configuration("EMBEDDING_WEIGHTS=\(raw) is not a precision; use half or float32")
            }
            weights = w
        }
        var configuration = EmbeddingConfiguration(
            provider: provider, spec: spec, requestModel: modelName, dimensions: dimensions,
            baseURL: provider == .native ? nil : baseURL, apiKey: apiKey,
            modelDirectory: EmbeddingModelDirectory.resolve(nil, model: spec.id, environment: env),
            threads: try integer("EMBEDDING_THREADS", min: 1),
            batchSize: try integer("EMBEDDING_BATCH_SIZE", min: 1) ?? (provider == .native ? 32 : 64),
            timeout: .milliseconds(timeoutMs),
            queryCacheSize: try integer("QUERY_CACHE_SIZE", min: 0) ?? 4096,
            queryCacheTTL: .seconds(try integer("QUERY_CACHE_TTL_SECONDS", min: 1) ?? 3600))
        configuration.weightPrecision = weights
        if let raw = value("QUERY_CACHE_SHARED") {
            guard let choice = SharedCacheChoice(rawValue: raw.lowercased()) else {
                throw .configuration("QUERY_CACHE_SHARED=\(raw) is not one of auto, store, redis, off")
            }
            configuration.sharedCache = choice
        }
        configuration.redisURL = value("REDIS_URL")
        if configuration.sharedCache == .redis, configuration.redisURL == nil {
            throw .configuration("QUERY_CACHE_SHARED=redis needs REDIS_URL (redis://host:6379)")
        }
        do { configuration.piiPolicy = try PIIPolicy.fromEnvironment(env) } catch { throw .configuration(error.description) }
        if provider != .native, let url = configuration.baseURL {
            configuration.providerLocation = ProviderLocation.of(url: url, declared: value("EMBEDDING_PROVIDER_LOCATION"))
        }
        configuration.sharedCacheTTLLocal = .seconds(try integer("QUERY_CACHE_SHARED_TTL_LOCAL_SECONDS", min: 1) ?? 86_400)
        configuration.sharedCacheTTLAPI = .seconds(try integer("QUERY_CACHE_SHARED_TTL_API_SECONDS", min: 1) ?? 604_800)
        return configuration
    }
}
