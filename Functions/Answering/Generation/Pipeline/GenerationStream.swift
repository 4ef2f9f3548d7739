import DocumentStore
import Foundation
import Logging
import Synchronization

/// One event of a streamed answer (`POST /v1/generate` with `"stream": true`, sent as
/// server-sent events; README, Generation: Streaming). In order: `delta`s (the answer's text as
/// it is written), then `citations`, `metadata` and `done`; or, when the answer breaks off after
/// it started, an `error` that ends the stream.
package enum GenerationEvent: Sendable {
    /// The next piece of the answer's text (already redacted).
    case delta(String)
    /// The answer's valid citations, and the markers in the streamed text that name no given
    /// chunk: the text was sent as written, so a client hides those (the whole answer removes them).
    case citations([Citation], droppedMarkers: [Int])
    case metadata(confidence: Double, ResponseMetadata)
    case error(code: String, message: String)
    case done

    package var name: String {
        switch self {
        case .delta: "delta"
        case .citations: "citations"
        case .metadata: "metadata"
        case .error: "error"
        case .done: "done"
        }
    }

    /// The event as `text/event-stream` bytes: `event: <name>` and one `data:` line of JSON.
    package var sse: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data: Data
        switch self {
        case .delta(let text):
            data = (try? encoder.encode(["text": text])) ?? Data("{}".utf8)
        case .citations(let citations, let dropped):
            struct Body: Encodable {
                var citations: [Citation]
                var droppedMarkers: [Int]
                enum CodingKeys: String, CodingKey { case citations, droppedMarkers = "dropped_markers" }
            }
            data = (try? encoder.encode(Body(citations: citations, droppedMarkers: dropped))) ?? Data("{}".utf8)
        case .metadata(let confidence, let metadata):
            struct Body: Encodable {
                var confidenceScore: Double
                var responseMetadata: ResponseMetadata
                enum CodingKeys: String, CodingKey { case confidenceScore = "confidence_score", responseMetadata = "response_metadata" }
            }
            data = (try? encoder.encode(Body(confidenceScore: confidence, responseMetadata: metadata))) ?? Data("{}".utf8)
        case .error(let code, let message):
            data = (try? encoder.encode(["error": ["code": code, "message": message]])) ?? Data("{}".utf8)
        case .done:
            data = Data("{}".utf8)
        }
        return Array("event: \(name)\ndata: ".utf8) + Array(data) + Array("\n\n".utf8)
    }
}

/// Carries a provider's deltas to the client: redacted as they pass (`StreamingRedactor`), and
/// remembered as "started" once any text has gone out, after which the chain may not try again.
final class StreamRelay: Sendable {
    private struct State {
        var redactor: StreamingRedactor
        var started = false
        var clientGone = false
        var sent = ""
    }
    private let state: Mutex<State>
    private let emit: @Sendable (GenerationEvent) async throws -> Void

    init(redactor: Redactor, emit: @escaping @Sendable (GenerationEvent) async throws -> Void) {
        state = Mutex(State(redactor: StreamingRedactor(redactor)))
        self.emit = emit
    }

    var started: Bool { state.withLock { $0.started } }
    var clientGone: Bool { state.withLock { $0.clientGone } }
    /// The text sent so far.
    var sent: String { state.withLock { $0.sent } }
    var redactions: Int { state.withLock { $0.redactor.redactions } }

    /// A new attempt: text held back from an attempt that failed before sending anything is dropped.
    func beginAttempt() {
        state.withLock { s in
            if !s.started { s.redactor = StreamingRedactor(s.redactor.redactor) }
        }
    }

    /// A provider's delta; false once the client is gone (the provider call stops).
    func deliver(_ piece: String) async -> Bool {
        if Task.isCancelled {
            state.withLock { $0.clientGone = true }
            return false
        }
        let out = state.withLock { $0.redactor.push(piece) }
        guard !out.isEmpty else { return true }
        return await send(out)
    }

    /// The rest of the text, once the provider has finished.
    func finish() async -> Bool {
        let out = state.withLock { $0.redactor.finish() }
        guard !out.isEmpty else { return true }
        return await send(out)
    }

    private func send(_ text: String) async -> Bool {
        do {
            try await emit(.delta(text))
            state.withLock { s in
                s.started = true
                s.sent += text
            }
            return true
        } catch {
            state.withLock { $0.clientGone = true }
            return false
        }
    }
}

extension Generator {
    /// `generate`, streamed: the answer's text goes to `emit` as the provider writes it, then
    /// the citations, the metadata and `done`. The fallback chain works until the first piece
    /// of text has been sent; a failure after that ends the stream with an `error` event, and a
    /// partial answer is never cached. Cached answers and the fallbacks (extractive, search
    /// results, no context) stream the same events, so a client has one code path.
    /// Throws only when `emit` does (the client went away) or the task is cancelled.
    package func generateStream(org: OrgID, _ request: GenerateRequest, deadline: ContinuousClock.Instant,
                                logger: Logger = Logger(label: "generate"),
                                emit: @escaping @Sendable (GenerationEvent) async throws -> Void) async throws {
        var call: ProviderTurn
        switch try await begin(org: org, request, deadline: deadline, logger: logger) {
        case .answered(let response): return try await streamWhole(response, emit: emit)
        case .ask(let turn): call = turn
        }
        let relay = StreamRelay(redactor: redactor, emit: emit)
        switch await callProviders(request, &call.run, deadline: call.deadline, maxTokens: call.maxTokens, temperature: call.temperature,
                                   logger: logger, relay: relay) {
        case .answered(var answer):
            guard await relay.finish() else { throw CancellationError() }
            // The text went out as written; the whole answer is what the cache keeps.
            let dropped = CitationParser.invalidNumbers(relay.sent, count: answer.responseMetadata.contextChunksUsed)
            answer.responseMetadata.redactions = max(answer.responseMetadata.redactions, relay.redactions)
            if let cache, let key = call.cacheKey { await cache.put(key, answer) }
            finish(answer, run: call.run, logger: logger)
            try await emit(.citations(answer.citations, droppedMarkers: dropped))
            try await emit(.metadata(confidence: answer.confidenceScore, answer.responseMetadata))
            try await emit(.done)
        case .brokeMidStream(let why):
            logger.warning("generation stream ended with an error", metadata: ["reason": "\(why)"])
            try await emit(.error(code: "provider_failed", message: "The answer broke off: \(why). What was sent is incomplete."))
        case .cancelled:
            logger.info("generation stream cancelled: the client went away")
            throw CancellationError()
        case .exhausted:
            let response = fallback(request, &call.run, logger: logger)
            finish(response, run: call.run, logger: logger)
            try await streamWhole(response, emit: emit)
        }
    }

    /// A whole answer as the events of a stream: its text in pieces (a line or sentence each),
    /// then citations, metadata and done.
    func streamWhole(_ response: GenerateResponse, emit: @Sendable (GenerationEvent) async throws -> Void) async throws {
        for piece in Self.pieces(response.answer) { try await emit(.delta(piece)) }
        try await emit(.citations(response.citations, droppedMarkers: []))
        try await emit(.metadata(confidence: response.confidenceScore, response.responseMetadata))
        try await emit(.done)
    }

    /// Text cut after each sentence end or line break, keeping every character.
    static func pieces(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previous: Character?
        for ch in text {
            if let p = previous, (p == "." || p == "!" || p == "?" || p == "\n"), ch == " " || ch == "\n" {
                current.append(ch)
                out.append(current)
                current = ""
                previous = ch
                continue
            }
            current.append(ch)
            previous = ch
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
