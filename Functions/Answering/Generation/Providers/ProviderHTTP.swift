import Foundation
import HTTPClient
import JSON
import Resilience

/// The HTTP exchange every provider shares: send, map transport failures and error statuses to
/// `ProviderFailure`, and keep the key out of every message.
struct ProviderHTTP: Sendable {
    let client: HTTPClient
    let configuration: ProviderConfiguration

    /// The URL as messages show it: no query (Gemini's `?key=`), no user info.
    static func display(_ url: String) -> String {
        var s = url
        if let q = s.firstIndex(of: "?") { s = String(s[..<q]) }
        if let scheme = s.range(of: "://"), let at = s[scheme.upperBound...].firstIndex(of: "@") {
            s = String(s[..<scheme.upperBound]) + s[s.index(after: at)...]
        }
        return s
    }

    func redact(_ message: String) -> String {
        guard let key = configuration.apiKey, key.count >= 4 else { return message }
        return message.replacing(key, with: "***")
    }

    /// POSTs `body`; a 2xx's body, or the failure the exchange amounts to.
    func post(_ url: String, headers: [String], body: [UInt8], timeout: Duration) async throws(ProviderFailure) -> Data {
        let shown = Self.display(url)
        var all = ["Content-Type: application/json", "Accept: application/json"] + headers
        for (k, v) in configuration.headers.sorted(by: { $0.key < $1.key }) { all.append("\(k): \(v)") }
        let response: HTTPClient.Response
        do {
            response = try await client.send(method: "POST", url: url, headers: all, body: Data(body), timeout: timeout)
        } catch let error as HTTPClientError {
            switch error {
            case .timedOut:
                throw ProviderFailure(.timedOut, "no response from \(shown) within \(Self.describe(timeout))")
            case .connectionFailed(_, let reason):
                throw ProviderFailure(.network, "cannot reach \(shown): \(redact(reason))")
            case .libraryMissing:
                throw ProviderFailure(.network, error.description)
            }
        } catch {
            throw ProviderFailure(.network, "cannot reach \(shown): \(redact("\(error)"))")
        }
        guard (200..<300).contains(response.status) else {
            throw Self.failure(status: response.status, headers: response.headers, body: response.body, url: shown, redact: redact)
        }
        return response.body
    }

    /// POSTs `body` asking for server-sent events and hands each event to `onEvent` as it
    /// arrives (false from it stops the transfer). Error statuses and transport failures map
    /// as in `post`; a stream that breaks off midway is a network failure, or a timeout.
    func postStream(_ url: String, headers: [String], body: [UInt8], timeout: Duration,
                    onEvent: (ServerSentEvents.Event) async throws(ProviderFailure) -> Bool) async throws(ProviderFailure) {
        let shown = Self.display(url)
        var all = ["Content-Type: application/json", "Accept: text/event-stream"] + headers
        for (k, v) in configuration.headers.sorted(by: { $0.key < $1.key }) { all.append("\(k): \(v)") }
        let response: HTTPClient.StreamedResponse
        do {
            response = try await client.openStream(method: "POST", url: url, headers: all, body: Data(body), timeout: timeout)
        } catch {
            throw transportFailure(error, url: shown, timeout: timeout)
        }
        guard (200..<300).contains(response.status) else {
            throw Self.failure(status: response.status, headers: response.headers, body: response.errorBody, url: shown, redact: redact)
        }
        var parser = ServerSentEvents()
        var pieces = response.body.makeAsyncIterator()
        while true {
            let piece: [UInt8]?
            do { piece = try await pieces.next() } catch { throw transportFailure(error, url: shown, timeout: timeout, midStream: true) }
            guard let piece else { break }
            for event in parser.feed(piece) {
                let go: Bool
                do { go = try await onEvent(event) } catch {
                    response.cancel()
                    throw error
                }
                if !go {
                    response.cancel()
                    return
                }
            }
        }
        // A cancelled task's stream ends early (the iterator returns nil): that is not an answer.
        if Task.isCancelled {
            response.cancel()
            throw ProviderFailure(.cancelled, "cancelled: the client went away")
        }
        if let last = parser.finish() { _ = try await onEvent(last) }
    }

    func transportFailure(_ error: any Error, url: String, timeout: Duration, midStream: Bool = false) -> ProviderFailure {
        let when = midStream ? " (mid-stream)" : ""
        if let e = error as? HTTPClientError {
            switch e {
            case .timedOut: return ProviderFailure(.timedOut, "no complete answer from \(url) within \(Self.describe(timeout))\(when)")
            case .connectionFailed(_, let reason): return ProviderFailure(.network, "cannot reach \(url)\(when): \(redact(reason))")
            case .libraryMissing: return ProviderFailure(.network, e.description)
            }
        }
        return ProviderFailure(.network, "cannot reach \(url)\(when): \(redact("\(error)"))")
    }

    /// An event's data as JSON, or a malformed-answer failure.
    static func eventJSON(_ event: ServerSentEvents.Event, from url: String) throws(ProviderFailure) -> JSONValue {
        do {
            return try JSONValue.parse(Array(event.data.utf8))
        } catch {
            throw ProviderFailure(.malformed, "an event from \(url) is not JSON: \(clip(event.data, limit: 120))")
        }
    }

    /// What an error status means. The body decides between cases that share a status: a 429
    /// for exhausted credit is billing, not a rate limit; a 400 may be a too-long prompt, a
    /// refused key (Gemini) or a safety refusal.
    static func failure(status: Int, headers: [String: String], body: Data, url: String, redact: (String) -> String) -> ProviderFailure {
        let (message, code) = errorMessage(body)
        let text = redact("HTTP \(status) from \(url): \(message)")
        let haystack = (message + " " + (code ?? "")).lowercased()
        // Gemini says how long in the body (`RetryInfo.retryDelay: "13s"`) rather than a header.
        let retryAfter = RetryAfter.from(headers: headers) ?? geminiRetryDelay(body)
        func mentions(_ words: [String]) -> Bool { words.contains { haystack.contains($0) } }
        let billingWords = ["insufficient_quota", "credit balance", "billing", "insufficient credits", "payment required",
                            "exceeded your current quota", "quota exceeded for"]
        let contextWords = ["context_length_exceeded", "context length", "maximum context", "prompt is too long",
                            "too many tokens", "exceeds the maximum number of tokens", "input token count", "context window",
                            "string_above_max_length", "reduce the length"]
        let filterWords = ["content_filter", "content_policy", "content management policy", "safety", "responsible ai",
                           "blocked", "prohibited_content"]
        let keyWords = ["api_key_invalid", "api key not valid", "invalid api key", "invalid x-api-key", "incorrect api key"]
        switch status {
        case 401, 403:
            return ProviderFailure(.unauthorized, text + "; check the API key", httpStatus: status)
        case 402:
            return ProviderFailure(.billing, text, httpStatus: status)
        case 429:
            // Only an explicit credit or quota exhaustion: Gemini words its per-minute limits
            // "exceeded your current quota ... billing details", and those pass in seconds.
            if mentions(["insufficient_quota", "credit balance", "insufficient credits", "payment required"]) {
                return ProviderFailure(.billing, text, httpStatus: status)
            }
            return ProviderFailure(.rateLimited, text, httpStatus: status, retryAfter: retryAfter)
        case 404:
            return ProviderFailure(.notFound, text + " (check the base URL and the model name)", httpStatus: status)
        case 413:
            return ProviderFailure(.contextLength, text, httpStatus: status)
        case 400, 422:
            if mentions(contextWords) { return ProviderFailure(.contextLength, text, httpStatus: status) }
            if mentions(keyWords) { return ProviderFailure(.unauthorized, text + "; check the API key", httpStatus: status) }
            if mentions(billingWords) { return ProviderFailure(.billing, text, httpStatus: status) }
            if mentions(filterWords) { return ProviderFailure(.contentFilter, text, httpStatus: status) }
            return ProviderFailure(.badRequest, text, httpStatus: status)
        case 408, 500..<600:
            return ProviderFailure(.serverError, text, httpStatus: status, retryAfter: retryAfter)
        default:
            return ProviderFailure(.badRequest, "unexpected " + text, httpStatus: status)
        }
    }

    static func geminiRetryDelay(_ body: Data) -> Duration? {
        guard let v = try? JSONValue.parse(body) else { return nil }
        for d in v["error"]?["details"]?.arrayValue ?? [] {
            if let s = d["retryDelay"]?.stringValue, s.hasSuffix("s"), let seconds = Double(s.dropLast()), seconds.isFinite, seconds >= 0 {
                return .seconds(seconds)
            }
        }
        return nil
    }

    /// The message and code of an error body in the shapes providers use: OpenAI's and
    /// Gemini's `{"error":{"message","type"|"code"|"status"}}`, Anthropic's
    /// `{"type":"error","error":{"type","message"}}`, `{"error":"..."}` (Ollama, vLLM), or
    /// the start of whatever came back.
    static func errorMessage(_ body: Data) -> (String, String?) {
        if let v = try? JSONValue.parse(body) {
            if let e = v["error"], let m = e["message"]?.stringValue {
                var codes: [String] = []
                for k in ["type", "code", "status"] {
                    if let s = e[k]?.stringValue { codes.append(s) } else if let n = e[k]?.intValue, k != "code" { codes.append(String(n)) }
                }
                // Gemini names a refused key in details[].reason.
                for d in e["details"]?.arrayValue ?? [] { if let r = d["reason"]?.stringValue { codes.append(r) } }
                return (clip(m + (codes.isEmpty ? "" : " (\(codes.joined(separator: ", ")))")), codes.joined(separator: " "))
            }
            if let m = v["error"]?.stringValue { return (clip(m), nil) }
            if let m = v["message"]?.stringValue { return (clip(m), nil) }
            if let m = v["detail"]?.stringValue { return (clip(m), nil) }
        }
        if body.isEmpty { return ("empty body", nil) }
        let text = String(decoding: body.prefix(800), as: UTF8.self)
        return (clip(String(text.map { $0.isNewline ? " " : $0 })), nil)
    }

    static func clip(_ s: String, limit: Int = 400) -> String {
        s.count <= limit ? s : String(s.prefix(limit)) + "..."
    }

    static func describe(_ d: Duration) -> String {
        let s = d.inSeconds
        return s >= 1 ? String(format: "%.1f s", s) : "\(Int((s * 1000).rounded())) ms"
    }

    /// Parses a 2xx body as JSON or fails as malformed.
    static func json(_ body: Data, from url: String) throws(ProviderFailure) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            let start = String(decoding: body.prefix(120), as: UTF8.self)
            throw ProviderFailure(.malformed, "the answer from \(url) is not JSON (\(error.reason) at byte \(error.offset)): \(start)")
        }
    }
}

extension JSONWriter {
    mutating func number(_ d: Double) {
        bytes.append(contentsOf: (d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : "0").utf8)
    }

    mutating func key(_ k: String) {
        string(k)
        bytes.append(0x3A)
    }

    mutating func comma() { bytes.append(0x2C) }
}
