import Resilience

/// One provider and model through the retry loop (`withRetries`, the one loop every remote
/// call in the bundle uses): what each failure means is decided in `classify`, and the loop's
/// state (the prompt's size, the timeout) changes with what the last failure said.
///
/// | failure | here | after the loop (`Generator`) |
/// |---|---|---|
/// | 429 | wait its `Retry-After` if it fits the policy and the deadline, else jittered backoff | fallback model, then next provider |
/// | 5xx, 529, network | retry with backoff; counts toward the breaker | next provider |
/// | timeout | one retry with twice the timeout; counts toward the breaker | next provider |
/// | context length | retry at once with half the context (lowest-ranked chunks dropped) | fallback model, then next provider |
/// | malformed 200 | one more look | next provider |
/// | 401/403, billing | no retry | provider disabled for a cooldown, next provider |
/// | content filter, other 4xx | no retry | next provider |
/// | 404 | no retry | fallback model, then next provider |
struct ProviderCall {
    let provider: any LLMProvider
    let breaker: CircuitBreaker?
    let minAttemptTime: Duration
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    struct Outcome {
        var completion: LLMCompletion?
        /// The prompt that got the answer (its chunk count may be below the first try's).
        var chunksUsed: Int
        var contextBudget: Int
        /// Why the loop ended without an answer.
        var failure: Ending?
        var records: [AttemptRecord]
    }

    enum Ending: Equatable {
        case failed(ProviderFailure)
        case circuitOpen(Duration)
        case outOfTime
    }

    /// Thrown from inside the loop so `classify` sees the attempt's number and prompt size.
    struct AttemptFailure: Error {
        var failure: ProviderFailure
        var attempt: Int
        var chunks: Int
        var firstTimeout: Bool
        /// Part of a streamed answer had reached the client: nothing may be tried again.
        var afterStreamStart = false
    }

    struct OutOfTime: Error {}

    /// - Parameters:
    ///   - build: the request for a context budget in tokens, and how many chunks it holds.
    ///   - perform: one exchange (the provider's `complete` unless given: `stream` for a
    ///     streamed answer).
    ///   - streamStarted: whether part of the answer has reached the client; a failure after
    ///     that is final.
    func run(model: String, budget initialBudget: Int, deadline: ContinuousClock.Instant,
             perform: ((LLMRequest, Duration) async throws(ProviderFailure) -> LLMCompletion)? = nil,
             streamStarted: @Sendable () -> Bool = { false },
             build: (_ model: String, _ budget: Int) -> (LLMRequest, chunks: Int)) async -> Outcome {
        let configuration = provider.configuration
        var budget = initialBudget
        var timeout = configuration.timeout
        var timeouts = 0
        var records: [AttemptRecord] = []
        var lastChunks = 0
        let name = provider.name
        do {
            let (completion, chunks) = try await withRetries(
                policy: configuration.retry, breaker: breaker, deadline: deadline, classify: Self.classify, sleep: sleep
            ) { attempt async throws -> (LLMCompletion, Int) in
                let left = deadline - ContinuousClock.now
                guard left >= minAttemptTime else { throw OutOfTime() }
                let (request, chunks) = build(model, budget)
                lastChunks = chunks
                let started = ContinuousClock.now
                do throws(ProviderFailure) {
                    let c: LLMCompletion
                    if let perform {
                        c = try await perform(request, min(timeout, left))
                    } else {
                        c = try await provider.complete(request, timeout: min(timeout, left))
                    }
                    records.append(AttemptRecord(provider: name, model: model, outcome: "ok", httpStatus: 200,
                                                 durationMs: Self.ms(ContinuousClock.now - started), chunks: chunks))
                    return (c, chunks)
                } catch {
                    records.append(AttemptRecord(
                        provider: name, model: model, outcome: error.kind.rawValue, httpStatus: error.httpStatus,
                        durationMs: Self.ms(ContinuousClock.now - started),
                        retryAfterMs: error.retryAfter.map { Int(($0.inSeconds * 1000).rounded()) }, chunks: chunks,
                        detail: error.message))
                    switch error.kind {
                    case .timedOut:
                        timeouts += 1
                        // The deadline still bounds it: `min(timeout, left)` above.
                        timeout = timeout * 2
                    case .contextLength:
                        budget = max(1, budget / 2)
                    default: break
                    }
                    throw AttemptFailure(failure: error, attempt: attempt, chunks: chunks, firstTimeout: timeouts == 1,
                                         afterStreamStart: streamStarted())
                }
            }
            return Outcome(completion: completion, chunksUsed: chunks, contextBudget: budget, failure: nil, records: records)
        } catch let e as AttemptFailure {
            return Outcome(completion: nil, chunksUsed: e.chunks, contextBudget: budget, failure: .failed(e.failure), records: records)
        } catch let e as CircuitOpenError {
            records.append(AttemptRecord(provider: name, model: model, outcome: "circuit_open",
                                         detail: "skipped after repeated failures; retry in \(Int(e.retryAfter.inSeconds.rounded(.up))) s"))
            return Outcome(completion: nil, chunksUsed: 0, contextBudget: budget, failure: .circuitOpen(e.retryAfter), records: records)
        } catch {
            // Out of time before an attempt could start (or the task was cancelled).
            records.append(AttemptRecord(provider: name, model: model, outcome: "out_of_time",
                                         detail: "not enough time left before the deadline"))
            return Outcome(completion: nil, chunksUsed: lastChunks, contextBudget: budget, failure: .outOfTime, records: records)
        }
    }

    static func classify(_ error: any Error) -> FailureClass {
        guard let e = error as? AttemptFailure, !e.afterStreamStart else { return .permanent }
        let f = e.failure
        switch f.kind {
        case .rateLimited:
            return .throttled(retryAfter: f.retryAfter)
        case .serverError:
            return FailureClass(retryable: true, unhealthy: true, retryAfter: f.retryAfter)
        case .network:
            return .unhealthy()
        case .timedOut:
            // Once more with a longer timeout; a second timeout ends it.
            return .unhealthy(attemptLimit: e.firstTimeout ? e.attempt + 1 : e.attempt)
        case .contextLength:
            // Only worth another try while there is context left to drop.
            return e.chunks > 1 ? FailureClass(retryable: true, unhealthy: false, retryAfter: .zero) : .permanent
        case .malformed:
            return .unhealthy(attemptLimit: 2)
        case .unauthorized, .billing, .contentFilter, .notFound, .badRequest, .cancelled:
            return .permanent
        }
    }

    static func ms(_ d: Duration) -> Double { (d.inSeconds * 100_000).rounded() / 100 }
}
