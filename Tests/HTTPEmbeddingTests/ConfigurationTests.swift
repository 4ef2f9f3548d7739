import Foundation
import Resilience
import Testing
@testable import Embeddings

@Suite struct HTTPEmbeddingConfigurationTests {
    @Test func dimensionsOutsideTheAllowedListAreRefused() {
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://x", spec: jina, dimensions: 300) }
        do {
            _ = try HTTPEmbeddingConfiguration(baseURL: "http://x", spec: jina, dimensions: 300)
        } catch {
            guard case .configuration(let m) = error else { Issue.record("got \(error)"); return }
            #expect(m.contains("32, 64, 128, 256, 512, 768, 1024"))
            #expect(m.contains("300"))
        }
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://x", spec: e5, dimensions: 256) }
    }

    @Test func otherChecks() {
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "api.openai.com", spec: tiny) }
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://", spec: tiny) }
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://x", spec: tiny, maxBatchSize: 0) }
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://x", spec: tiny, timeout: .zero) }
        #expect(throws: EmbeddingError.self) { try HTTPEmbeddingConfiguration(baseURL: "http://x", apiKey: "sk-a\nb", spec: tiny) }
    }

    @Test func endpoints() throws {
        func endpoint(_ base: String) throws -> String { try HTTPEmbeddingConfiguration(baseURL: base, spec: tiny).endpoint }
        #expect(try endpoint("https://api.openai.com") == "https://api.openai.com/v1/embeddings")
        #expect(try endpoint("https://api.openai.com/") == "https://api.openai.com/v1/embeddings")
        #expect(try endpoint("https://api.openai.com/v1") == "https://api.openai.com/v1/embeddings")
        #expect(try endpoint("https://api.jina.ai/v1///") == "https://api.jina.ai/v1/embeddings")
        #expect(try endpoint("http://tei:8080/v1/embeddings") == "http://tei:8080/v1/embeddings")
        #expect(try endpoint(" http://ollama:11434 ") == "http://ollama:11434/v1/embeddings")
    }

    @Test func descriptionsHideSecrets() throws {
        let c = try HTTPEmbeddingConfiguration(baseURL: "https://user:pw@host/v1?key=abc", apiKey: "sk-hidden", spec: tiny)
        #expect(!c.description.contains("sk-hidden"))
        #expect(!c.description.contains("pw"))
        #expect(!c.description.contains("abc"))
        #expect(c.description.contains("https://host/v1"))
        #expect(HTTPEmbeddingConfiguration.display("http://a:b@h:1/p?q=1") == "http://h:1/p")
    }

    @Test func tokenSharesAddUpToTheTotal() {
        #expect(OpenAICompatibleEmbedder.tokenShares(total: 10, inputs: ["aaaa", "aaaa"]) == [5, 5])
        #expect(OpenAICompatibleEmbedder.tokenShares(total: 10, inputs: ["a", "aa", "aaaaaaa"]) == [1, 2, 7])
        let shares = OpenAICompatibleEmbedder.tokenShares(total: 7, inputs: ["abc", "abc", "abc"])
        #expect(shares.reduce(0, +) == 7)
        #expect(shares.sorted() == [2, 2, 3])
        #expect(OpenAICompatibleEmbedder.tokenShares(total: nil, inputs: ["", "abcdefgh", "abcdefghi"]) == [1, 2, 3])
    }

    @Test func serverMessageShapes() {
        func msg(_ s: String) -> String { OpenAICompatibleEmbedder.serverMessage(Data(s.utf8)) }
        #expect(msg(#"{"error":{"message":"bad","type":"invalid_request_error"}}"#) == "bad (invalid_request_error)")
        #expect(msg(#"{"error":"too long","error_type":"Validation"}"#) == "too long")
        #expect(msg(#"{"detail":[{"msg":"field required"},{"msg":"value too big"}]}"#) == "field required; value too big")
        #expect(msg(#"{"detail":"Not Found"}"#) == "Not Found")
        #expect(msg("upstream\nconnect error") == "upstream connect error")
        #expect(msg("") == "empty body")
        #expect(msg(String(repeating: "x", count: 1000)).count < 300)
    }
}
