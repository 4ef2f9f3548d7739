import DocumentStore
import Foundation
import PrivacyGuard
import HTTPClient
import Ingestion
import Logging

/// The `generate` function's work: context, cache, the provider chain, the fallbacks, and the
/// answer's checks. Built once per process; its provider health and cache are shared by every
/// invocation the warm process serves.
///
/// The chain: the preferred provider (when the request names one) -> the other enabled providers
/// in the configured order (each with its fallback model after a model-level failure) -> an
/// extractive answer from the context -> the search results alone -> the no-context message.
/// It always answers; each step is in `response_metadata.attempts`.
package final class Generator: Sendable {
    package let configuration: GenerationConfiguration
    let providers: [any LLMProvider]
    let health: ProviderHealth
    let cache: ResponseCache?
    let retriever: any ContextRetriever
    let metrics: GenerationMetrics
    let builder: PromptBuilder
    let redactor: Redactor
    let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - providers: nil builds them from the configuration over `client`.
    ///   - now: the clock the cooldowns and breakers read.
    package init(configuration: GenerationConfiguration, retriever: any ContextRetriever, providers: [any LLMProvider]? = nil,
                client: HTTPClient? = nil, metrics: GenerationMetrics = GenerationMetrics(),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) throws {
        self.configuration = configuration
        if let providers {
            self.providers = providers
        } else if configuration.enabledProviders.isEmpty {
            // Nothing to call: no HTTP client (and no libcurl) needed to answer extractively.
            self.providers = []
        } else {
            let client = try client ?? HTTPClient()
            self.providers = configuration.providers.map { LLMProviders.make($0, client: client) }
        }
        let s = configuration.settings
        health = ProviderHealth(providers: self.providers.map(\.name), failureThreshold: s.breakerFailureThreshold,
                                openDuration: s.breakerOpenDuration, now: now)
        cache = s.cacheEnabled && s.cacheMaxEntries > 0 && s.cacheTTL > .zero
            ? ResponseCache(ttl: s.cacheTTL, maxEntries: s.cacheMaxEntries) : nil
        self.retriever = retriever
        self.metrics = metrics
        builder = PromptBuilder(templates: configuration.templates, settings: s)
        redactor = Redactor(extraPatterns: s.redactionPatterns)
        self.sleep = sleep
    }

    /// The configured providers' names, enabled or not (what `preferred_provider` may name).
    package var providerNames: [String] { configuration.providers.map(\.name) }

    /// Answers `request` for `org` before `deadline` (the invocation's; the providers get it
    /// minus `deadline_reserve_ms`, and at most `max_total_ms`).
    package func generate(org: OrgID, _ request: GenerateRequest, deadline: ContinuousClock.Instant,
                         logger: Logger = Logger(label: "generate")) async throws -> GenerateResponse {
        var call: ProviderTurn
        switch try await begin(org: org, request, deadline: deadline, logger: logger) {
        case .answered(let response): return response
        case .ask(let turn): call = turn
        }
        if case .answered(let answer) = await callProviders(request, &call.run, deadline: call.deadline, maxTokens: call.maxTokens,
                                                            temperature: call.temperature, logger: logger) {
            if let cache, let key = call.cacheKey { await cache.put(key, answer) }
            finish(answer, run: call.run, logger: logger)
            return answer
        }
        let response = fallback(request, &call.run, logger: logger)
        finish(response, run: call.run, logger: logger)
        return response
    }

    /// What a request needs from the providers, once its context is known and the cache missed.
    struct ProviderTurn {
        var run: Run
        var cacheKey: String?
        var maxTokens: Int
        var temperature: Double
        var deadline: ContinuousClock.Instant
    }

    enum Start {
        /// Answered without a provider (no context, or the cache), reported already.
        case answered(GenerateResponse)
        case ask(ProviderTurn)
    }

    /// The part of a request before the providers, shared by `generate` and `generateStream`:
    /// the context (given or searched), the no-context answer, the cache.
    func begin(org: OrgID, _ request: GenerateRequest, deadline: ContinuousClock.Instant, logger: Logger) async throws -> Start {
        let started = ContinuousClock.now
        let s = configuration.settings
        let language = request.language ?? Language.detect(request.query, fallback: s.defaultLanguage)
        let source: ContextSource = request.contextChunks == nil ? .search : .request
        let chunks: [ContextChunk]
        if let given = request.contextChunks {
            chunks = given
        } else {
            chunks = try await retriever.retrieve(org: org, query: request.query, limit: s.retrievalLimit, minScore: s.retrievalMinScore)
        }
        var run = Run(language: language, source: source, chunks: chunks, started: started)

        guard !chunks.isEmpty else {
            let response = noContext(request, &run)
            finish(response, run: run, logger: logger)
            return .answered(response)
        }

        let maxTokens = request.maxTokens ?? s.maxOutputTokens
        let temperature = request.temperature ?? s.temperature
        let cacheKey = cache != nil && !request.isPersonalised
            ? ResponseCache.key(org: org, query: request.query, language: language, chunks: chunks, provider: request.preferredProvider,
                                templates: configuration.templates.fingerprint, maxTokens: maxTokens, temperature: temperature)
            : nil
        if let cache, let cacheKey, var hit = await cache.get(cacheKey) {
            hit.responseMetadata.cacheHit = true
            hit.responseMetadata.attempts = [AttemptRecord(provider: "cache", outcome: "hit", detail: "answered by \(hit.responseMetadata.provider ?? "-")")]
            hit.responseMetadata.processingTimeMs = ProviderCall.ms(ContinuousClock.now - started)
            // Served from memory: nothing was spent on this request.
            hit.responseMetadata.costEstimate = 0
            run.cacheHit = true
            finish(hit, run: run, logger: logger)
            return .answered(hit)
        }
        return .ask(ProviderTurn(run: run, cacheKey: cacheKey, maxTokens: maxTokens, temperature: temperature,
                                 deadline: min(started + s.maxTotal, deadline - s.deadlineReserve)))
    }

    /// What one request has done so far.
    struct Run {
        var language: Language
        var source: ContextSource
        var chunks: [ContextChunk]
        var started: ContinuousClock.Instant
        var attempts: [AttemptRecord] = []
        var cacheHit = false
    }

    // MARK: Providers

    func chain(preferred: String?) -> [any LLMProvider] {
        guard let preferred, let p = providers.first(where: { $0.name == preferred }) else { return providers }
        return [p] + providers.filter { $0.name != preferred }
    }

    /// A failure of the model rather than the provider: its fallback model may still work.
    static func modelLevel(_ ending: ProviderCall.Ending?) -> Bool {
        guard case .failed(let f)? = ending else { return false }
        return [.notFound, .rateLimited, .contextLength].contains(f.kind)
    }

    /// How the provider chain ended.
    enum ChainResult {
        case answered(GenerateResponse)
        /// No provider answered: the fallbacks take over.
        case exhausted
        /// A streamed answer broke off after part of it had reached the client.
        case brokeMidStream(String)
        /// The task was cancelled (the client of a stream went away).
        case cancelled
    }

    /// - Parameter relay: streams the answer as it is written (`generateStream`); the chain
    ///   goes on to the next provider or model only until part of it has reached the client.
    func callProviders(_ request: GenerateRequest, _ run: inout Run, deadline: ContinuousClock.Instant, maxTokens: Int,
                       temperature: Double, logger: Logger, relay: StreamRelay? = nil) async -> ChainResult {
        let s = configuration.settings
        // Enabled providers met before the current one: any answer after the first is a fallback.
        var tried = 0
        if let preferred = request.preferredProvider, !providers.contains(where: { $0.name == preferred }),
           let reason = configuration.providers.first(where: { $0.name == preferred })?.disabledReason {
            // Built without provider objects (none enabled): still say why the preferred one was not called.
            run.attempts.append(AttemptRecord(provider: preferred, outcome: "disabled", detail: reason))
        }
        let chunks = run.chunks
        let language = run.language
        // The PII guard (PII_POLICY): personal data in what the prompt is built from never goes
        // to an external provider under `local` (the chain moves on, down to the extractive
        // answer made here) and goes masked under `redact`.
        let policy = configuration.piiPolicy
        let detector = PIIDetector()
        let piiKinds = policy == .allow ? [] : detector.kinds(in: ([request.query] + chunks.map(\.content) + request.history.map(\.content)
            + (request.userContext ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }).joined(separator: "\n"))
        for provider in chain(preferred: request.preferredProvider) {
            if Task.isCancelled || relay?.clientGone == true { return .cancelled }
            let name = provider.name
            if let reason = provider.configuration.disabledReason {
                // Unconfigured providers are silent, except the one the caller asked for.
                if name == request.preferredProvider {
                    run.attempts.append(AttemptRecord(provider: name, outcome: "disabled", detail: reason))
                    logger.notice("generation preferred provider disabled", metadata: ["provider": "\(name)", "reason": "\(reason)"])
                }
                continue
            }
            if let cooldown = health.cooldown(name) {
                let left = Int((cooldown.until - ContinuousClock.now).inSeconds.rounded(.up))
                run.attempts.append(AttemptRecord(provider: name, outcome: "cooldown", detail: "\(cooldown.reason); \(left) s left"))
                logger.info("generation provider skipped", metadata: ["provider": "\(name)", "reason": "cooldown"])
                tried += 1
                continue
            }
            let external = provider.configuration.location == .external
            if external, policy == .local, !piiKinds.isEmpty {
                let kinds = piiKinds.sorted().map(\.rawValue).joined(separator: ", ")
                run.attempts.append(AttemptRecord(provider: name, outcome: "pii_blocked",
                                                  detail: "the prompt holds personal data or secrets (\(kinds)); PII_POLICY=local keeps it from external providers"))
                logger.notice("generation provider skipped", metadata: ["provider": "\(name)", "reason": "pii", "kinds": "\(kinds)"])
                continue
            }
            let masking = external && policy == .redact && !piiKinds.isEmpty
            if deadline - ContinuousClock.now < s.minAttemptTime {
                run.attempts.append(AttemptRecord(provider: name, outcome: "out_of_time", detail: "not enough time left before the deadline"))
                tried += 1
                continue
            }
            for (m, model) in provider.configuration.models.enumerated() {
                logger.info("generation provider selected", metadata: [
                    "provider": "\(name)", "model": "\(model)",
                    "reason": "\(tried == 0 && m == 0 ? (name == request.preferredProvider ? "preferred" : "first in order") : m > 0 ? "fallback model" : "fallback provider")",
                ])
                var fitted = PromptBuilder.Fitted(chunks: [], truncated: false, tokens: 0)
                var sent: LLMRequest? = nil
                let call = ProviderCall(provider: provider, breaker: health.breaker(name), minAttemptTime: s.minAttemptTime, sleep: sleep)
                var perform: ((LLMRequest, Duration) async throws(ProviderFailure) -> LLMCompletion)? = nil
                if let relay {
                    perform = { request, timeout async throws(ProviderFailure) in
                        relay.beginAttempt()
                        return try await provider.stream(request, timeout: timeout) { await relay.deliver($0) }
                    }
                }
                let outcome = await call.run(model: model, budget: s.maxContextTokens, deadline: deadline, perform: perform,
                                             streamStarted: { relay?.started ?? false }) { model, budget in
                    var (r, f) = builder.request(model: model, query: request.query, chunks: chunks, budget: budget,
                                                 language: language, userContext: request.userContext, history: request.history,
                                                 maxTokens: maxTokens, temperature: temperature)
                    if masking {
                        r.system = detector.redact(r.system).text
                        for i in r.messages.indices { r.messages[i].content = detector.redact(r.messages[i].content).text }
                    }
                    fitted = f
                    sent = r
                    return (r, f.chunks.count)
                }
                run.attempts += outcome.records
                for r in outcome.records {
                    metrics.attempt(r)
                    if r.outcome != "ok" {
                        logger.warning("generation provider attempt failed", metadata: [
                            "provider": "\(name)", "model": "\(model)", "outcome": "\(r.outcome)",
                            "http_status": "\(r.httpStatus.map(String.init) ?? "-")", "duration_ms": "\(r.durationMs)",
                            "retry_after_ms": "\(r.retryAfterMs.map(String.init) ?? "-")", "chunks": "\(r.chunks.map(String.init) ?? "-")",
                        ])
                    }
                }
                if let completion = outcome.completion, let sent {
                    let fallback: FallbackKind? = m > 0 ? .fallbackModel : tried > 0 ? .nextProvider : nil
                    return .answered(answer(completion, provider: provider, request: request, sent: sent, fitted: fitted, run: run,
                                            fallback: fallback))
                }
                if let relay {
                    if relay.clientGone || Task.isCancelled { return .cancelled }
                    if relay.started {
                        let why: String
                        switch outcome.failure {
                        case .failed(let f)?: why = "\(name) failed mid-answer (\(f.kind.rawValue))"
                        case .circuitOpen?, .outOfTime?, nil: why = "\(name) stopped mid-answer"
                        }
                        logger.warning("generation stream broke off", metadata: ["provider": "\(name)", "model": "\(model)"])
                        return .brokeMidStream(why)
                    }
                }
                if case .failed(let f)? = outcome.failure {
                    switch f.kind {
                    case .unauthorized:
                        health.disable(name, for: s.authCooldown, reason: "credentials refused (HTTP \(f.httpStatus.map(String.init) ?? "?"))")
                        logger.error("generation provider disabled", metadata: [
                            "provider": "\(name)", "reason": "unauthorized", "cooldown_s": "\(Int(s.authCooldown.inSeconds))"])
                    case .billing:
                        health.disable(name, for: s.billingCooldown, reason: "billing or quota refused")
                        logger.error("generation provider disabled", metadata: [
                            "provider": "\(name)", "reason": "billing", "cooldown_s": "\(Int(s.billingCooldown.inSeconds))"])
                    default: break
                    }
                }
                guard Self.modelLevel(outcome.failure) else { break }
            }
            tried += 1
        }
        return .exhausted
    }

    /// A model's answer, checked: citations validated, output redacted, confidence scored.
    func answer(_ completion: LLMCompletion, provider: any LLMProvider, request: GenerateRequest, sent: LLMRequest,
                fitted: PromptBuilder.Fitted, run: Run, fallback: FallbackKind?) -> GenerateResponse {
        let s = configuration.settings
        let templates = configuration.templates
        let given = fitted.chunks
        let parsed = CitationParser.parse(completion.text, count: given.count)
        var redactions = 0
        let redacted = redactor.redact(parsed.text)
        redactions += redacted.count
        var text = redacted.text

        var citations: [Citation] = []
        for n in parsed.numbers {
            // The full chunk (the prompt may have held a cut of the last one).
            let chunk = run.chunks[n - 1]
            let used = redactor.redact(CitationParser.usedContent(chunk, citedBy: CitationParser.sentences(citing: n, in: text)))
            redactions += used.count
            citations.append(Citation(number: n, chunkId: chunk.chunkId, documentId: chunk.documentId,
                                      reference: templates.reference(number: n, chunk: chunk, language: run.language),
                                      usedContent: used.text))
        }

        let sentences = Sentences.split(text).filter { $0.split(whereSeparator: { $0.isWhitespace }).count >= 3 }
        let cited = sentences.filter { s in parsed.numbers.contains { s.contains("[\($0)]") } }
        let citedChunks = parsed.numbers.isEmpty ? given : parsed.numbers.map { given[$0 - 1] }
        let refusal = Confidence.isRefusal(text)
        let confidence = Confidence.model(Confidence.Inputs(
            relevances: citedChunks.map { $0.relevance ?? 0.5 }, sentences: sentences.count, citedSentences: cited.count,
            lengthOK: (s.minAnswerCharacters...s.maxAnswerCharacters).contains(text.count), invented: parsed.dropped,
            refusal: refusal, citationRequired: s.citationRequired, cited: !parsed.numbers.isEmpty))
        if confidence < s.confidenceThreshold && !refusal {
            text = PromptTemplates.render(templates.lowConfidence[run.language], ["partial_answer": text])
        }

        let estimated = completion.tokensIn == nil || completion.tokensOut == nil
        let tokensIn = completion.tokensIn ?? TokenCounter.estimate.count(([sent.system] + sent.messages.map(\.content)).joined(separator: "\n"))
        let tokensOut = completion.tokensOut ?? TokenCounter.estimate.count(completion.text)
        let metadata = ResponseMetadata(
            provider: provider.name, modelUsed: completion.model, tokensIn: tokensIn, tokensOut: tokensOut, tokensEstimated: estimated,
            processingTimeMs: ProviderCall.ms(ContinuousClock.now - run.started),
            costEstimate: (provider.configuration.cost(tokensIn: tokensIn, tokensOut: tokensOut) * 1_000_000).rounded() / 1_000_000,
            cacheHit: false, attempts: run.attempts, fallback: fallback, language: run.language, contextSource: run.source,
            contextChunks: run.chunks.count, contextChunksUsed: given.count, citationsDropped: parsed.dropped, redactions: redactions)
        return GenerateResponse(answer: text, citations: citations, confidenceScore: confidence, responseMetadata: metadata)
    }

    // MARK: Fallbacks

    func fallback(_ request: GenerateRequest, _ run: inout Run, logger: Logger) -> GenerateResponse {
        let templates = configuration.templates
        let started = ContinuousClock.now
        let picks = ExtractiveAnswer.pick(query: request.query, chunks: run.chunks, maxSentences: configuration.settings.extractiveMaxSentences)
        var redactions = 0
        if !picks.isEmpty {
            run.attempts.append(AttemptRecord(provider: "extractive", outcome: "used", durationMs: ProviderCall.ms(ContinuousClock.now - started),
                                              chunks: run.chunks.count))
            logger.warning("generation fallback", metadata: ["fallback": "extractive", "reason": "no provider answered"])
            let body = redactor.redact(PromptTemplates.render(templates.extractive[run.language], ["sentences": ExtractiveAnswer.lines(picks)]))
            redactions += body.count
            var numbers: [Int] = []
            for p in picks where !numbers.contains(p.number) { numbers.append(p.number) }
            let citations = numbers.map { n -> Citation in
                let chunk = run.chunks[n - 1]
                let used = redactor.redact(CitationParser.clip(picks.first { $0.number == n }!.sentence, limit: 300))
                redactions += used.count
                return Citation(number: n, chunkId: chunk.chunkId, documentId: chunk.documentId,
                                reference: templates.reference(number: n, chunk: chunk, language: run.language), usedContent: used.text)
            }
            let confidence = Confidence.extractive(numbers.map { run.chunks[$0 - 1].relevance ?? 0.5 })
            return fallbackResponse(body.text, citations: citations, confidence: confidence, kind: .extractive, run: run, redactions: redactions)
        }
        run.attempts.append(AttemptRecord(provider: "extractive", outcome: "no_match", detail: "no context sentence holds a query word"))
        run.attempts.append(AttemptRecord(provider: "search_only", outcome: "used", chunks: run.chunks.count))
        logger.warning("generation fallback", metadata: ["fallback": "search_only", "reason": "no provider answered, no sentence matched"])
        let results = run.chunks.enumerated().map { "- " + templates.reference(number: $0 + 1, chunk: $1, language: run.language) }
        let body = redactor.redact(PromptTemplates.render(templates.searchOnly[run.language], ["results": results.joined(separator: "\n")]))
        redactions += body.count
        let citations = run.chunks.enumerated().map { i, chunk -> Citation in
            let used = redactor.redact(CitationParser.clip(chunk.content, limit: 300))
            redactions += used.count
            return Citation(number: i + 1, chunkId: chunk.chunkId, documentId: chunk.documentId,
                            reference: templates.reference(number: i + 1, chunk: chunk, language: run.language), usedContent: used.text)
        }
        return fallbackResponse(body.text, citations: citations, confidence: Confidence.searchOnly(run.chunks.map { $0.relevance ?? 0.5 }),
                                kind: .searchOnly, run: run, redactions: redactions)
    }

    func noContext(_ request: GenerateRequest, _ run: inout Run) -> GenerateResponse {
        run.attempts.append(AttemptRecord(provider: "no_context", outcome: "used",
                                          detail: run.source == .search ? "search found nothing" : "no context_chunks given"))
        let body = redactor.redact(PromptTemplates.render(configuration.templates.noContext[run.language], ["query": request.query]))
        return fallbackResponse(body.text, citations: [], confidence: 0, kind: .noContext, run: run, redactions: body.count)
    }

    func fallbackResponse(_ text: String, citations: [Citation], confidence: Double, kind: FallbackKind, run: Run,
                          redactions: Int) -> GenerateResponse {
        GenerateResponse(answer: text, citations: citations, confidenceScore: confidence, responseMetadata: ResponseMetadata(
            provider: nil, modelUsed: nil, tokensIn: 0, tokensOut: 0, tokensEstimated: false,
            processingTimeMs: ProviderCall.ms(ContinuousClock.now - run.started), costEstimate: 0, cacheHit: false,
            attempts: run.attempts, fallback: kind, language: run.language, contextSource: run.source,
            contextChunks: run.chunks.count, contextChunksUsed: kind == .noContext ? 0 : run.chunks.count, citationsDropped: 0,
            redactions: redactions))
    }

    // MARK: Reporting

    /// One metrics line and one log line per request: names, counts and timings only.
    func finish(_ r: GenerateResponse, run: Run, logger: Logger) {
        let m = r.responseMetadata
        let status = run.cacheHit ? "cache_hit" : m.fallback.map(\.rawValue) ?? "ok"
        metrics.request(provider: m.provider ?? "none", model: m.modelUsed ?? "none", status: status, durationMs: m.processingTimeMs,
                        tokensIn: run.cacheHit ? 0 : m.tokensIn, tokensOut: run.cacheHit ? 0 : m.tokensOut, cost: m.costEstimate,
                        attempts: m.attempts.count, cacheHit: run.cacheHit, fallback: m.fallback != nil)
        logger.info("generation done", metadata: [
            "provider": "\(m.provider ?? "none")", "model": "\(m.modelUsed ?? "none")", "status": "\(status)",
            "attempts": "\(m.attempts.count)", "citations": "\(r.citations.count)", "citations_dropped": "\(m.citationsDropped)",
            "confidence": "\(r.confidenceScore)", "cache_hit": "\(run.cacheHit)", "duration_ms": "\(m.processingTimeMs)",
            "language": "\(run.language.rawValue)", "context_source": "\(run.source.rawValue)", "chunks": "\(run.chunks.count)",
            "chunks_used": "\(m.contextChunksUsed)", "redactions": "\(m.redactions)",
        ])
    }
}
