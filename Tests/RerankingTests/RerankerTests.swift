import Foundation
import Reranking
import Resilience
import Testing
import TestSupport

/// The four wire formats against a local server that speaks them, and the failures.
@Suite struct HTTPRerankerTests {
    static let query = "annual leave carry over"
    static let documents = [
        "Laptops are replaced every three years.",
        "Unused annual leave days carry over until March.",
        "Annual leave is twenty days.",
    ]

    func reranker(_ format: RerankFormat, _ base: String, key: String? = "secret-key") throws -> HTTPReranker {
        try HTTPReranker(configuration: RerankConfiguration(
            format: format, baseURL: base, model: format.needsModel ? "rerank-model" : nil, apiKey: key, timeout: .seconds(5),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)),
            breaker: CircuitBreaker(failureThreshold: 4, openDuration: .seconds(60))))
    }

    @Test(arguments: RerankFormat.allCases)
    func eachFormatIsSentAndReadAsItsAPIDefines(_ format: RerankFormat) async throws {
        let server = FakeRerankServer()
        try await server.serve { base in
            let scores = try await reranker(format, base).rerank(query: Self.query, documents: Self.documents)
            // In document order, though the server answered best first.
            #expect(scores == Self.documents.map { FakeRerankServer.score(Self.query, $0) })
            let seen = try #require(server.requests.withLock { $0.last })
            #expect(seen.path == format.path && seen.authorization == "Bearer secret-key")
            switch format {
            case .tei:
                #expect(seen.json["texts"] != nil && seen.json["model"] == nil && seen.json["documents"] == nil)
            case .voyage:
                #expect(seen.json["top_k"] as? String == "3" && seen.json["model"] as? String == "rerank-model")
            case .cohere, .jina:
                #expect(seen.json["top_n"] as? String == "3" && seen.json["documents"] != nil && seen.json["model"] as? String == "rerank-model")
            }
        }
    }

    @Test func failuresAreTypedRetriedWhereItHelpsAndTheBreakerOpens() async throws {
        let server = FakeRerankServer()
        try await server.serve { base in
            let r = try reranker(.cohere, base)
            server.failing.withLock { $0 = 401 }
            await #expect(throws: RerankError.self) { try await r.rerank(query: "q", documents: ["a", "b"]) }
            #expect(server.requests.withLock { $0.count } == 1, "a 401 is not retried")
            server.failing.withLock { $0 = nil }
            server.garbage.withLock { $0 = #"{"results":[{"index":0,"relevance_score":1},{"index":0,"relevance_score":2}]}"# }
            do {
                _ = try await r.rerank(query: "q", documents: ["a", "b"])
                Issue.record("a repeated index was accepted")
            } catch {
                #expect("\(error)".contains("scored twice"), "\(error)")
            }
            server.garbage.withLock { $0 = nil }
            server.failing.withLock { $0 = 503 }
            let before = server.requests.withLock { $0.count }
            do {
                _ = try await r.rerank(query: "q", documents: ["a", "b"])
                Issue.record("a 503 was accepted")
            } catch {
                guard case .unavailable? = error as? RerankError else { Issue.record("\(error)"); return }
            }
            #expect(server.requests.withLock { $0.count } - before == 2, "retried once")
            // Four unhealthy answers in a row (two garbage, two 503s) open the breaker: the next
            // call fails at once, without a request.
            let n = server.requests.withLock { $0.count }
            do {
                _ = try await r.rerank(query: "q", documents: ["a", "b"])
                Issue.record("the breaker did not open")
            } catch {
                #expect("\(error)".contains("circuit open"), "\(error)")
            }
            #expect(server.requests.withLock { $0.count } == n)
        }
    }

    @Test func configurationSaysWhatIsMissing() throws {
        #expect(try RerankConfiguration.fromEnvironment([:]) == nil)
        #expect(throws: RerankError.configuration("RERANK_PROVIDER=tei needs RERANK_BASE_URL (e.g. http://127.0.0.1:8080)")) {
            try RerankConfiguration.fromEnvironment(["RERANK_PROVIDER": "tei"])
        }
        #expect(throws: RerankError.configuration("RERANK_PROVIDER=cohere needs RERANK_MODEL")) {
            try RerankConfiguration.fromEnvironment(["RERANK_PROVIDER": "cohere"])
        }
        #expect(throws: RerankError.self) { try RerankConfiguration.fromEnvironment(["RERANK_PROVIDER": "bing"]) }
        let c = try #require(try RerankConfiguration.fromEnvironment(["RERANK_PROVIDER": "voyage", "RERANK_MODEL": "rerank-2", "RERANK_CANDIDATES": "20"]))
        #expect(c.baseURL == "https://api.voyageai.com" && c.candidates == 20)
    }
}
