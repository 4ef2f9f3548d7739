/// One chat turn sent to a model.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// What every provider is asked: a system prompt, the turns (the last one the user's), limits.
public struct LLMRequest: Sendable, Equatable {
    public var model: String
    public var system: String
    public var messages: [ChatMessage]
    public var maxTokens: Int
    public var temperature: Double

    public init(model: String, system: String, messages: [ChatMessage], maxTokens: Int, temperature: Double) {
        self.model = model
        self.system = system
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}

/// A model's answer and the usage it reported (nil when the server reported none).
public struct LLMCompletion: Sendable, Equatable {
    public var text: String
    public var model: String
    public var tokensIn: Int?
    public var tokensOut: Int?
    /// The provider's own word for why it stopped (`stop`, `end_turn`, `STOP`, `length`...).
    public var finishReason: String?

    public init(text: String, model: String, tokensIn: Int? = nil, tokensOut: Int? = nil, finishReason: String? = nil) {
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
public protocol LLMProvider: Sendable {
    /// The configured name (`openai`, `claude`, `local`...), as `attempts[]` and metrics show it.
    var name: String { get }
    var configuration: ProviderConfiguration { get }
    /// One HTTP exchange, no retries. Throws `ProviderFailure` for every way it can go wrong.
    func complete(_ request: LLMRequest, timeout: Duration) async throws(ProviderFailure) -> LLMCompletion
}
