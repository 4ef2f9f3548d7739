import Embeddings
import Foundation
import Testing

@Suite struct EmbeddingConfigurationTests {
    func configuration(_ env: [String: String]) throws(EmbeddingError) -> EmbeddingConfiguration {
        try EmbeddingConfiguration.fromEnvironment(env)
    }

    func message(_ env: [String: String]) -> String {
        do {
            _ = try configuration(env)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func nativeMultilingualE5IsTheDefault() throws {
        let c = try configuration([:])
        #expect(c.provider == .native)
        #expect(c.modelId == "intfloat/multilingual-e5-small")
        #expect(c.dimension == 384)
        #expect(c.modelDirectory == ".models/multilingual-e5-small")
        #expect(c.queryCacheSize == 4096)
        // Its aliases and its own size are accepted; empty values count as unset (template defaults).
        let aliased = try configuration(["EMBEDDING_MODEL": "multilingual-e5-small", "EMBEDDING_DIMENSIONS": "384", "EMBEDDING_BASE_URL": ""])
        #expect(aliased.modelId == c.modelId && aliased.dimensions == nil)
        let empty = try configuration(["EMBEDDING_MODEL": "", "EMBEDDING_MODEL_DIR": ""])
        #expect(empty.modelId == c.modelId && empty.modelDirectory == c.modelDirectory)
    }

    @Test func theNativeProviderRunsMiniLMToo() throws {
        let c = try configuration(["EMBEDDING_MODEL": "all-MiniLM-L6-v2"])
        #expect(c.provider == .native && c.modelId == "sentence-transformers/all-MiniLM-L6-v2" && c.dimension == 384)
        #expect(c.modelDirectory == ".models/all-MiniLM-L6-v2", "each native model has its own default folder")
        #expect(c.spec.prefix(for: .query) == "" && c.spec.prefix(for: .passage) == "")
    }

    @Test func weightPrecisionIsHalfUnlessAskedForFloat32() throws {
        #expect(try configuration([:]).weightPrecision == .half)
        #expect(try configuration(["EMBEDDING_WEIGHTS": "float32"]).weightPrecision == .float32)
        #expect(try configuration(["EMBEDDING_WEIGHTS": "HALF"]).weightPrecision == .half)
        #expect(message(["EMBEDDING_WEIGHTS": "int8"]).contains("EMBEDDING_WEIGHTS=int8 is not a precision; use half or float32"))
    }

    @Test func registryKnowsTheConventions() throws {
        let e5 = try #require(EmbeddingModelRegistry.spec(for: "intfloat/multilingual-e5-small"))
        #expect(e5.dimension == 384 && e5.prefix(for: .query) == "query: " && e5.prefix(for: .passage) == "passage: ")
        let jina = try #require(EmbeddingModelRegistry.spec(for: "JINAAI/jina-embeddings-v3"))
        #expect(jina.dimension == 1024 && jina.allowedDimensions.contains(256) && jina.task(for: .query) == "retrieval.query")
        #expect(EmbeddingModelRegistry.spec(for: "BAAI/bge-m3")?.dimension == 1024)
        #expect(EmbeddingModelRegistry.spec(for: "text-embedding-3-small")?.dimension == 1536)
        #expect(EmbeddingModelRegistry.spec(for: "no-such-model") == nil)
    }

    @Test func httpProvidersNeedAModelAndAServer() throws {
        #expect(message(["EMBEDDING_PROVIDER": "tei"]).contains("needs EMBEDDING_MODEL"))
        #expect(message(["EMBEDDING_PROVIDER": "tei", "EMBEDDING_MODEL": "BAAI/bge-m3"]).contains("needs EMBEDDING_BASE_URL"))
        #expect(message(["EMBEDDING_PROVIDER": "tei", "EMBEDDING_MODEL": "BAAI/bge-m3", "EMBEDDING_BASE_URL": "ftp://x"])
            .contains("is not an http(s) URL"))
        #expect(message(["EMBEDDING_PROVIDER": "openai", "EMBEDDING_MODEL": "text-embedding-3-small"]).contains("set EMBEDDING_API_KEY"))
        let openai = try configuration(["EMBEDDING_PROVIDER": "openai", "EMBEDDING_MODEL": "text-embedding-3-small", "OPENAI_API_KEY": "sk-x"])
        #expect(openai.baseURL == "https://api.openai.com" && openai.apiKey == "sk-x" && openai.dimension == 1536)
        #expect(message(["EMBEDDING_PROVIDER": "bedrock"]).contains("use one of native, openai, jina, ollama, tei, vllm, http"))
    }

    @Test func theNativeProviderRunsMultilingualE5Too() throws {
        let e5 = try configuration(["EMBEDDING_MODEL": "intfloat/multilingual-e5-small"])
        #expect(e5.provider == .native && e5.modelId == "intfloat/multilingual-e5-small" && e5.dimension == 384)
        #expect(e5.modelDirectory == ".models/multilingual-e5-small", "each native model has its own default folder")
        #expect(try configuration(["EMBEDDING_MODEL": "multilingual-e5-small", "EMBEDDING_MODEL_DIR": "/opt/e5"]).modelDirectory == "/opt/e5")
        #expect(e5.spec.prefix(for: .query) == "query: " && e5.spec.prefix(for: .passage) == "passage: ")
    }

    @Test func nothingFallsBackToAnotherModel() {
        let m = message(["EMBEDDING_MODEL": "BAAI/bge-m3"])
        #expect(m.contains("the native provider runs only sentence-transformers/all-MiniLM-L6-v2 and intfloat/multilingual-e5-small"))
        #expect(m.contains("set EMBEDDING_PROVIDER"))
        #expect(message(["EMBEDDING_DIMENSIONS": "256"]).contains("EMBEDDING_DIMENSIONS=256 does not fit intfloat/multilingual-e5-small, which produces 384 dimensions"))
    }

    @Test func matryoshkaSizesGetTheirOwnModelId() throws {
        let env = ["EMBEDDING_PROVIDER": "jina", "EMBEDDING_MODEL": "jinaai/jina-embeddings-v3", "JINA_API_KEY": "k"]
        let full = try configuration(env)
        #expect(full.modelId == "jinaai/jina-embeddings-v3" && full.dimension == 1024)
        var small = env
        small["EMBEDDING_DIMENSIONS"] = "256"
        let c = try configuration(small)
        #expect(c.modelId == "jinaai/jina-embeddings-v3@256" && c.dimension == 256 && c.dimensions == 256)
        small["EMBEDDING_DIMENSIONS"] = "300"
        #expect(message(small).contains("produces 32, 64, 128, 256, 512, 768, 1024 dimensions"))
    }

    @Test func unknownModelsNeedTheirSize() throws {
        var env = ["EMBEDDING_PROVIDER": "http", "EMBEDDING_MODEL": "acme/embedder-x", "EMBEDDING_BASE_URL": "http://127.0.0.1:9"]
        #expect(message(env).contains("not in the model registry, so its vector size is unknown: set EMBEDDING_DIMENSIONS"))
        env["EMBEDDING_DIMENSIONS"] = "512"
        env["EMBEDDING_QUERY_PREFIX"] = "q: "
        let c = try configuration(env)
        #expect(c.modelId == "acme/embedder-x" && c.dimension == 512 && c.spec.queryPrefix == "q: " && c.spec.maxInputTokens == 512)
        env["EMBEDDING_DIMENSIONS"] = "lots"
        #expect(message(env).contains("EMBEDDING_DIMENSIONS=lots must be a whole number"))
    }
}

/// The message of the error `body` throws, or "no error".
func failureMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return String(describing: error)
    }
}

@Suite struct DimensionCheckTests {
    static let miniLM = ["EMBEDDING_MODEL": "sentence-transformers/all-MiniLM-L6-v2"]

    @Test func theNativeModelPassesWhenTheStoreAgrees() throws {
        let c = try EmbeddingConfiguration.fromEnvironment(Self.miniLM)
        let provider = try Shared.embedder()
        try DimensionCheck.verify(configuration: c, provider: provider, probed: 384, stored: [384])
        try DimensionCheck.verify(configuration: c, provider: provider, stored: [])
    }

    @Test func storedVectorsOfAnotherSizeFailWithTheFix() throws {
        let c = try EmbeddingConfiguration.fromEnvironment(Self.miniLM)
        let provider = try Shared.embedder()
        #expect(failureMessage { try DimensionCheck.verify(configuration: c, provider: provider, stored: [384, 768]) } != "no error")
        let m = failureMessage { try DimensionCheck.verify(configuration: c, provider: provider, stored: [768]) }
        #expect(m.contains("the store holds 768-dimensional vectors for sentence-transformers/all-MiniLM-L6-v2"))
        #expect(m.contains("configure a different model id and re-embed"))
    }

    @Test func aServerReturningAnotherSizeFailsWithTheFix() throws {
        let c = try EmbeddingConfiguration.fromEnvironment(
            ["EMBEDDING_PROVIDER": "http", "EMBEDDING_MODEL": "acme/x", "EMBEDDING_DIMENSIONS": "384", "EMBEDDING_BASE_URL": "http://127.0.0.1:9"])
        let provider = try EmbeddingProviders.make(c)
        let probed = failureMessage { try DimensionCheck.verify(configuration: c, provider: provider, probed: 768, stored: []) }
        #expect(probed.contains("returned 768-dimensional vectors for acme/x"))
        #expect(probed.contains("set EMBEDDING_DIMENSIONS=768"))
        let stored = failureMessage { try DimensionCheck.verify(configuration: c, provider: provider, stored: [1024]) }
        #expect(stored.contains("Set EMBEDDING_DIMENSIONS=1024 to keep using the stored vectors"))
    }

    @Test func aProviderForAnotherModelIsRefused() throws {
        let c = try EmbeddingConfiguration.fromEnvironment(
            ["EMBEDDING_PROVIDER": "http", "EMBEDDING_MODEL": "acme/x", "EMBEDDING_DIMENSIONS": "384", "EMBEDDING_BASE_URL": "http://127.0.0.1:9"])
        let provider = try Shared.embedder()
        #expect(failureMessage { try DimensionCheck.verify(configuration: c, provider: provider, stored: []) }
            .contains("the provider serves sentence-transformers/all-MiniLM-L6-v2, the configuration asks for acme/x"))
    }
}
