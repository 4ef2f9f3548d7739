import Foundation
import TestSupport
import Testing
@testable import Generation

@Suite struct ConfigurationTests {
    let root = TestPaths.packageRoot + "/config/generation"

    @Test func theShippedFilesLoadAndEveryProviderIsOffWithoutKeys() throws {
        let paths = GenerationConfigurationPaths(providers: root + "/providers.yaml", settings: root + "/generation.yaml",
                                                 prompts: root + "/prompts.yaml")
        let c = try GenerationConfiguration.load(paths, environment: [:])
        #expect(c.providers.map(\.name) == ["openai", "claude", "gemini", "openrouter", "grok", "local"])
        #expect(c.enabledProviders.isEmpty)
        #expect(c.providers.first { $0.name == "local" }?.disabledReason == "no base_url")
        #expect(c.providers.first { $0.name == "openai" }?.disabledReason == "no API key")
        // The file's values are the built-in defaults.
        let d = GenerationSettings()
        #expect(c.settings.maxContextTokens == d.maxContextTokens && c.settings.limits == d.limits)
        #expect(c.settings.cacheTTL == d.cacheTTL && c.settings.breakerFailureThreshold == d.breakerFailureThreshold)
    }

    @Test func keysAndURLsComeFromTheEnvironment() throws {
        let paths = GenerationConfigurationPaths(providers: root + "/providers.yaml", settings: nil, prompts: root + "/prompts.yaml")
        let c = try GenerationConfiguration.load(paths, environment: [
            "OPENAI_API_KEY": "sk-live", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/", "CLAUDE_API_KEY": "ant-key",
            "LOCAL_LLM_BASE_URL": "http://127.0.0.1:11434/v1", "GEMINI_MODEL": "gemini-pro-test",
        ])
        let openai = try #require(c.providers.first { $0.name == "openai" })
        #expect(openai.isEnabled && openai.apiKey == "sk-live")
        #expect(openai.baseURL == "http://127.0.0.1:9/v1")
        #expect(openai.models == ["gpt-4o-mini", "gpt-4.1-nano"])
        // ${ANTHROPIC_API_KEY:-${CLAUDE_API_KEY}}: the seed's variable name works too.
        #expect(c.providers.first { $0.name == "claude" }?.apiKey == "ant-key")
        #expect(c.providers.first { $0.name == "gemini" }?.primaryModel == "gemini-pro-test")
        #expect(c.providers.first { $0.name == "gemini" }?.isEnabled == false)
        let local = try #require(c.providers.first { $0.name == "local" })
        #expect(local.isEnabled && local.apiKey == nil)
        #expect(c.enabledProviders.map(\.name) == ["openai", "claude", "local"])
    }

    @Test func orderAndErrorsNameTheField() throws {
        let yaml = """
        providers:
          a: { api: openai, api_key: k, models: { primary: m } }
          b: { api: gemini, api_key: k, models: { primary: g }, key_in_query: true, timeout_ms: 1500,
               retry: { max_attempts: 2 }, cost: { input_per_1k: 0.1, output_per_1k: 0.2 } }
        order: [b]
        """
        let providers = try ProvidersFile.parse(try YAMLValue.root(yaml: yaml, file: "p.yaml"), environment: [:])
        #expect(providers.map(\.name) == ["b", "a"])
        #expect(providers[0].keyInQuery && providers[0].timeout == .milliseconds(1500) && providers[0].retry.maxAttempts == 2)
        #expect(providers[0].baseURL == "https://generativelanguage.googleapis.com/v1beta")
        #expect(abs(providers[0].cost(tokensIn: 1000, tokensOut: 2000) - 0.5) < 1e-12)

        func failure(_ yaml: String) -> String {
            do {
                _ = try ProvidersFile.parse(try YAMLValue.root(yaml: yaml, file: "p.yaml"), environment: [:])
                return "no error"
            } catch { return error.description }
        }
        let toggled = "providers:\n  a: { api: openai, api_key: k, enabled: \"${USE_A:-false}\", models: { primary: m } }"
        #expect(try ProvidersFile.parse(try YAMLValue.root(yaml: toggled, file: "p.yaml"), environment: [:])[0].isEnabled == false)
        #expect(try ProvidersFile.parse(try YAMLValue.root(yaml: toggled, file: "p.yaml"), environment: ["USE_A": "true"])[0].isEnabled)
        #expect(failure("providers:\n  a: { api: cohere, models: { primary: m } }").contains("`providers.a.api`: must be openai, anthropic or gemini"))
        #expect(failure("providers:\n  a: { api: openai, model: m }").contains("`providers.a.model`: unknown field"))
        #expect(failure("providers:\n  a: { api: openai, models: { primary: m }, timeout_ms: 5 }").contains("`providers.a.timeout_ms`: must be 100"))
        #expect(failure("providers:\n  a: { api: openai, api_key: \"${OOPS\", models: { primary: m } }").contains("unclosed"))
        #expect(failure("providers:\n  a: { api: openai, models: { primary: m } }\norder: [z]").contains("names no provider `z`"))
    }

    @Test func settingsFileErrorsAndValues() throws {
        let s = try GenerationSettingsFile.parse(try YAMLValue.root(yaml: """
        default_language: en
        prompt: { max_context_tokens: 500 }
        resilience: { max_total_ms: 9000, auth_cooldown_seconds: 10 }
        limits: { max_context_chunks: 4 }
        redaction: { patterns: ["EMP-\\\\d+"] }
        """, file: "g.yaml"))
        #expect(s.defaultLanguage == .en && s.maxContextTokens == 500 && s.maxTotal == .seconds(9) && s.authCooldown == .seconds(10))
        #expect(s.limits.maxContextChunks == 4 && s.redactionPatterns == [#"EMP-\d+"#])
        #expect(throws: GenerationConfigurationError.self) {
            try GenerationSettingsFile.parse(try YAMLValue.root(yaml: "quality: { confidence_threshold: 3 }", file: "g.yaml"))
        }
        #expect(throws: GenerationConfigurationError.self) {
            try GenerationSettingsFile.parse(try YAMLValue.root(yaml: "redaction: { patterns: [\"(unclosed\"] }", file: "g.yaml"))
        }
    }

    @Test func templatesMustKeepTheirPlaceholders() throws {
        var text = try String(contentsOfFile: root + "/prompts.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "QUESTION: {query}", with: "QUESTION:")
        #expect {
            _ = try PromptTemplates.parse(yaml: text)
        } throws: { error in
            "\(error)".contains("`user.en`: must contain {query}")
        }
    }

    @Test func renderingIsOnePass() {
        let out = PromptTemplates.render("Q: {query}\nC: {context}", ["query": "what is {context}?", "context": "[1] text"])
        #expect(out == "Q: what is {context}?\nC: [1] text")
    }

    @Test func pathsFromEnvironment() {
        let d = GenerationConfigurationPaths.fromEnvironment([:], fileExists: { _ in true })
        #expect(d.providers == "config/generation/providers.yaml" && d.settings == "config/generation/generation.yaml")
        let e = GenerationConfigurationPaths.fromEnvironment(["GENERATION_PROVIDERS": "/x/p.yaml", "GENERATION_SETTINGS": ""],
                                                             fileExists: { _ in true })
        #expect(e.providers == "/x/p.yaml" && e.settings == nil)
    }
}
