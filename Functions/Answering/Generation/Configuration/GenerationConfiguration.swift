import PrivacyGuard
import Foundation
import Resilience

/// Everything the generate function reads at init: the providers (in fallback order), the
/// settings and the templates.
package struct GenerationConfiguration: Sendable {
    package var providers: [ProviderConfiguration]
    package var settings: GenerationSettings
    package var templates: PromptTemplates
    /// `PII_POLICY`: what personal data in a prompt may do on its way to an external provider.
    package var piiPolicy: PIIPolicy = .local

    package init(providers: [ProviderConfiguration], settings: GenerationSettings = GenerationSettings(), templates: PromptTemplates) {
        self.providers = providers
        self.settings = settings
        self.templates = templates
    }

    /// The providers that take calls, in fallback order.
    package var enabledProviders: [ProviderConfiguration] { providers.filter(\.isEnabled) }

    package static func load(_ paths: GenerationConfigurationPaths, environment: [String: String]) throws(GenerationConfigurationError)
        -> GenerationConfiguration {
        let templates = try PromptTemplates.load(path: paths.prompts)
        let settings = try paths.settings.map { p throws(GenerationConfigurationError) in try GenerationSettingsFile.parse(try YAMLValue.load(p)) }
            ?? GenerationSettings()
        let providers = try ProvidersFile.parse(try YAMLValue.load(paths.providers), environment: environment)
        var c = GenerationConfiguration(providers: providers, settings: settings, templates: templates)
        do { c.piiPolicy = try PIIPolicy.fromEnvironment(environment) } catch {
            throw GenerationConfigurationError(file: "environment", field: "PII_POLICY", error.description)
        }
        return c
    }
}

/// Where the generation configuration lives: `GENERATION_PROVIDERS`, `GENERATION_SETTINGS`,
/// `GENERATION_PROMPTS`, else the files under `config/generation/` (relative to the working
/// directory: the repository locally, `/var/task` on Lambda, where infra/package.sh puts them).
package struct GenerationConfigurationPaths: Sendable, Equatable {
    package static let providersVariable = "GENERATION_PROVIDERS"
    package static let settingsVariable = "GENERATION_SETTINGS"
    package static let promptsVariable = "GENERATION_PROMPTS"
    package static let defaultProviders = "config/generation/providers.yaml"
    package static let defaultSettings = "config/generation/generation.yaml"
    package static let defaultPrompts = "config/generation/prompts.yaml"

    package var providers: String
    /// nil: the built-in defaults.
    package var settings: String?
    package var prompts: String

    package init(providers: String, settings: String?, prompts: String) {
        self.providers = providers
        self.settings = settings
        self.prompts = prompts
    }

    package static func fromEnvironment(_ environment: [String: String],
                                       fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> GenerationConfigurationPaths {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let settings: String?
        if let s = environment[settingsVariable] { settings = s.isEmpty ? nil : s }
        else { settings = fileExists(defaultSettings) ? defaultSettings : nil }
        return GenerationConfigurationPaths(providers: value(providersVariable) ?? defaultProviders, settings: settings,
                                            prompts: value(promptsVariable) ?? defaultPrompts)
    }
}

/// `providers.yaml`:
///
/// ```yaml
/// providers:                 # fallback order = file order (or `order:`)
///   openai:
///     api: openai            # openai | anthropic | gemini (the wire format)
///     enabled: true
///     api_key: ${OPENAI_API_KEY}
///     base_url: ${OPENAI_BASE_URL:-https://api.openai.com/v1}
///     models: { primary: gpt-4o-mini, fallback: gpt-4.1-mini }
///     timeout_ms: 20000
///     retry: { max_attempts: 3, base_delay_ms: 500, max_delay_ms: 4000, max_retry_after_ms: 10000 }
///     cost: { input_per_1k: 0.00015, output_per_1k: 0.0006 }
/// order: [openai, claude, gemini]   # optional
/// ```
enum ProvidersFile {
    static let providerKeys: Set<String> = ["api", "enabled", "api_key", "requires_key", "base_url", "models", "timeout_ms",
                                            "retry", "cost", "headers", "max_tokens_field", "key_in_query", "anthropic_version", "location"]

    static func parse(_ root: YAMLValue, environment: [String: String]) throws(GenerationConfigurationError) -> [ProviderConfiguration] {
        let top = try root.fields(allowed: ["providers", "order"])
        guard let list = top["providers"] else { throw root.error("`providers` is missing") }
        var providers: [ProviderConfiguration] = []
        for (name, value) in try list.entries() {
            providers.append(try provider(name: name, value, environment: environment))
        }
        if let orderField = top["order"] {
            let order = try orderField.strings()
            var ordered: [ProviderConfiguration] = []
            for n in order {
                guard let p = providers.first(where: { $0.name == n }) else { throw orderField.error("names no provider `\(n)`") }
                guard !ordered.contains(where: { $0.name == n }) else { throw orderField.error("names `\(n)` twice") }
                ordered.append(p)
            }
            // Providers the order leaves out keep their file order, after it.
            ordered += providers.filter { p in !order.contains(p.name) }
            providers = ordered
        }
        return providers
    }

    static func provider(name: String, _ value: YAMLValue, environment: [String: String]) throws(GenerationConfigurationError)
        -> ProviderConfiguration {
        let f = try value.fields(allowed: providerKeys)
        guard let apiField = f["api"] else { throw value.error("`api` is missing (openai, anthropic or gemini)") }
        guard let api = ProviderConfiguration.API(rawValue: try apiField.string()) else {
            throw apiField.error("must be openai, anthropic or gemini")
        }
        guard let modelsField = f["models"] else { throw value.error("`models` is missing ({primary: ..., fallback: ...})") }
        let models = try modelsField.fields(allowed: ["primary", "fallback"])
        guard let primaryField = models["primary"] else { throw modelsField.error("`primary` is missing") }
        let primary = try primaryField.substituted(environment)
        guard !primary.isEmpty else { throw primaryField.error("must not be empty") }
        let baseURL = try f["base_url"]?.substituted(environment) ?? defaultBaseURL(api)
        var c = ProviderConfiguration(
            name: name, api: api, baseURL: baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL,
            apiKey: try f["api_key"]?.substituted(environment), requiresKey: try f["requires_key"]?.bool() ?? true,
            enabledInFile: try f["enabled"].map { v throws(GenerationConfigurationError) in try v.substitutedBool(environment) } ?? true,
            primaryModel: primary,
            fallbackModel: try models["fallback"]?.substituted(environment))
        if let t = f["timeout_ms"] { c.timeout = .milliseconds(try t.int(in: 100...600_000)) }
        if let l = f["location"] {
            let v = try l.substituted(environment)
            guard ["private", "external", ""].contains(v) else { throw l.error("must be private or external") }
            c.declaredLocation = v.isEmpty ? nil : v
        }
        if let r = f["retry"] {
            let rf = try r.fields(allowed: ["max_attempts", "base_delay_ms", "max_delay_ms", "max_retry_after_ms"])
            var p = c.retry
            if let v = rf["max_attempts"] { p.maxAttempts = try v.int(in: 1...10) }
            if let v = rf["base_delay_ms"] { p.baseDelay = .milliseconds(try v.int(in: 0...60_000)) }
            if let v = rf["max_delay_ms"] { p.maxDelay = .milliseconds(try v.int(in: 0...120_000)) }
            if let v = rf["max_retry_after_ms"] { p.maxRetryAfter = .milliseconds(try v.int(in: 0...600_000)) }
            c.retry = p
        }
        if let cost = f["cost"] {
            let cf = try cost.fields(allowed: ["input_per_1k", "output_per_1k"])
            if let v = cf["input_per_1k"] { c.inputCostPer1k = try v.double(in: 0...1000) }
            if let v = cf["output_per_1k"] { c.outputCostPer1k = try v.double(in: 0...1000) }
        }
        if let h = f["headers"] {
            for (k, v) in try h.entries() {
                let s = try v.substituted(environment)
                if !s.isEmpty { c.headers[k] = s }
            }
        }
        if let v = f["max_tokens_field"] {
            let s = try v.string()
            guard ["max_tokens", "max_completion_tokens"].contains(s) else { throw v.error("must be max_tokens or max_completion_tokens") }
            c.maxTokensField = s
        }
        if let v = f["key_in_query"] { c.keyInQuery = try v.bool() }
        if let v = f["anthropic_version"] { c.anthropicVersion = try v.string() }
        return c
    }

    static func defaultBaseURL(_ api: ProviderConfiguration.API) -> String {
        switch api {
        case .openai: "https://api.openai.com/v1"
        case .anthropic: "https://api.anthropic.com/v1"
        case .gemini: "https://generativelanguage.googleapis.com/v1beta"
        }
    }
}

/// `generation.yaml` (see config/generation/generation.yaml).
enum GenerationSettingsFile {
    static func parse(_ root: YAMLValue) throws(GenerationConfigurationError) -> GenerationSettings {
        var s = GenerationSettings()
        let top = try root.fields(allowed: ["default_language", "prompt", "retrieval", "quality", "cache", "resilience",
                                            "extractive", "limits", "redaction"])
        if let v = top["default_language"] {
            guard let l = Language(rawValue: try v.string()) else { throw v.error("must be vi or en") }
            s.defaultLanguage = l
        }
        if let p = top["prompt"] {
            let f = try p.fields(allowed: ["max_context_tokens", "max_output_tokens", "temperature", "max_history_turns", "max_history_tokens"])
            if let v = f["max_context_tokens"] { s.maxContextTokens = try v.int(in: 100...1_000_000) }
            if let v = f["max_output_tokens"] { s.maxOutputTokens = try v.int(in: 1...100_000) }
            if let v = f["temperature"] { s.temperature = try v.double(in: 0...2) }
            if let v = f["max_history_turns"] { s.maxHistoryTurns = try v.int(in: 0...100) }
            if let v = f["max_history_tokens"] { s.maxHistoryTokens = try v.int(in: 0...100_000) }
        }
        if let r = top["retrieval"] {
            let f = try r.fields(allowed: ["limit", "min_score"])
            if let v = f["limit"] { s.retrievalLimit = try v.int(in: 1...50) }
            if let v = f["min_score"], !v.isNull { s.retrievalMinScore = try v.double(in: -1...1) }
        }
        if let q = top["quality"] {
            let f = try q.fields(allowed: ["min_answer_length", "max_answer_length", "confidence_threshold", "citation_required"])
            if let v = f["min_answer_length"] { s.minAnswerCharacters = try v.int(in: 0...100_000) }
            if let v = f["max_answer_length"] { s.maxAnswerCharacters = try v.int(in: 1...1_000_000) }
            if let v = f["confidence_threshold"] { s.confidenceThreshold = try v.double(in: 0...1) }
            if let v = f["citation_required"] { s.citationRequired = try v.bool() }
        }
        if let c = top["cache"] {
            let f = try c.fields(allowed: ["enabled", "ttl_seconds", "max_entries"])
            if let v = f["enabled"] { s.cacheEnabled = try v.bool() }
            if let v = f["ttl_seconds"] { s.cacheTTL = .seconds(try v.int(in: 0...604_800)) }
            if let v = f["max_entries"] { s.cacheMaxEntries = try v.int(in: 0...1_000_000) }
        }
        if let r = top["resilience"] {
            let f = try r.fields(allowed: ["deadline_reserve_ms", "max_total_ms", "min_attempt_ms", "breaker_failure_threshold",
                                           "breaker_open_seconds", "auth_cooldown_seconds", "billing_cooldown_seconds"])
            if let v = f["deadline_reserve_ms"] { s.deadlineReserve = .milliseconds(try v.int(in: 0...60_000)) }
            if let v = f["max_total_ms"] { s.maxTotal = .milliseconds(try v.int(in: 100...900_000)) }
            if let v = f["min_attempt_ms"] { s.minAttemptTime = .milliseconds(try v.int(in: 0...60_000)) }
            if let v = f["breaker_failure_threshold"] { s.breakerFailureThreshold = try v.int(in: 1...100) }
            if let v = f["breaker_open_seconds"] { s.breakerOpenDuration = .seconds(try v.int(in: 0...86_400)) }
            if let v = f["auth_cooldown_seconds"] { s.authCooldown = .seconds(try v.int(in: 0...86_400)) }
            if let v = f["billing_cooldown_seconds"] { s.billingCooldown = .seconds(try v.int(in: 0...86_400)) }
        }
        if let e = top["extractive"] {
            let f = try e.fields(allowed: ["max_sentences"])
            if let v = f["max_sentences"] { s.extractiveMaxSentences = try v.int(in: 1...20) }
        }
        if let l = top["limits"] {
            let f = try l.fields(allowed: ["max_query_characters", "max_context_chunks", "max_chunk_characters",
                                           "max_context_characters", "max_history_turns", "max_history_characters", "max_output_tokens"])
            if let v = f["max_query_characters"] { s.limits.maxQueryCharacters = try v.int(in: 1...100_000) }
            if let v = f["max_context_chunks"] { s.limits.maxContextChunks = try v.int(in: 1...100) }
            if let v = f["max_chunk_characters"] { s.limits.maxChunkCharacters = try v.int(in: 1...1_000_000) }
            if let v = f["max_context_characters"] { s.limits.maxContextCharacters = try v.int(in: 1...5_000_000) }
            if let v = f["max_history_turns"] { s.limits.maxHistoryTurns = try v.int(in: 0...1000) }
            if let v = f["max_history_characters"] { s.limits.maxHistoryCharacters = try v.int(in: 0...5_000_000) }
            if let v = f["max_output_tokens"] { s.limits.maxOutputTokens = try v.int(in: 1...1_000_000) }
        }
        if let r = top["redaction"] {
            let f = try r.fields(allowed: ["patterns"])
            if let v = f["patterns"] {
                let patterns = try v.strings()
                for p in patterns where (try? NSRegularExpression(pattern: p)) == nil {
                    throw v.error("`\(p)` is not a valid regular expression")
                }
                s.redactionPatterns = patterns
            }
        }
        return s
    }
}
