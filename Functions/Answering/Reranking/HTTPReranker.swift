#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPClient
import JSON
import Resilience

/// A rerank API over HTTP (`RerankFormat`), with the embedding providers' failure handling:
/// 5xx, timeouts and refused connections retried with backoff and counted by a circuit breaker
/// (which then fails calls at once); a 4xx fails at once and leaves the breaker alone.
package final class HTTPReranker: Reranker {
    package let configuration: RerankConfiguration
    package let endpoint: String
    package var name: String { configuration.format.rawValue }
    private let client: HTTPClient
    private let headers: [String]
    private let shown: String

    package init(configuration: RerankConfiguration, client: HTTPClient? = nil) throws(RerankError) {
        self.configuration = configuration
        endpoint = configuration.baseURL.trimmingSuffix("/") + configuration.format.path
        shown = configuration.baseURL.components(separatedBy: "?")[0]
        var h = ["Content-Type: application/json", "Accept: application/json"]
        if let key = configuration.apiKey { h.append("Authorization: Bearer \(key)") }
        headers = h
        if let client { self.client = client } else {
            do { self.client = try HTTPClient() } catch { throw .configuration("cannot make an HTTP client: \(error)") }
        }
    }

    package func rerank(query: String, documents: [String]) async throws(RerankError) -> [Double] {
        guard !documents.isEmpty else { return [] }
        let body = configuration.format.body(query: query, documents: documents, model: configuration.model)
        let deadline = ContinuousClock.now + configuration.timeout * 2
        do {
            return try await withRetries(policy: configuration.retry, breaker: configuration.breaker, deadline: deadline,
                                         classify: Self.classify) { _ in
                try await self.send(body, count: documents.count, deadline: deadline)
            }
        } catch let failure as Failure {
            throw failure.error
        } catch let open as CircuitOpenError {
            throw .unavailable("circuit open after repeated failures of \(shown); retry in \(Int(open.retryAfter.inSeconds.rounded(.up))) s")
        } catch {
            throw .unavailable("\(shown): \(error)")
        }
    }

    struct Failure: Error { var error: RerankError }

    static func classify(_ error: any Error) -> FailureClass {
        guard let f = error as? Failure else { return .permanent }
        switch f.error {
        case .unavailable: return FailureClass(retryable: true, unhealthy: true, retryAfter: nil)
        case .rateLimited: return .throttled(retryAfter: nil)
        case .malformedResponse: return .unhealthy(attemptLimit: 2)
        default: return .permanent
        }
    }

    private func send(_ body: Data, count: Int, deadline: ContinuousClock.Instant) async throws(Failure) -> [Double] {
        let left = deadline - ContinuousClock.now
        guard left > .milliseconds(1) else { throw Failure(error: .unavailable("\(shown): out of time")) }
        let response: HTTPClient.Response
        do {
            response = try await client.send(method: "POST", url: endpoint, headers: headers, body: body, timeout: min(configuration.timeout, left))
        } catch {
            throw Failure(error: .unavailable("cannot reach \(shown): \(redact("\(error)"))"))
        }
        let status = response.status
        if (200..<300).contains(status) {
            do { return try configuration.format.scores(Array(response.body), count: count) } catch { throw Failure(error: error) }
        }
        let message = redact("HTTP \(status) from \(shown): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        switch status {
        case 401, 403: throw Failure(error: .unauthorized(message))
        case 429: throw Failure(error: .rateLimited(message))
        case 408, 500..<600: throw Failure(error: .unavailable(message))
        default: throw Failure(error: .badRequest(message))
        }
    }

    private func redact(_ m: String) -> String {
        guard let key = configuration.apiKey, key.count >= 4 else { return m }
        return m.replacing(key, with: "***")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}
