@_exported import LanguageDetection

/// `generation.yaml`: the behaviour around the providers. Every key is optional; the defaults
/// are these values (see config/generation/generation.yaml for the meaning of each).
public struct GenerationSettings: Sendable {
    public var defaultLanguage: Language = .vi

    // Prompting
    public var maxContextTokens = 3000
    public var maxOutputTokens = 1000
    public var temperature = 0.1
    public var maxHistoryTurns = 6
    public var maxHistoryTokens = 800

    // Retrieval when the caller passes no context
    public var retrievalLimit = 8
    public var retrievalMinScore: Double? = nil

    // Answer checks
    public var minAnswerCharacters = 10
    public var maxAnswerCharacters = 8000
    public var confidenceThreshold = 0.3
    public var citationRequired = true

    // Response cache
    public var cacheEnabled = true
    public var cacheTTL: Duration = .seconds(3600)
    public var cacheMaxEntries = 10_000

    // Time: the providers get until the invocation's deadline minus `deadlineReserve` (kept for
    // the fallback and the response), and never more than `maxTotal` in all.
    public var deadlineReserve: Duration = .milliseconds(1500)
    public var maxTotal: Duration = .seconds(25)
    /// Below this much time left an attempt is not started.
    public var minAttemptTime: Duration = .milliseconds(300)

    // Provider health, shared by the invocations of a warm process
    public var breakerFailureThreshold = 3
    public var breakerOpenDuration: Duration = .seconds(60)
    public var authCooldown: Duration = .seconds(300)
    public var billingCooldown: Duration = .seconds(900)

    // Extractive fallback
    public var extractiveMaxSentences = 3

    // Input limits (the seed's security section)
    public var limits = InputLimits()

    /// Extra output redaction patterns (regular expressions), beside the built-in ones.
    public var redactionPatterns: [String] = []

    public init() {}
}

/// The request sizes `POST /v1/generate` accepts.
public struct InputLimits: Sendable, Equatable {
    public var maxQueryCharacters = 2000
    public var maxContextChunks = 10
    public var maxChunkCharacters = 20_000
    /// All chunks' content together: beyond it, 413.
    public var maxContextCharacters = 60_000
    public var maxHistoryTurns = 20
    public var maxHistoryCharacters = 20_000
    public var maxOutputTokens = 4096

    public init() {}
}

