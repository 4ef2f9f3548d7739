import Foundation
import HTTPClient
import JSON

/// Anthropic's Messages API: `POST {base_url}/messages` with `x-api-key` and
/// `anthropic-version`.
///
/// Request: `{"model","max_tokens","system","messages":[{"role":"user","content"}...],"temperature"}`;
/// the turns must alternate and start with the user's, so adjacent turns of one role are joined.
/// Answer: `{"content":[{"type":"text","text"}],"stop_reason","usage":{"input_tokens","output_tokens"},"model"}`.
package struct AnthropicProvider: LLMProvider {
    package let configuration: ProviderConfiguration
    private let http: ProviderHTTP

    package var name: String { configuration.name }

    package init(configuration: ProviderConfiguration, client: HTTPClient) {
        self.configuration = configuration
        http = ProviderHTTP(client: client, configuration: configuration)
    }

    package var endpoint: String { configuration.baseURL + "/messages" }

    package func complete(_ request: LLMRequest, timeout: Duration) async throws(ProviderFailure) -> LLMCompletion {
        var headers = ["anthropic-version: \(configuration.anthropicVersion)"]
        if let key = configuration.apiKey { headers.append("x-api-key: \(key)") }
        let body = try await http.post(endpoint, headers: headers, body: requestBody(request), timeout: timeout)
        return try Self.parse(body, url: ProviderHTTP.display(endpoint), requested: request.model)
    }

    /// The streaming form (`"stream": true`): `message_start` (model, input tokens),
    /// `content_block_delta` with `text_delta`s, `message_delta` (stop reason, output tokens),
    /// `message_stop`; an `error` event (`overloaded_error`...) can come at any point.
    package func stream(_ request: LLMRequest, timeout: Duration,
                        onDelta: @Sendable (String) async -> Bool) async throws(ProviderFailure) -> LLMCompletion {
        var headers = ["anthropic-version: \(configuration.anthropicVersion)"]
        if let key = configuration.apiKey { headers.append("x-api-key: \(key)") }
        let url = ProviderHTTP.display(endpoint)
        var text = "", model = request.model, stop: String?, tokensIn: Int?, tokensOut: Int?, stopped = false
        try await http.postStream(endpoint, headers: headers, body: requestBody(request, stream: true), timeout: timeout) { event throws(ProviderFailure) in
            let v = try ProviderHTTP.eventJSON(event, from: url)
            switch v["type"]?.stringValue ?? event.name ?? "" {
            case "message_start":
                if let m = v["message"]?["model"]?.stringValue { model = m }
                tokensIn = v["message"]?["usage"]?["input_tokens"]?.intValue ?? tokensIn
            case "content_block_delta":
                if v["delta"]?["type"]?.stringValue == "text_delta", let delta = v["delta"]?["text"]?.stringValue, !delta.isEmpty {
                    text += delta
                    if !(await onDelta(delta)) {
                        stopped = true
                        return false
                    }
                }
            case "message_delta":
                if let s = v["delta"]?["stop_reason"]?.stringValue { stop = s }
                tokensOut = v["usage"]?["output_tokens"]?.intValue ?? tokensOut
            case "message_stop":
                return false
            case "error":
                let type = v["error"]?["type"]?.stringValue ?? "error"
                let message = ProviderHTTP.clip(v["error"]?["message"]?.stringValue ?? event.data)
                let kind: ProviderFailure.Kind = type == "rate_limit_error" ? .rateLimited : type == "overloaded_error" || type == "api_error" ? .serverError : .badRequest
                throw ProviderFailure(kind, "an error event from \(url): \(message) (\(type))")
            default:
                break  // ping, content_block_start/stop
            }
            return true
        }
        if stopped { throw ProviderFailure(.cancelled, "the client went away") }
        if stop == "refusal" { throw ProviderFailure(.contentFilter, "\(url) refused to answer (stop_reason refusal)") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (stop_reason \(stop ?? "none"))")
        }
        return LLMCompletion(text: text, model: model, tokensIn: tokensIn, tokensOut: tokensOut, finishReason: stop)
    }

    /// Joins adjacent turns of one role and drops assistant turns before the first user turn.
    static func alternating(_ messages: [ChatMessage]) -> [ChatMessage] {
        var out: [ChatMessage] = []
        for m in messages {
            if out.isEmpty && m.role == .assistant { continue }
            if let last = out.last, last.role == m.role {
                out[out.count - 1].content += "\n\n" + m.content
            } else {
                out.append(m)
            }
        }
        return out
    }

    func requestBody(_ r: LLMRequest, stream: Bool = false) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + r.system.utf8.count + r.messages.reduce(0) { $0 + $1.content.utf8.count + 32 })
        w.raw("{\"model\":"); w.string(r.model)
        w.raw(",\"max_tokens\":"); w.int(Int64(r.maxTokens))
        w.raw(",\"system\":"); w.string(r.system)
        w.raw(",\"messages\":[")
        for (i, m) in Self.alternating(r.messages).enumerated() {
            if i > 0 { w.comma() }
            w.raw("{\"role\":"); w.string(m.role.rawValue); w.raw(",\"content\":"); w.string(m.content); w.raw("}")
        }
        w.raw("],\"temperature\":"); w.number(min(1, r.temperature))
        w.raw(stream ? ",\"stream\":true}" : "}")
        return w.bytes
    }

    static func parse(_ body: Data, url: String, requested: String) throws(ProviderFailure) -> LLMCompletion {
        let root = try ProviderHTTP.json(body, from: url)
        if root["type"]?.stringValue == "error" {
            throw ProviderFailure(.malformed, "HTTP 200 carrying an error from \(url): \(ProviderHTTP.errorMessage(body).0)")
        }
        let stop = root["stop_reason"]?.stringValue
        if stop == "refusal" { throw ProviderFailure(.contentFilter, "\(url) refused to answer (stop_reason refusal)") }
        guard let blocks = root["content"]?.arrayValue else {
            throw ProviderFailure(.malformed, "no content in the answer from \(url)")
        }
        let text = blocks.filter { $0["type"]?.stringValue == "text" }.compactMap { $0["text"]?.stringValue }.joined()
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (stop_reason \(stop ?? "none"))")
        }
        return LLMCompletion(text: text, model: root["model"]?.stringValue ?? requested,
                             tokensIn: root["usage"]?["input_tokens"]?.intValue,
                             tokensOut: root["usage"]?["output_tokens"]?.intValue, finishReason: stop)
    }
}
