import Foundation
import Logging
import Resilience
import Synchronization
import TestSupport
import Testing
@testable import Generation

/// The shipped templates: every test also checks that config/generation/prompts.yaml loads.
let templates = try! PromptTemplates.load(path: TestPaths.packageRoot + "/config/generation/prompts.yaml")

/// Small waits so the suite runs in seconds.
let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100), maxRetryAfter: .seconds(5))

func openAI(_ base: String, name: String = "openai", key: String? = "sk-test-openai-0123456789", model: String = "gpt-test",
            fallback: String? = nil, timeout: Duration = .seconds(10), retry: RetryPolicy = fastRetry) -> ProviderConfiguration {
    ProviderConfiguration(name: name, api: .openai, baseURL: base + "/v1", apiKey: key, primaryModel: model, fallbackModel: fallback,
                          timeout: timeout, retry: retry, inputCostPer1k: 0.5, outputCostPer1k: 1.5)
}

func anthropic(_ base: String, name: String = "claude", key: String? = "sk-ant-test-key-0123456789", model: String = "claude-test",
               timeout: Duration = .seconds(10), retry: RetryPolicy = fastRetry) -> ProviderConfiguration {
    ProviderConfiguration(name: name, api: .anthropic, baseURL: base + "/v1", apiKey: key, primaryModel: model, timeout: timeout,
                          retry: retry, inputCostPer1k: 3, outputCostPer1k: 15)
}

func gemini(_ base: String, name: String = "gemini", key: String? = "AIza-test-gemini-key", model: String = "gemini-test",
            keyInQuery: Bool = false, timeout: Duration = .seconds(10), retry: RetryPolicy = fastRetry) -> ProviderConfiguration {
    ProviderConfiguration(name: name, api: .gemini, baseURL: base + "/v1beta", apiKey: key, primaryModel: model, timeout: timeout,
                          retry: retry, keyInQuery: keyInQuery)
}

func settings(_ change: (inout GenerationSettings) -> Void = { _ in }) -> GenerationSettings {
    var s = GenerationSettings()
    s.deadlineReserve = .milliseconds(500)
    change(&s)
    return s
}

/// Collects the EMF lines a generator writes.
final class MetricLines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
}

func generator(_ providers: [ProviderConfiguration], settings s: GenerationSettings = settings(),
               retriever: any ContextRetriever = NoRetriever(), metrics: MetricLines = MetricLines()) throws -> Generator {
    try Generator(configuration: GenerationConfiguration(providers: providers, settings: s, templates: templates), retriever: retriever,
                  metrics: GenerationMetrics(sink: metrics.sink))
}

/// The context most tests answer from: a leave policy, an expense rule, an IT note.
let policyChunks: [ContextChunk] = [
    ContextChunk(chunkId: "c-leave", documentId: "d-hr", title: "Leave policy", page: 2,
                 content: "Employees get twelve days of paid annual leave each year. Unused leave expires in March.", relevance: 0.9),
    ContextChunk(chunkId: "c-expense", documentId: "d-fin", title: "Expense claims",
                 content: "Travel expenses are reimbursed within thirty days of submitting receipts.", relevance: 0.6),
    ContextChunk(chunkId: "c-it", documentId: "d-it", title: "IT help",
                 content: "To reset your password, open the self-service portal and verify your phone.", relevance: 0.4),
]

func ask(_ query: String = "How many days of annual leave do employees get?", chunks: [ContextChunk]? = policyChunks,
         preferred: String? = nil, language: Language? = .en, userContext: [String: String]? = nil) -> GenerateRequest {
    GenerateRequest(query: query, contextChunks: chunks, userContext: userContext, preferredProvider: preferred, language: language)
}

/// A deadline far enough away not to matter.
var later: ContinuousClock.Instant { .now + .seconds(120) }

func outcomes(_ r: GenerateResponse) -> [String] {
    r.responseMetadata.attempts.map { "\($0.provider):\($0.outcome)" }
}

/// Every `[n]` in the answer names a citation, and every citation a chunk that was given.
func citationsAreValid(_ r: GenerateResponse, given: [ContextChunk], sourceLocation: SourceLocation = #_sourceLocation) {
    let markers = Set(r.answer.matches(of: /\[(\d+)\]/).map { Int($0.1)! })
    #expect(markers == Set(r.citations.map(\.number)), "markers \(markers) vs citations \(r.citations.map(\.number))", sourceLocation: sourceLocation)
    for c in r.citations {
        #expect(c.number >= 1 && c.number <= given.count, sourceLocation: sourceLocation)
        #expect(given[c.number - 1].chunkId == c.chunkId, sourceLocation: sourceLocation)
        #expect(!c.usedContent.isEmpty, sourceLocation: sourceLocation)
    }
}

/// The tests that talk to fake servers, in parallel.
@Suite enum AgainstFakeProviders {}
