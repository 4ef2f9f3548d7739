import Embeddings
import FunctionRuntime
import FunctionServices
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
        let searcher = HybridSearcher(
            store: services.store, embedder: services.embedder,
            otherModels: NativeModelFallback.provider(configured: services.embedding))
        routes = HTTPRoutes([
            "POST /v1/search": { request, _ in
                let org = try request.orgID()
                let query = try await ErrorMapping.mapping { try SearchRequest.parse(try request.jsonBody()) }
                return .json(try await ErrorMapping.mapping { try await searcher.search(org: org, query) })
            },
        ])
    }
}
