/// One chat turn sent to a model.
package struct ChatMessage: Sendable, Equatable {
    package enum Role: String, Sendable { case user, assistant }
    package var role: Role
    package var content: String

    package init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// What every provider is asked: a system prompt, the turns (the last one the user's), limits.
package struct LLMRequest: Sendable, Equatable {
    package var model: String
    package var system: String
    package var messages: [ChatMessage]
    package var maxTokens: Int
    package var temperature: Double

    package init(model: String, system: String, messages: [ChatMessage], maxTokens: Int, temperature: Double) {
        self.model = model
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}

/// A model's answer and the usage it reported (nil when the server reported none).
package struct LLMCompletion: Sendable, Equatable {
    package var text: String
    package var model: String
    package var tokensIn: Int?
    package var tokensOut: Int?
    /// The provider's own word for why it stopped (`stop`, `end_turn`, `STOP`, `length`...).
    package var finishReason: String?

    package init(text: String, model: String, tokensIn: Int? = nil, tokensOut: Int? = nil, finishReason: String? = nil) {
        self.text = text
        self.model = model
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.finishReason = finishReason
    }
}

/// A chat model behind HTTP. One implementation per wire format (OpenAI-compatible chat
/// completions, Anthropic Messages, Gemini generateContent); retries, cooldowns and the fallback
/// chain live outside, in `ProviderCall` and `Generator`, so every provider fails the same way.
package protocol LLMProvider: Sendable {
    /// The configured name (`openai`, `claude`, `local`...), as `attempts[]` and metrics show it.
    var name: String { get }
    var configuration: ProviderConfiguration { get }
    /// One HTTP exchange, no retries. Throws `ProviderFailure` for every way it can go wrong.
    func complete(_ request: LLMRequest, timeout: Duration) async throws(ProviderFailure) -> LLMCompletion
    /// The same exchange in the API's streaming form: `onDelta` gets the answer's text as it
    /// arrives (false from it stops the call: `ProviderFailure.Kind.cancelled`); the whole
    /// completion is returned at the end, with the usage the stream reported.
    func stream(_ request: LLMRequest, timeout: Duration,
                onDelta: @Sendable (String) async -> Bool) async throws(ProviderFailure) -> LLMCompletion
}

extension LLMProvider {
    /// For a provider without a streaming form: the whole answer as one delta.
    package func stream(_ request: LLMRequest, timeout: Duration,
                        onDelta: @Sendable (String) async -> Bool) async throws(ProviderFailure) -> LLMCompletion {
        let completion = try await complete(request, timeout: timeout)
        guard await onDelta(completion.text) else { throw ProviderFailure(.cancelled, "the client went away") }
        return completion
    }
}
