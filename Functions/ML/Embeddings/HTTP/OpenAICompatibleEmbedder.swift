#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPClient
import JSON
import Resilience

/// Embeddings from any server speaking OpenAI's `POST /v1/embeddings` (OpenAI, Jina, Hugging Face
/// TEI, Ollama, vLLM).
///
/// The server is trusted for nothing it can get wrong silently: the answer must hold one vector
/// per input, each index once, each exactly `dimension` finite numbers. A server running another
/// model than configured would otherwise fill the store with vectors that compare as garbage
/// against everything already there, which no error would ever reveal.
///
/// Failures are sorted by what the caller can do about them (see `EmbeddingError`): a bad key or
/// request fails at once and leaves the circuit breaker alone; rate limits are waited out when
/// the server's `Retry-After` is short; 5xx, timeouts, refused connections and garbage 200s are
/// retried with backoff and count toward the breaker, which then fails calls at once instead of
/// making each one wait through the timeouts of a provider that is down.
///
/// Token counts: the API reports only a batch's total (`usage.prompt_tokens`), so each text's
/// `tokenCount` is that total shared out in proportion to the texts' UTF-8 lengths (prefixes
/// included), or roughly one token per 4 bytes when the server sends no usage. Those are
/// estimates, good for metrics and cost, not for chunking. `truncated` is always false: these
/// APIs reject over-long inputs (a 400) rather than cut them, and the ones that can truncate do
/// not say when they did.
package final class OpenAICompatibleEmbedder: EmbeddingProvider, ReportsEmbeddingUsage {
    package let configuration: HTTPEmbeddingConfiguration
    package let modelId: String
    package let dimension: Int
    package let maxInputTokens: Int
    /// The URL requests go to.
    package let endpoint: String
    private let client: HTTPClient
    private let headers: [String]
    /// The endpoint as messages show it (no user info or query).
    private let shownEndpoint: String
    private let counters = EmbeddingUsageCounters()

    package var usage: EmbeddingUsage {
        var u = counters.value
        u.breakerOpen = configuration.breaker.state == .open
        return u
    }

    /// - Parameter client: shared with other callers to reuse connections; nil makes one.
    /// - Throws: `.configuration` when libcurl cannot be loaded.
    package init(configuration: HTTPEmbeddingConfiguration, client: HTTPClient? = nil) throws(EmbeddingError) {
        self.configuration = configuration
        modelId = configuration.modelId
        dimension = configuration.dimension
        maxInputTokens = configuration.spec.maxInputTokens
        endpoint = configuration.endpoint
        shownEndpoint = HTTPEmbeddingConfiguration.display(endpoint)
        var headers = ["Content-Type: application/json", "Accept: application/json"]
        if let key = configuration.apiKey { headers.append("Authorization: Bearer \(key)") }
        self.headers = headers
        if let client {
            self.client = client
        } else {
            do {
                self.client = try HTTPClient()
            } catch {
                throw .configuration("cannot make an HTTP client for the embedding provider: \(error)")
            }
        }
    }

    /// Batches of `maxBatchSize` go one after the other, not in parallel: the provider's rate limit
    /// is per key, and parallel batches would mostly buy 429s.
    package func embed(_ texts: [String], role: EmbeddingRole) async throws(EmbeddingError) -> [Embedding] {
        guard !texts.isEmpty else { return [] }
        if let i = texts.firstIndex(where: \.isEmpty) {
            throw .invalidInput("text \(i) is empty; embedding APIs refuse empty input")
        }
        let deadline = configuration.totalTimeout.map { ContinuousClock.now + $0 }
        let prefix = configuration.spec.prefix(for: role)
        let task = configuration.spec.task(for: role)
        var result: [Embedding] = []
        result.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let end = min(start + configuration.maxBatchSize, texts.count)
            let inputs = texts[start..<end].map { prefix + $0 }
            result += try await embedBatch(inputs, task: task, deadline: deadline)
            start = end
        }
        return result
    }

    // MARK: One batch

    private func embedBatch(_ inputs: [String], task: String?, deadline: ContinuousClock.Instant?) async throws(EmbeddingError) -> [Embedding] {
        let body = requestBody(inputs, task: task)
        var attempts = 0
        let parsed: ParsedResponse
        do {
            parsed = try await withRetries(
                policy: configuration.retry, breaker: configuration.breaker, deadline: deadline,
                classify: Self.classify
            ) { attempt in
                attempts = attempt
                return try await send(body, count: inputs.count, deadline: deadline)
            }
        } catch let failure as Attempt {
            counters.record { $0.retries += max(0, attempts - 1) }
            throw Self.annotated(failure.error, attempts: attempts)
        } catch let error as CircuitOpenError {
            let seconds = Int(error.retryAfter.inSeconds.rounded(.up))
            throw .unavailable("circuit open after repeated failures of \(shownEndpoint); not calling it; retry in \(seconds) s")
        } catch is CancellationError {
            throw .unavailable("the request to \(shownEndpoint) was cancelled")
        } catch {
            throw .providerFailed(redact("\(error)"))
        }
        counters.record { $0.retries += max(0, attempts - 1) }
        let tokens = Self.tokenShares(total: parsed.promptTokens, inputs: inputs)
        return zip(parsed.vectors, tokens).map { vector, n in
            Embedding(vector: vector, tokenCount: n, untruncatedTokenCount: n, truncated: false)
        }
    }

    /// A failed attempt: the error it amounts to, and the wait the server asked for (kept as a
    /// `Duration`, and kept for a 503 too, whose `EmbeddingError` has no room for it).
    struct Attempt: Error {
        var error: EmbeddingError
        var retryAfter: Duration?
        /// False when the failure is ours (the call ran out of time before a request went out):
        /// nothing to retry, and nothing said about the service.
        var reachedService = true

        init(error: EmbeddingError, retryAfter: Duration? = nil, reachedService: Bool = true) {
            self.error = error
            self.retryAfter = retryAfter
            self.reachedService = reachedService
        }
    }

    /// What a failure means for retries and the breaker.
    static func classify(_ failure: any Error) -> FailureClass {
        guard let failure = failure as? Attempt, failure.reachedService else { return .permanent }
        switch failure.error {
        case .rateLimited: return .throttled(retryAfter: failure.retryAfter)
        case .unavailable: return FailureClass(retryable: true, unhealthy: true, retryAfter: failure.retryAfter)
        // Garbage in a 200 is worth one more look (a proxy hiccup), not a full round of retries.
        case .malformedResponse: return .unhealthy(attemptLimit: 2)
        default: return .permanent
        }
    }

    /// Whether retries already happened is the first thing to know about an outage.
    static func annotated(_ error: EmbeddingError, attempts: Int) -> EmbeddingError {
        guard attempts > 1 else { return error }
        switch error {
        case .unavailable(let m): return .unavailable("\(m) (gave up after \(attempts) attempts)")
        case .malformedResponse(let m): return .malformedResponse("\(m) (gave up after \(attempts) attempts)")
        case .rateLimited(let after, let m): return .rateLimited(retryAfter: after, "\(m) (gave up after \(attempts) attempts)")
        default: return error
        }
    }

    /// One attempt: a response, or the `EmbeddingError` it amounts to.
    private func send(_ body: Data, count: Int, deadline: ContinuousClock.Instant?) async throws(Attempt) -> ParsedResponse {
        var timeout = configuration.timeout
        if let deadline {
            let left = deadline - ContinuousClock.now
            guard left > .milliseconds(1) else {
                let total = Self.describe(configuration.totalTimeout ?? .zero)
                throw Attempt(error: .unavailable("\(shownEndpoint): out of time (total timeout \(total))"), reachedService: false)
            }
            timeout = min(timeout, left)
        }
        let response: HTTPClient.Response
        do {
            response = try await client.send(method: "POST", url: endpoint, headers: headers, body: body, timeout: timeout)
        } catch let error as HTTPClientError {
            switch error {
            case .timedOut:
                throw Attempt(error: .unavailable("no response from \(shownEndpoint) within \(Self.describe(timeout))"))
            case .connectionFailed(_, let reason):
                throw Attempt(error: .unavailable("cannot reach \(shownEndpoint): \(redact(reason))"))
            case .libraryMissing:
                throw Attempt(error: .configuration(error.description))
            }
        } catch {
            throw Attempt(error: .unavailable("cannot reach \(shownEndpoint): \(redact("\(error)"))"))
        }
        let status = response.status
        if (200..<300).contains(status) {
            do {
                return try Self.parse(response.body, count: count, dimension: dimension, model: configuration.requestModel)
            } catch {
                throw Attempt(error: .malformedResponse(redact(error.message)))
            }
        }
        let message = redact("HTTP \(status) from \(shownEndpoint): \(Self.serverMessage(response.body))")
        // 503s carry it too (a model still loading in TEI or Ollama), not only 429s.
        let retryAfter = RetryAfter.from(headers: response.headers)
        switch status {
        case 401, 403:
            throw Attempt(error: .unauthorized(message + "; check the API key"))
        case 429:
            throw Attempt(error: .rateLimited(retryAfter: retryAfter?.inSeconds, message), retryAfter: retryAfter)
        case 408, 500..<600:
            let asked = retryAfter.map { " (asked to retry in \(Int($0.inSeconds.rounded(.up))) s)" } ?? ""
            throw Attempt(error: .unavailable(message + asked), retryAfter: retryAfter)
        case 404:
            throw Attempt(error: .badRequest(message + " (check the base URL and the model name \"\(configuration.requestModel)\")"))
        case 400..<500:
            throw Attempt(error: .badRequest(message))
        default:
            throw Attempt(error: .providerFailed("unexpected " + message))
        }
    }

    /// Servers echo what they were sent, some of them the key itself in a 401's message.
    private func redact(_ message: String) -> String {
        guard let key = configuration.apiKey, key.count >= 4 else { return message }
        return message.replacing(key, with: "***")
    }

    // MARK: Wire format

    /// `{"model":...,"input":[...],"encoding_format":"float"[,"dimensions":d][,"task":...]}`.
    /// Floats rather than base64: every server speaks them, and they are what the checks read.
    func requestBody(_ inputs: [String], task: String?) -> Data {
        var w = JSONWriter(capacity: 64 + inputs.reduce(0) { $0 + $1.utf8.count + 4 })
        w.raw("{\"model\":")
        w.string(configuration.requestModel)
        w.raw(",\"input\":")
        w.strings(inputs)
        w.raw(",\"encoding_format\":\"float\"")
        if let d = configuration.requestedDimensions {
            w.raw(",\"dimensions\":")
            w.int(Int64(d))
        }
        if let task {
            w.raw(",\"task\":")
            w.string(task)
        }
        w.raw("}")
        return Data(w.bytes)
    }

    struct ParsedResponse: Sendable {
        /// In input order, L2-normalised.
        var vectors: [[Float]]
        var promptTokens: Int?
    }

    struct MalformedResponse: Error {
        var message: String
    }

    /// Reads a 200's body: `{"data":[{"index":i,"embedding":[...]}, ...],"usage":{...}}`. Items
    /// may come in any order (they are placed by `index`) and need not carry `"object"`; an item
    /// without `index` is taken to be in its position, as some servers omit it.
    static func parse(_ body: Data, count: Int, dimension: Int, model: String) throws(MalformedResponse) -> ParsedResponse {
        let root: JSONValue
        do {
            root = try JSONValue.parse(body)
        } catch {
            throw MalformedResponse(message: "the body is not JSON (\(error.reason) at byte \(error.offset)): \(snippet(body))")
        }
        guard let data = root["data"]?.arrayValue else {
            if root["error"] != nil { throw MalformedResponse(message: "HTTP 200 carrying an error: \(serverMessage(body))") }
            throw MalformedResponse(message: "no \"data\" array in the answer: \(snippet(body))")
        }
        guard data.count == count else {
            throw MalformedResponse(message: "expected \(count) embeddings, got \(data.count)")
        }
        var vectors = [[Float]?](repeating: nil, count: count)
        for (position, item) in data.enumerated() {
            let index: Int
            switch item["index"] {
            case nil: index = position
            case let value?:
                guard let i = value.intValue else { throw MalformedResponse(message: "item \(position) has a non-integer index") }
                index = i
            }
            guard (0..<count).contains(index) else {
                throw MalformedResponse(message: "index \(index) is out of range for \(count) inputs")
            }
            guard vectors[index] == nil else { throw MalformedResponse(message: "index \(index) appears twice") }
            guard let values = item["embedding"]?.arrayValue else {
                let why = item["embedding"]?.stringValue != nil ? " (a base64 string; floats were asked for)" : ""
                throw MalformedResponse(message: "embedding \(index) is not an array of numbers\(why)")
            }
            guard values.count == dimension else {
                throw MalformedResponse(message:
                    "embedding \(index) has \(values.count) dimensions, expected \(dimension) for \(model): the server "
                    + "runs another model or ignored the requested size; fix the model or EMBEDDING_DIMENSIONS")
            }
            var vector = [Float](repeating: 0, count: dimension)
            var sumSquares = 0.0
            for (j, v) in values.enumerated() {
                guard let d = v.doubleValue else {
                    throw MalformedResponse(message: "embedding \(index) holds a non-number at position \(j)")
                }
                let f = Float(d)
                guard f.isFinite else {
                    throw MalformedResponse(message: "embedding \(index) holds a non-finite value at position \(j)")
                }
                vector[j] = f
                sumSquares += Double(f) * Double(f)
            }
            let norm = sumSquares.squareRoot()
            guard norm > 0, norm.isFinite else {
                throw MalformedResponse(message: "embedding \(index) is all zeros")
            }
            let scale = Float(1 / norm)
            for j in vector.indices { vector[j] *= scale }
            vectors[index] = vector
        }
        // Count matched and no index repeated, so every slot is filled.
        return ParsedResponse(vectors: vectors.compactMap { $0 }, promptTokens: root["usage"]?["prompt_tokens"]?.intValue)
    }

    /// Each input's share of the batch's `prompt_tokens`, in proportion to its UTF-8 length, with
    /// the rounding remainders handed to the largest fractions so the shares add up to the total;
    /// without a total, about 4 bytes a token (at least 1).
    static func tokenShares(total: Int?, inputs: [String]) -> [Int] {
        let lengths = inputs.map { max(1, $0.utf8.count) }
        guard let total, total > 0 else { return lengths.map { max(1, ($0 + 3) / 4) } }
        let sum = lengths.reduce(0, +)
        let exact = lengths.map { Double(total) * Double($0) / Double(sum) }
        var shares = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { exact[$0] - Double(shares[$0]) > exact[$1] - Double(shares[$1]) }
        for k in order.prefix(max(0, total - shares.reduce(0, +))) { shares[k] += 1 }
        return shares
    }

    /// The message of an error body, in the shapes servers use: OpenAI's `{"error":{"message":
    /// ...,"type":...}}`, TEI's `{"error":"...","error_type":...}`, FastAPI's `{"detail":...}`,
    /// or the start of whatever text came back.
    static func serverMessage(_ body: Data) -> String {
        if let v = try? JSONValue.parse(body) {
            if let m = v["error"]?["message"]?.stringValue {
                let kind = v["error"]?["type"]?.stringValue ?? v["error"]?["code"]?.stringValue
                return clip(m + (kind.map { " (\($0))" } ?? ""))
            }
            if let m = v["error"]?.stringValue { return clip(m) }
            if let m = v["detail"]?.stringValue { return clip(m) }
            if let details = v["detail"]?.arrayValue {
                let msgs = details.compactMap { $0["msg"]?.stringValue }
                if !msgs.isEmpty { return clip(msgs.joined(separator: "; ")) }
            }
            if let m = v["message"]?.stringValue { return clip(m) }
        }
        return body.isEmpty ? "empty body" : snippet(body)
    }

    /// The start of a body, on one line: enough to recognise a proxy's HTML page or a stack trace.
    static func snippet(_ body: Data, limit: Int = 200) -> String {
        let text = String(decoding: body.prefix(limit * 4), as: UTF8.self)
        let flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 }.filter { !$0.isASCII || $0.asciiValue! >= 0x20 })
        return clip(flat, limit: limit)
    }

    static func clip(_ s: String, limit: Int = 500) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "..."
    }

    static func describe(_ d: Duration) -> String {
        let s = d.inSeconds
        return s >= 1 && s == s.rounded() ? "\(Int(s)) s" : "\(Int((s * 1000).rounded())) ms"
    }
}
