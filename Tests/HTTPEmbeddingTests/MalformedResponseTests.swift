import Foundation
import Resilience
import Testing
@testable import Embeddings

/// Bodies of a 200 that must be refused, for 2 inputs of dimension 8.
let malformedBodies: [(name: String, body: @Sendable ([String], Int) -> String, says: String)] = [
    ("not JSON", { _, _ in "<html>Bad gateway</html>" }, "not JSON"),
    ("no data", { _, _ in #"{"object":"list","model":"x"}"# }, "no \"data\""),
    ("wrong count", { inputs, d in FakeEmbeddingServer.body(Array(inputs.prefix(1)), dimension: d) }, "expected 2 embeddings, got 1"),
    ("wrong dimension", { inputs, _ in FakeEmbeddingServer.body(inputs, dimension: 7) }, "has 7 dimensions, expected 8"),
    ("NaN literal", { _, _ in #"{"data":[{"index":0,"embedding":[NaN,1,1,1,1,1,1,1]},{"index":1,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "not JSON"),
    ("overflows Float", { _, _ in #"{"data":[{"index":0,"embedding":[1e39,1,1,1,1,1,1,1]},{"index":1,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "non-finite"),
    ("a string", { _, _ in #"{"data":[{"index":0,"embedding":[1,"x",1,1,1,1,1,1]},{"index":1,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "non-number"),
    ("duplicate index", { _, _ in #"{"data":[{"index":1,"embedding":[1,1,1,1,1,1,1,1]},{"index":1,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "appears twice"),
    ("index out of range", { _, _ in #"{"data":[{"index":0,"embedding":[1,1,1,1,1,1,1,1]},{"index":2,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "out of range"),
    ("zero vector", { _, _ in #"{"data":[{"index":0,"embedding":[0,0,0,0,0,0,0,0]},{"index":1,"embedding":[1,1,1,1,1,1,1,1]}]}"# }, "all zeros"),
    ("base64", { _, _ in #"{"data":[{"index":0,"embedding":"AAAA"},{"index":1,"embedding":"AAAA"}]}"# }, "base64"),
    ("error in a 200", { _, _ in #"{"error":{"message":"model overloaded"}}"# }, "model overloaded"),
]

extension AgainstAFakeServer {
    @Suite struct HTTPEmbeddingMalformedTests {
        @Test(arguments: malformedBodies.indices)
        func malformedAnswersAreRefused(_ i: Int) async throws {
            let (name, body, says) = malformedBodies[i]
            let server = FakeEmbeddingServer(dimension: 8, then: .custom(body))
            try await server.serve { base in
                let breaker = CircuitBreaker(failureThreshold: 10)
                let error = await embedError(try embedder(base, breaker: breaker), ["one", "two"])
                guard case .malformedResponse(let m) = error else { Issue.record("\(name): got \(String(describing: error))"); return }
                #expect(m.contains(says), "\(name): \(m)")
                #expect(await server.requestCount == 2, "\(name): retried once, not more")
                #expect(breaker.consecutiveFailures == 2, "\(name): garbage counts toward the breaker")
            }
        }

        @Test func malformedOnceThenFine() async throws {
            let server = FakeEmbeddingServer(dimension: 8, script: [.custom { _, _ in "{" }])
            try await server.serve { base in
                let out = try await embedder(base).embed(["a"], role: .query)
                #expect(out.count == 1)
                #expect(await server.requestCount == 2)
            }
        }
    }
}
