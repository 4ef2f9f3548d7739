import Foundation
import Resilience
import Testing
@testable import Embeddings

extension AgainstAFakeServer {
    @Suite struct HTTPEmbeddingFailureTests {
        @Test func rateLimitedThenSuccessWaitsForRetryAfter() async throws {
            let server = FakeEmbeddingServer(dimension: 8, script: [
                .status(429, body: #"{"error":{"message":"Rate limit reached","type":"requests"}}"#, headers: ["Retry-After": "1"]),
            ])
            try await server.serve { base in
                let out = try await embedder(base).embed(["a"], role: .query)
                #expect(out.count == 1)
                let seen = await server.requests
                #expect(seen.count == 2)
                let gap = seen[1].at - seen[0].at
                // At least the Retry-After; the upper bound only says it did not wait the 20 s cap
                // (a loaded CI machine stretches everything else).
                #expect(gap >= .milliseconds(900) && gap < .seconds(15), "waited about the Retry-After: \(gap)")
            }
        }

        @Test func rateLimitedWithAHugeRetryAfterFailsFast() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(
                429, body: #"{"error":{"message":"Quota exceeded","type":"insufficient_quota"}}"#, headers: ["Retry-After": "3600"]))
            try await server.serve { base in
                let start = ContinuousClock.now
                let error = await embedError(try embedder(base))
                #expect(ContinuousClock.now - start < .seconds(30), "did not wait the hour it asked for")
                guard case .rateLimited(let after, let message) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(after == 3600)
                #expect(message.contains("Quota exceeded"))
                #expect(await server.requestCount == 1)
            }
        }

        @Test func rateLimitedUntilAttemptsRunOut() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(429, body: "slow down", headers: ["Retry-After": "0"]))
            try await server.serve { base in
                let error = await embedError(try embedder(base))
                guard case .rateLimited(let after, let message) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(after == 0)
                #expect(message.contains("slow down"))
                #expect(await server.requestCount == 3)
            }
        }

        @Test func serverErrorsTwiceThenSuccess() async throws {
            let server = FakeEmbeddingServer(dimension: 8, script: [.status(500, body: "boom"), .status(503)])
            try await server.serve { base in
                let out = try await embedder(base).embed(["a", "b"], role: .passage)
                #expect(out.count == 2)
                #expect(await server.requestCount == 3)
            }
        }

        @Test func unavailableWithRetryAfterIsWaitedFor() async throws {
            let server = FakeEmbeddingServer(dimension: 8, script: [
                .status(503, body: #"{"error":"Model is loading"}"#, headers: ["Retry-After-Ms": "300"]),
            ])
            try await server.serve { base in
                let out = try await embedder(base).embed(["a"], role: .query)
                #expect(out.count == 1)
                let seen = await server.requests
                #expect(seen.count == 2)
                #expect(seen[1].at - seen[0].at >= .milliseconds(280), "waited for retry-after-ms, not the 20 ms backoff")
            }
        }

        @Test func serverErrorsAlwaysIsUnavailableAfterMaxAttempts() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(500, body: #"{"error":{"message":"internal","type":"server_error"}}"#))
            try await server.serve { base in
                let error = await embedError(try embedder(base))
                guard case .unavailable(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("HTTP 500"))
                #expect(m.contains("internal"))
                #expect(m.contains("3 attempts"))
                #expect(await server.requestCount == 3)
            }
        }

        @Test func breakerOpensThenFailsWithoutARequest() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(502))
            try await server.serve { base in
                let breaker = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(60))
                let e = try embedder(base, breaker: breaker)
                guard case .unavailable(let first) = await embedError(e) else { Issue.record("expected unavailable"); return }
                #expect(first.contains("HTTP 502"), "the call that trips the breaker says why")
                #expect(await server.requestCount == 2, "the breaker opened after 2 failures, cutting the third attempt")
                #expect(breaker.state == .open)

                let start = ContinuousClock.now
                let error = await embedError(e)
                #expect(ContinuousClock.now - start < .seconds(5))
                guard case .unavailable(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("circuit open"))
                #expect(m.contains("retry in 60 s") || m.contains("retry in 59 s"))
                #expect(await server.requestCount == 2, "no request reached the server")

                // Another embedder sharing the breaker is cut off too.
                _ = await embedError(try embedder(base, breaker: breaker))
                #expect(await server.requestCount == 2)
            }
        }

        @Test func unauthorizedIsNotRetriedAndHidesTheKey() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(
                401, body: #"{"error":{"message":"Incorrect API key provided: sk-secret-999.","type":"invalid_request_error"}}"#))
            try await server.serve { base in
                let breaker = CircuitBreaker(failureThreshold: 1)
                let e = try embedder(base, key: "sk-secret-999", breaker: breaker)
                let error = await embedError(e)
                guard case .unauthorized(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("Incorrect API key provided"))
                #expect(!m.contains("sk-secret-999"))
                #expect(!"\(error!)".contains("sk-secret-999"))
                #expect(await server.requestCount == 1)
                #expect(breaker.state == .closed, "a bad key does not trip the breaker")
                _ = await embedError(e)
                #expect(await server.requestCount == 2)
            }
        }

        @Test func forbiddenIsUnauthorized() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(403, body: "denied"))
            try await server.serve { base in
                guard case .unauthorized = await embedError(try embedder(base)) else { Issue.record("expected unauthorized"); return }
            }
        }

        @Test func badRequestCarriesTheServerMessage() async throws {
            let message = "This model's maximum context length is 8192 tokens, however you requested 9000 tokens."
            let server = FakeEmbeddingServer(dimension: 8, then: .status(
                400, body: #"{"error":{"message":"\#(message)","type":"invalid_request_error","param":null,"code":null}}"#))
            try await server.serve { base in
                let breaker = CircuitBreaker(failureThreshold: 1)
                let error = await embedError(try embedder(base, breaker: breaker))
                guard case .badRequest(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains(message))
                #expect(m.contains("HTTP 400"))
                #expect(await server.requestCount == 1)
                #expect(breaker.state == .closed)
            }
        }

        @Test(arguments: [404, 413, 422])
        func otherClientErrorsAreBadRequests(status: Int) async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .status(status, body: #"{"error":"Input validation error","error_type":"Validation"}"#))
            try await server.serve { base in
                let error = await embedError(try embedder(base))
                guard case .badRequest(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("Input validation error"), "TEI's error shape")
                #expect(await server.requestCount == 1)
            }
        }

        @Test func slowServerTimesOut() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .slow(.seconds(10)))
            try await server.serve { base in
                let error = await embedError(try embedder(base, timeout: .milliseconds(300)))
                guard case .unavailable(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                // The client's own timeout ended each attempt (the message says so), not the server's 10 s.
                #expect(m.contains("within 300 ms"))
                // Three attempts were made; under load one may time out before the server counts it.
                #expect((1...3).contains(await server.requestCount))
            }
        }

        @Test func totalTimeoutBoundsTheWholeCall() async throws {
            let server = FakeEmbeddingServer(dimension: 8, then: .slow(.seconds(6)))
            try await server.serve { base in
                let breaker = CircuitBreaker(failureThreshold: 1)
                let e = try embedder(base, timeout: .seconds(10), totalTimeout: .milliseconds(800), breaker: breaker)
                let start = ContinuousClock.now
                let error = await embedError(e)
                let elapsed = ContinuousClock.now - start
                guard case .unavailable(let m) = error else { Issue.record("got \(String(describing: error))"); return }
                #expect(m.contains("no response"), "\(m)")
                // Bounded by the total timeout, not the server's 6 s (loose: CI machines stall).
                #expect(elapsed >= .milliseconds(750) && elapsed < .seconds(5), "\(elapsed)")
                #expect(await server.requestCount <= 1, "no retry that cannot finish in time")
            }
        }

        @Test func connectionRefusedIsUnavailable() async throws {
            let e = try embedder("http://127.0.0.1:\(closedPort())", retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
            let error = await embedError(e)
            guard case .unavailable(let m) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(m.contains("cannot reach http://127.0.0.1:"))
            #expect(m.contains("2 attempts"))
        }
    }
}
