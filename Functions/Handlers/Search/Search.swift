import Embeddings
import FunctionRuntime
import FunctionServices
import LambdaEvents
import RequestTenancy
import ServiceErrors
import Tenancy
import Retrieval

/// `POST /v1/search`: hybrid dense + keyword retrieval over the caller's org (the `org_id`
/// claim), latest ready versions only. Thin: decode, call `HybridSearcher`, map errors.
@main
struct Search: HTTPFunction {
    let routes: HTTPRoutes

    init(context: InitializationContext) async throws {
        let services = try await Services.fromEnvironment(context.environment)
        var configured = HybridSearcher(
            store: services.store, embedder: services.embedder,
            otherModels: NativeModelFallback.provider(configured: services.embedding))
        if let (c, candidate) = services.shadow {
            configured.shadow = ShadowMigration(store: services.store, candidate: candidate, sampleRate: c.sampleRate, canaryPercent: c.canaryPercent)
        }
        if let rerank = services.rerank {
            configured.reranker = rerank.reranker
            configured.rerankCandidates = rerank.candidates
        }
        let searcher = configured
        let readiness = services.shadow.map { ShadowReadinessAPI(store: services.store, configuration: $0.configuration, live: services.embedder.modelId) }
        let meter = EmbeddingUsageMeter(services.embedder)
        routes = HTTPRoutes([
            "POST /v1/search": { request, context in
                defer {
                    for (name, value) in meter.take() { context.metrics.set(name, value) }
                    if let kind = meter.sharedCache { context.metrics.property("shared_cache", kind) }
                }
                let org = try request.orgID()
                context.metrics.property("org", org.rawValue)
                let query = try await ErrorMapping.mapping { try SearchRequest.parse(try request.jsonBody()) }
                let response = try await ErrorMapping.mapping { try await searcher.search(org: org, query) }
                Self.record(response, into: context.metrics)
                return .json(response)
            },
            "GET /v1/embeddings/readiness": { request, _ in
                guard let readiness else {
                    throw APIError.notFound("No candidate model is in shadow here: set EMBEDDING_SHADOW_MODEL to compare one with \(services.embedding.modelId).")
                }
                do { return try readiness.report(request) } catch { throw ErrorMapping.apiError(error) }
            },
        ])
    }

    /// The search's phases, mode and result count (docs/ARCHITECTURE.md, section 6a).
    static func record(_ r: SearchResponse, into m: InvocationMetrics) {
        m.dimension("mode", r.mode)
        m.milliseconds("EmbedTime", r.timings.embedMs)
        m.milliseconds("DenseTime", r.timings.denseMs)
        m.milliseconds("KeywordTime", r.timings.keywordMs)
        m.milliseconds("PageTime", r.timings.pageMs)
        m.set("Results", Double(r.results.count))
        m.property("model", r.queryModel ?? "-")
    }
}
