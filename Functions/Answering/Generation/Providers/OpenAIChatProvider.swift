import Foundation
import HTTPClient
import JSON

/// OpenAI's chat completions, which OpenAI, OpenRouter, xAI Grok, vLLM, Ollama, LM Studio and
/// llama.cpp's server all speak: `POST {base_url}/chat/completions` with `Authorization: Bearer`.
///
/// Request: `{"model","messages":[{"role":"system",...},{"role":"user",...}...],"max_tokens","temperature"}`.
/// Answer: `{"choices":[{"message":{"content"},"finish_reason"}],"usage":{"prompt_tokens","completion_tokens"},"model"}`.
package struct OpenAIChatProvider: LLMProvider {
    package let configuration: ProviderConfiguration
    private let http: ProviderHTTP

    package var name: String { configuration.name }

    package init(configuration: ProviderConfiguration, client: HTTPClient) {
        self.configuration = configuration
        http = ProviderHTTP(client: client, configuration: configuration)
    }

    package var endpoint: String { configuration.baseURL + "/chat/completions" }

    package func complete(_ request: LLMRequest, timeout: Duration) async throws(ProviderFailure) -> LLMCompletion {
        var headers: [String] = []
        if let key = configuration.apiKey { headers.append("Authorization: Bearer \(key)") }
        let body = try await http.post(endpoint, headers: headers, body: requestBody(request), timeout: timeout)
        return try Self.parse(body, url: ProviderHTTP.display(endpoint), requested: request.model)
    }

    /// The streaming form: `"stream": true` with `stream_options.include_usage`, answered with
    /// `data: {"choices":[{"delta":{"content"},"finish_reason"}]}` events, the usage in a last
    /// event with no choices, then `data: [DONE]`.
    package func stream(_ request: LLMRequest, timeout: Duration,
                        onDelta: @Sendable (String) async -> Bool) async throws(ProviderFailure) -> LLMCompletion {
        var headers: [String] = []
        if let key = configuration.apiKey { headers.append("Authorization: Bearer \(key)") }
        let url = ProviderHTTP.display(endpoint)
        var text = "", model = request.model, finish: String?, tokensIn: Int?, tokensOut: Int?, stopped = false
        try await http.postStream(endpoint, headers: headers, body: requestBody(request, stream: true), timeout: timeout) { event throws(ProviderFailure) in
            if event.data == "[DONE]" { return false }
            let v = try ProviderHTTP.eventJSON(event, from: url)
            if let e = v["error"], e != .null {
                throw ProviderFailure(.serverError, "an error event from \(url): \(ProviderHTTP.errorMessage(Data(event.data.utf8)).0)")
            }
            if let m = v["model"]?.stringValue, !m.isEmpty { model = m }
            if let usage = v["usage"], usage != .null {
                tokensIn = usage["prompt_tokens"]?.intValue ?? tokensIn
                tokensOut = usage["completion_tokens"]?.intValue ?? tokensOut
            }
            if let choice = v["choices"]?.arrayValue?.first {
                if let f = choice["finish_reason"]?.stringValue { finish = f }
                if let delta = choice["delta"]?["content"]?.stringValue, !delta.isEmpty {
                    text += delta
                    if !(await onDelta(delta)) {
                        stopped = true
                        return false
                    }
                }
            }
            return true
        }
        if stopped { throw ProviderFailure(.cancelled, "the client went away") }
        if finish == "content_filter" { throw ProviderFailure(.contentFilter, "\(url) withheld the answer (finish_reason content_filter)") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (finish_reason \(finish ?? "none"))")
        }
        return LLMCompletion(text: text, model: model, tokensIn: tokensIn, tokensOut: tokensOut, finishReason: finish)
    }

    func requestBody(_ r: LLMRequest, stream: Bool = false) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + r.system.utf8.count + r.messages.reduce(0) { $0 + $1.content.utf8.count + 32 })
        w.raw("{\"model\":"); w.string(r.model)
        w.raw(",\"messages\":[{\"role\":\"system\",\"content\":"); w.string(r.system); w.raw("}")
        for m in r.messages {
            w.raw(",{\"role\":"); w.string(m.role.rawValue); w.raw(",\"content\":"); w.string(m.content); w.raw("}")
        }
        w.raw("],"); w.key(configuration.maxTokensField); w.int(Int64(r.maxTokens))
        w.raw(",\"temperature\":"); w.number(r.temperature)
        w.raw(stream ? ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}" : ",\"stream\":false}")
        return w.bytes
    }

    static func parse(_ body: Data, url: String, requested: String) throws(ProviderFailure) -> LLMCompletion {
        let root = try ProviderHTTP.json(body, from: url)
        if let e = root["error"], e != .null {
            // Some compatible servers answer 200 with an error object.
            throw ProviderFailure(.malformed, "HTTP 200 carrying an error from \(url): \(ProviderHTTP.errorMessage(body).0)")
        }
        guard let choice = root["choices"]?.arrayValue?.first else {
            throw ProviderFailure(.malformed, "no choices in the answer from \(url)")
        }
        let finish = choice["finish_reason"]?.stringValue
        let text = choice["message"]?["content"]?.stringValue ?? ""
        if finish == "content_filter" {
            throw ProviderFailure(.contentFilter, "\(url) withheld the answer (finish_reason content_filter)")
        }
        if let refusal = choice["message"]?["refusal"]?.stringValue, !refusal.isEmpty, text.isEmpty {
            throw ProviderFailure(.contentFilter, "\(url) refused to answer")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (finish_reason \(finish ?? "none"))")
        }
        return LLMCompletion(text: text, model: root["model"]?.stringValue ?? requested,
                             tokensIn: root["usage"]?["prompt_tokens"]?.intValue,
                             tokensOut: root["usage"]?["completion_tokens"]?.intValue, finishReason: finish)
    }
}
