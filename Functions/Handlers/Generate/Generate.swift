import BearerTokens
import Embeddings
import FunctionProtocol
import FunctionRuntime
import LambdaEvents
import Synchronization
import FunctionServices
import RequestTenancy
import ServiceErrors
import Generation
import Tenancy
import Retrieval

/// `POST /v1/generate`: a grounded answer with validated `[n]` citations, from the configured
/// LLM providers with retries, cooldowns and a fallback chain ending in an extractive answer.
/// Context is the caller's `context_chunks`, else a search of the caller's org (the `org_id`
/// claim). Thin: decode, call `Generator`, map errors.
@main
struct Generate: HTTPFunction {
    let routes: HTTPRoutes

    init(context: InitializationContext) async throws {
        let services = try await Services.fromEnvironment(context.environment)
        var searcher = HybridSearcher(
            store: services.store, embedder: services.embedder,
            otherModels: NativeModelFallback.provider(configured: services.embedding))
        if let rerank = services.rerank {
            searcher.reranker = rerank.reranker
            searcher.rerankCandidates = rerank.candidates
        }
        let paths = GenerationConfigurationPaths.fromEnvironment(context.environment)
        let configuration = try GenerationConfiguration.load(paths, environment: context.environment)
        let generator = try Generator(configuration: configuration, retriever: SearchRetriever(searcher: searcher),
                                      metrics: GenerationMetrics(function: context.functionName))
        // Which providers this process will call, and why the others will not (never the keys).
        for p in configuration.providers {
            context.logger.info("generation provider", metadata: [
                "provider": "\(p.name)", "api": "\(p.api.rawValue)", "models": "\(p.models.joined(separator: ","))",
                "enabled": "\(p.isEnabled)", "reason": "\(p.disabledReason ?? "-")",
            ])
        }
        // Behind its function URL (where answers stream) no API Gateway authorizer runs: the
        // function checks the token itself, against the same issuer and audience.
        let urlAuthorization = FunctionURLAuthorization.fromEnvironment(context.environment)
        let limits = configuration.settings.limits
        let names = generator.providerNames
        let meter = EmbeddingUsageMeter(services.embedder)
        routes = HTTPRoutes([
            "POST /v1/generate": { request, invocation in
                defer {
                    for (name, value) in meter.take() { invocation.metrics.set(name, value) }
                    if let kind = meter.sharedCache { invocation.metrics.property("shared_cache", kind) }
                }
                let org = try await urlAuthorization.authorize(request).orgID()
                invocation.metrics.property("org", org.rawValue)
                let body = try await ErrorMapping.mapping { try GenerateRequest.parse(try request.jsonBody(), limits: limits, providers: names) }
                invocation.metrics.dimension("stream", body.stream ? "yes" : "no")
                let deadline = ContinuousClock.now + invocation.remainingTime
                guard body.stream else {
                    return .json(try await ErrorMapping.mapping {
                        try await generator.generate(org: org, body, deadline: deadline, logger: invocation.logger)
                    })
                }
                let out = EventOutput(invocation)
                let work = Task {
                    try await ErrorMapping.mapping {
                        try await generator.generateStream(org: org, body, deadline: deadline, logger: invocation.logger) { try await out.send($0) }
                    }
                }
                out.onClientGone { work.cancel() }
                do {
                    try await work.value
                } catch is CancellationError {
                    throw ResponseStreamError.clientDisconnected
                }
                return out.response
            },
        ])
    }
}

/// Where a streamed answer's events go: a response stream, started with the first event (so a
/// request refused before any answer still gets a plain JSON error), when the caller reads one
/// (a function URL in RESPONSE_STREAM mode); else collected into one `text/event-stream` body
/// (behind API Gateway), so a client reads the same events either way.
final class EventOutput: Sendable {
    private let invocation: InvocationContext
    private let state = Mutex<(stream: ResponseStream?, body: [UInt8], onGone: (@Sendable () -> Void)?)>((nil, [], nil))
    private let starting = AsyncGate()

    static let headers = ["content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"]

    init(_ invocation: InvocationContext) { self.invocation = invocation }

    func onClientGone(_ f: @escaping @Sendable () -> Void) {
        let stream = state.withLock { s -> ResponseStream? in
            s.onGone = f
            return s.stream
        }
        stream?.onCancel(f)
    }

    func send(_ event: GenerationEvent) async throws {
        guard invocation.acceptsResponseStream else {
            state.withLock { $0.body += event.sse }
            return
        }
        let stream = try await starting.once { [self] in
            let stream = try await invocation.startResponseStream(StreamPrelude(statusCode: 200, headers: Self.headers))
            if let f = state.withLock({ s -> (@Sendable () -> Void)? in s.stream = stream; return s.onGone }) { stream.onCancel(f) }
            return stream
        }
        try await stream.write(event.sse)
    }

    /// What the route returns: the collected events, or a placeholder once streamed.
    var response: APIGatewayV2Response {
        let (stream, body) = state.withLock { ($0.stream, $0.body) }
        if stream != nil { return .streamed }
        return APIGatewayV2Response(statusCode: 200, headers: Self.headers, body: String(decoding: body, as: UTF8.self))
    }
}

/// Runs a start-up step once; later callers get its result.
final class AsyncGate: Sendable {
    private let value = Mutex<ResponseStream?>(nil)

    func once(_ start: @Sendable () async throws -> ResponseStream) async throws -> ResponseStream {
        if let v = value.withLock({ $0 }) { return v }
        // Events are sent one at a time (the generator awaits each), so no two starts race.
        let v = try await start()
        value.withLock { $0 = v }
        return v
    }
}
