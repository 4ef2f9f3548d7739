import Embeddings
import FunctionRuntime
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
        let searcher = HybridSearcher(
            store: services.store, embedder: services.embedder,
            otherModels: NativeModelFallback.provider(configured: services.embedding))
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
        let limits = configuration.settings.limits
        let names = generator.providerNames
        routes = HTTPRoutes([
            "POST /v1/generate": { request, invocation in
                let org = try request.orgID()
                let body = try await ErrorMapping.mapping { try GenerateRequest.parse(try request.jsonBody(), limits: limits, providers: names) }
                let deadline = ContinuousClock.now + invocation.remainingTime
                return .json(try await ErrorMapping.mapping {
                    try await generator.generate(org: org, body, deadline: deadline, logger: invocation.logger)
                })
            },
        ])
    }
}
