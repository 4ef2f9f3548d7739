import Foundation
import HTTPClient
import JSON

/// Google's Gemini API: `POST {base_url}/models/{model}:generateContent` with `x-goog-api-key`
/// (or `?key=` when `key_in_query` is set).
///
/// Request: `{"systemInstruction":{"parts":[{"text"}]},"contents":[{"role":"user"|"model","parts":[{"text"}]}],
/// "generationConfig":{"maxOutputTokens","temperature"}}`.
/// Answer: `{"candidates":[{"content":{"parts":[{"text"}]},"finishReason"}],"usageMetadata":{"promptTokenCount",
/// "candidatesTokenCount"},"modelVersion"}`; a blocked prompt has no candidates and a `promptFeedback.blockReason`.
package struct GeminiProvider: LLMProvider {
    package let configuration: ProviderConfiguration
    private let http: ProviderHTTP

    package var name: String { configuration.name }

    package init(configuration: ProviderConfiguration, client: HTTPClient) {
        self.configuration = configuration
        http = ProviderHTTP(client: client, configuration: configuration)
    }

    package func endpoint(model: String, stream: Bool = false) -> String {
        let path = model.hasPrefix("models/") ? model : "models/\(model)"
        var url = configuration.baseURL + "/" + path + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent")
        if configuration.keyInQuery, let key = configuration.apiKey {
            url += (stream ? "&" : "?") + "key=" + (key.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? key)
        }
        return url
    }

    /// The streaming form, `:streamGenerateContent?alt=sse`: each event is a
    /// `GenerateContentResponse` holding the next piece of text; the last carries the finish
    /// reason and the usage.
    package func stream(_ request: LLMRequest, timeout: Duration,
                        onDelta: @Sendable (String) async -> Bool) async throws(ProviderFailure) -> LLMCompletion {
        var headers: [String] = []
        if !configuration.keyInQuery, let key = configuration.apiKey { headers.append("x-goog-api-key: \(key)") }
        let target = endpoint(model: request.model, stream: true)
        let url = ProviderHTTP.display(target)
        var text = "", model = request.model, finish: String?, tokensIn: Int?, tokensOut: Int?, stopped = false
        try await http.postStream(target, headers: headers, body: requestBody(request), timeout: timeout) { event throws(ProviderFailure) in
            let v = try ProviderHTTP.eventJSON(event, from: url)
            if let e = v["error"], e != .null {
                throw ProviderFailure(.serverError, "an error event from \(url): \(ProviderHTTP.errorMessage(Data(event.data.utf8)).0)")
            }
            if let reason = v["promptFeedback"]?["blockReason"]?.stringValue {
                throw ProviderFailure(.contentFilter, "\(url) blocked the prompt (\(reason))")
            }
            if let m = v["modelVersion"]?.stringValue { model = m }
            if let usage = v["usageMetadata"] {
                tokensIn = usage["promptTokenCount"]?.intValue ?? tokensIn
                tokensOut = usage["candidatesTokenCount"]?.intValue ?? tokensOut
            }
            if let candidate = v["candidates"]?.arrayValue?.first {
                if let f = candidate["finishReason"]?.stringValue { finish = f }
                let delta = (candidate["content"]?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
                if !delta.isEmpty {
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
        if let finish, Self.refusals.contains(finish), text.isEmpty {
            throw ProviderFailure(.contentFilter, "\(url) withheld the answer (finishReason \(finish))")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (finishReason \(finish ?? "none"))")
        }
        return LLMCompletion(text: text, model: model, tokensIn: tokensIn, tokensOut: tokensOut, finishReason: finish)
    }

    package func complete(_ request: LLMRequest, timeout: Duration) async throws(ProviderFailure) -> LLMCompletion {
        var headers: [String] = []
        if !configuration.keyInQuery, let key = configuration.apiKey { headers.append("x-goog-api-key: \(key)") }
        let url = endpoint(model: request.model)
        let body = try await http.post(url, headers: headers, body: requestBody(request), timeout: timeout)
        return try Self.parse(body, url: ProviderHTTP.display(url), requested: request.model)
    }

    func requestBody(_ r: LLMRequest) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + r.system.utf8.count + r.messages.reduce(0) { $0 + $1.content.utf8.count + 48 })
        w.raw("{\"systemInstruction\":{\"parts\":[{\"text\":"); w.string(r.system); w.raw("}]}")
        w.raw(",\"contents\":[")
        for (i, m) in AnthropicProvider.alternating(r.messages).enumerated() {
            if i > 0 { w.comma() }
            w.raw("{\"role\":"); w.string(m.role == .user ? "user" : "model")
            w.raw(",\"parts\":[{\"text\":"); w.string(m.content); w.raw("}]}")
        }
        w.raw("],\"generationConfig\":{\"maxOutputTokens\":"); w.int(Int64(r.maxTokens))
        w.raw(",\"temperature\":"); w.number(r.temperature)
        w.raw("}}")
        return w.bytes
    }

    static let refusals: Set<String> = ["SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"]

    static func parse(_ body: Data, url: String, requested: String) throws(ProviderFailure) -> LLMCompletion {
        let root = try ProviderHTTP.json(body, from: url)
        if let reason = root["promptFeedback"]?["blockReason"]?.stringValue {
            throw ProviderFailure(.contentFilter, "\(url) blocked the prompt (\(reason))")
        }
        guard let candidate = root["candidates"]?.arrayValue?.first else {
            throw ProviderFailure(.malformed, "no candidates in the answer from \(url)")
        }
        let finish = candidate["finishReason"]?.stringValue
        let text = (candidate["content"]?["parts"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined()
        if let finish, refusals.contains(finish), text.isEmpty {
            throw ProviderFailure(.contentFilter, "\(url) withheld the answer (finishReason \(finish))")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderFailure(.malformed, "an empty answer from \(url) (finishReason \(finish ?? "none"))")
        }
        let usage = root["usageMetadata"]
        return LLMCompletion(text: text, model: root["modelVersion"]?.stringValue ?? requested,
                             tokensIn: usage?["promptTokenCount"]?.intValue, tokensOut: usage?["candidatesTokenCount"]?.intValue,
                             finishReason: finish)
    }
}
