import PrivacyGuard
import Resilience

/// One LLM provider from `providers.yaml`, its `${VAR}` references already substituted.
package struct ProviderConfiguration: Sendable {
    /// The wire format.
    package enum API: String, Sendable, CaseIterable {
        /// `POST {base_url}/chat/completions`: OpenAI, OpenRouter, xAI Grok, vLLM, Ollama, LM Studio...
        case openai
        /// `POST {base_url}/messages` with `x-api-key` and `anthropic-version`.
        case anthropic
        /// `POST {base_url}/models/{model}:generateContent` with `x-goog-api-key`.
        case gemini
    }

    package var name: String
    package var api: API
    /// Switched off in the file (`enabled: false`).
    package var enabledInFile: Bool
    package var baseURL: String
    /// nil when the variable it names is unset or empty.
    package var apiKey: String?
    /// Local servers (Ollama, vLLM) take no key; cloud ones are disabled without one.
    package var requiresKey: Bool
    package var primaryModel: String
    package var fallbackModel: String?
    package var timeout: Duration
    package var retry: RetryPolicy
    /// USD per 1,000 tokens.
    package var inputCostPer1k: Double
    package var outputCostPer1k: Double
    /// Extra headers (OpenRouter's `HTTP-Referer`, `X-Title`).
    package var headers: [String: String]
    /// OpenAI's newer models take `max_completion_tokens`; most compatible servers `max_tokens`.
    package var maxTokensField: String
    /// Gemini: send the key as `?key=` instead of the `x-goog-api-key` header.
    package var keyInQuery: Bool
    package var anthropicVersion: String
    /// `location` in the file (`private` or `external`), else what `baseURL`'s address says:
    /// the PII guard keeps personal data from external providers (`PII_POLICY`).
    package var declaredLocation: String?
    package var location: ProviderLocation { ProviderLocation.of(url: baseURL, declared: declaredLocation) }

    package init(name: String, api: API, baseURL: String, apiKey: String?, requiresKey: Bool = true, enabledInFile: Bool = true,
                primaryModel: String, fallbackModel: String? = nil, timeout: Duration = .seconds(20),
                retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(500), maxDelay: .seconds(4), maxRetryAfter: .seconds(10)),
                inputCostPer1k: Double = 0, outputCostPer1k: Double = 0, headers: [String: String] = [:],
                maxTokensField: String = "max_tokens", keyInQuery: Bool = false, anthropicVersion: String = "2023-06-01") {
        self.name = name
        self.api = api
        self.baseURL = baseURL
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.requiresKey = requiresKey
        self.enabledInFile = enabledInFile
        self.primaryModel = primaryModel
        self.fallbackModel = fallbackModel.flatMap { $0.isEmpty || $0 == primaryModel ? nil : $0 }
        self.timeout = timeout
        self.retry = retry
        self.inputCostPer1k = inputCostPer1k
        self.outputCostPer1k = outputCostPer1k
        self.headers = headers
        self.maxTokensField = maxTokensField
        self.keyInQuery = keyInQuery
        self.anthropicVersion = anthropicVersion
    }

    /// Why the provider takes no calls, or nil when it does. A missing key disables, never fails:
    /// a deployment configures the providers it pays for and the rest stay quiet.
    package var disabledReason: String? {
        if !enabledInFile { return "enabled: false" }
        if baseURL.isEmpty { return "no base_url" }
        if requiresKey && apiKey == nil { return "no API key" }
        return nil
    }

    package var isEnabled: Bool { disabledReason == nil }

    package var models: [String] { [primaryModel] + (fallbackModel.map { [$0] } ?? []) }

    package func cost(tokensIn: Int, tokensOut: Int) -> Double {
        Double(tokensIn) / 1000 * inputCostPer1k + Double(tokensOut) / 1000 * outputCostPer1k
    }
}
