import HTTPClient

/// Builds the provider for a configuration's wire format.
package enum LLMProviders {
    package static func make(_ configuration: ProviderConfiguration, client: HTTPClient) -> any LLMProvider {
        switch configuration.api {
        case .openai: OpenAIChatProvider(configuration: configuration, client: client)
        case .anthropic: AnthropicProvider(configuration: configuration, client: client)
        case .gemini: GeminiProvider(configuration: configuration, client: client)
        }
    }
}
