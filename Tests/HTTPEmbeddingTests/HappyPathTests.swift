import Foundation
import HTTPClient
import Resilience
import Testing
@testable import Embeddings

extension AgainstAFakeServer {
    @Suite struct HTTPEmbeddingHappyPathTests {
        @Test func ordersByIndexAndNormalises() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                let e = try embedder(base, model: "tiny-v1")
                #expect(e.modelId == "test/tiny")
                #expect(e.dimension == 8)
                #expect(e.maxInputTokens == 512)
                let texts = ["alpha", "beta gamma", "délta ε"]
                let out = try await e.embed(texts, role: .passage)
                #expect(out.count == 3)
                for (text, emb) in zip(texts, out) {
                    #expect(approximatelyEqual(emb.vector, FakeEmbeddingServer.expected(text, dimension: 8)), "\(text) in its place")
                    #expect(abs(norm(emb.vector) - 1) < 1e-5)
                    #expect(!emb.truncated)
                    #expect(emb.tokenCount == emb.untruncatedTokenCount)
                }
                // The server counted words + 2 per text: 3 + 4 + 4.
                #expect(out.map(\.tokenCount).reduce(0, +) == 11, "the batch's prompt_tokens, shared out")

                let seen = try #require(await server.requests.first)
                #expect(seen.path == "/v1/embeddings")
                #expect(seen.contentType == "application/json")
                #expect(seen.model == "tiny-v1", "the model name as configured")
                #expect(seen.inputs == texts)
                #expect(seen.encodingFormat == "float")
                #expect(!seen.keys.contains("dimensions"))
                #expect(!seen.keys.contains("task"))
            }
        }

        @Test func embeddersCanShareAClient() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                let client = try HTTPClient(maxIdleConnections: 2)
                let config = try HTTPEmbeddingConfiguration(baseURL: base, spec: tiny, retry: fastRetry)
                let a = try OpenAICompatibleEmbedder(configuration: config, client: client)
                let b = try OpenAICompatibleEmbedder(configuration: config, client: client)
                for _ in 0..<3 {
                    _ = try await a.embed(["a"], role: .query)
                    _ = try await b.embed(["b"], role: .passage)
                }
                #expect(await server.requestCount == 6)
            }
        }

        @Test func requestModelDefaultsToTheSpecId() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                _ = try await embedder(base).embed(["x"], role: .query)
                #expect(await server.requests.first?.model == "test/tiny")
            }
        }

        @Test func itemsWithoutObjectOrUsageAreAccepted() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .embeddings(reversed: false, usage: false, objectField: false))
            try await server.serve { base in
                let text = String(repeating: "a", count: 40)
                let out = try await embedder(base).embed([text, "b"], role: .passage)
                #expect(approximatelyEqual(out[0].vector, FakeEmbeddingServer.expected(text, dimension: 8)))
                #expect(out.map(\.tokenCount) == [10, 1], "about 4 bytes a token without usage")
            }
        }

        @Test func emptyInputMakesNoRequest() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                let e = try embedder(base)
                #expect(try await e.embed([], role: .query).isEmpty)
                let error = await embedError(e, ["fine", ""])
                guard case .invalidInput(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("text 1"))
                #expect(await server.requestCount == 0)
            }
        }

        @Test func batchesOfMaxBatchSize() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                let texts = (0..<10).map { "text number \($0)" }
                let out = try await embedder(base, batch: 4).embed(texts, role: .passage)
                let seen = await server.requests
                #expect(seen.map(\.inputs.count) == [4, 4, 2])
                #expect(seen.flatMap(\.inputs) == texts)
                #expect(out.count == 10)
                for (text, emb) in zip(texts, out) {
                    #expect(approximatelyEqual(emb.vector, FakeEmbeddingServer.expected(text, dimension: 8)))
                }
            }
        }

        @Test func e5PrefixesByRole() async throws {
            let server = FakeEmbeddingServer(dimension: 384)
            try await server.serve { base in
                let e = try embedder(base, spec: e5, model: "multilingual-e5-small")
                let q = try await e.embed(["how do I reset"], role: .query)
                let p = try await e.embed(["Reset it like this."], role: .passage)
                let seen = await server.requests
                #expect(seen.map(\.inputs) == [["query: how do I reset"], ["passage: Reset it like this."]])
                #expect(seen.allSatisfy { !$0.keys.contains("task") })
                #expect(approximatelyEqual(q[0].vector, FakeEmbeddingServer.expected("query: how do I reset", dimension: 384)),
                        "the vector is the prefixed text's")
                #expect(p[0].vector.count == 384)
            }
        }

        @Test func jinaTaskAndMatryoshkaDimensions() async throws {
            let server = FakeEmbeddingServer(dimension: 1024)
            try await server.serve { base in
                let e = try embedder(base, spec: jina, model: "jina-embeddings-v3", dimensions: 256)
                #expect(e.modelId == "jinaai/jina-embeddings-v3@256", "a truncated size gets its own id")
                #expect(e.dimension == 256)
                let q = try await e.embed(["question"], role: .query)
                _ = try await e.embed(["answer"], role: .passage)
                let seen = await server.requests
                #expect(seen.map(\.task) == ["retrieval.query", "retrieval.passage"])
                #expect(seen.map(\.dimensions) == [256, 256])
                #expect(seen.map(\.inputs) == [["question"], ["answer"]], "Jina takes no prefixes")
                #expect(q[0].vector.count == 256)
            }
        }

        @Test func theNativeDimensionIsNotSent() async throws {
            let server = FakeEmbeddingServer(dimension: 1024)
            try await server.serve { base in
                let e = try embedder(base, spec: jina, dimensions: 1024)
                #expect(e.modelId == "jinaai/jina-embeddings-v3")
                _ = try await e.embed(["x"], role: .passage)
                #expect(await server.requests.first?.keys.contains("dimensions") == false)
            }
        }

        @Test func authorizationHeaderOnlyWithAKey() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                _ = try await embedder(base, key: "sk-test-123").embed(["a"], role: .query)
                _ = try await embedder(base).embed(["b"], role: .query)
                _ = try await embedder(base, key: "  \n").embed(["c"], role: .query)
                _ = try await embedder(base, key: "sk-trailing\n").embed(["d"], role: .query)
                #expect(await server.requests.map(\.authorization) == ["Bearer sk-test-123", nil, nil, "Bearer sk-trailing"])
            }
        }

        @Test func baseURLWithV1OrTrailingSlashes() async throws {
            let server = FakeEmbeddingServer(dimension: 8)
            try await server.serve { base in
                for variant in [base, base + "/", base + "/v1", base + "/v1/", base + "/v1/embeddings", base + "/custom/v1//"] {
                    _ = try await embedder(variant).embed(["x"], role: .query)
                }
                #expect(await server.requests.map(\.path) == Array(repeating: "/v1/embeddings", count: 5) + ["/custom/v1/embeddings"])
            }
        }
    }
}
