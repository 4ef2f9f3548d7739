@_exported import LanguageDetection

/// `generation.yaml`: the behaviour around the providers. Every key is optional; the defaults
/// are these values (see config/generation/generation.yaml for the meaning of each).
package struct GenerationSettings: Sendable {
    package var defaultLanguage: Language = .vi

    // Prompting
    package var maxContextTokens = 3000
    package var maxOutputTokens = 1000
    package var temperature = 0.1
    package var maxHistoryTurns = 6
    package var maxHistoryTokens = 800

    // Retrieval when the caller passes no context
    package var retrievalLimit = 8
    package var retrievalMinScore: Double? = nil

    // Answer checks
    package var minAnswerCharacters = 10
    package var maxAnswerCharacters = 8000
    package var confidenceThreshold = 0.3
    package var citationRequired = true

    // Response cache
    package var cacheEnabled = true
    package var cacheTTL: Duration = .seconds(3600)
    package var cacheMaxEntries = 10_000

    // Time: the providers get until the invocation's deadline minus `deadlineReserve` (kept for
    // the fallback and the response), and never more than `maxTotal` in all.
    package var deadlineReserve: Duration = .milliseconds(1500)
    package var maxTotal: Duration = .seconds(25)
    /// Below this much time left an attempt is not started.
    package var minAttemptTime: Duration = .milliseconds(300)

    // Provider health, shared by the invocations of a warm process
    package var breakerFailureThreshold = 3
    package var breakerOpenDuration: Duration = .seconds(60)
    package var authCooldown: Duration = .seconds(300)
    package var billingCooldown: Duration = .seconds(900)

    // Extractive fallback
    package var extractiveMaxSentences = 3

    // Input limits (the seed's security section)
    package var limits = InputLimits()

    /// Extra output redaction patterns (regular expressions), beside the built-in ones.
    package var redactionPatterns: [String] = []

    package init() {}
}

/// The request sizes `POST /v1/generate` accepts.
package struct InputLimits: Sendable, Equatable {
    package var maxQueryCharacters = 2000
    package var maxContextChunks = 10
    package var maxChunkCharacters = 20_000
    /// All chunks' content together: beyond it, 413.
    package var maxContextCharacters = 60_000
    package var maxHistoryTurns = 20
    package var maxHistoryCharacters = 20_000
    package var maxOutputTokens = 4096

    package init() {}
}

