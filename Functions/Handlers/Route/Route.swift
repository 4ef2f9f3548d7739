import Foundation
import Embeddings
import FunctionRuntime
import FunctionServices
import JSON
import RequestTenancy
import ServiceErrors
import IntentRouting
import LambdaEvents
import Tenancy

/// `POST /v1/route`: the intent router over the action catalog (`ROUTE_CATALOG`, `ROUTE_RULES`,
/// `ROUTE_SETTINGS`, defaults under `config/routing/`). The catalog's seed vectors are read at
/// init from the seed vector file (`ROUTE_SEED_VECTORS`, default `seed-vectors.bin` beside the
/// catalog; whatever it lacks is embedded) and rebuilt per changed seed when the files change
/// (checked at most once a second); a broken file keeps the last good catalog serving. Thin:
/// validate, call `RouterHost`.
@main
struct Route: HTTPFunction {
    let routes: HTTPRoutes

    static let maxTextCharacters = 1_000
    static let maxTopK = 20

    init(context: InitializationContext) async throws {
        let configuration = try EmbeddingConfiguration.fromEnvironment(context.environment)
        // The shared level only with Redis: route has no store.
        let provider = try EmbeddingProviders.makeCached(configuration, shared: try SharedVectorCaches.make(configuration, store: nil))
        let logger = context.logger
        let host = try await RouterHost(paths: .fromEnvironment(context.environment), provider: provider,
                                        options: RouterHost.Options(onReload: { report in
                                            logger.info("route catalog reloaded: \(report)")
                                        }))
        logger.info("route catalog loaded: \(host.stats.actions) actions, \(host.stats.lastLoad)")
        let meter = EmbeddingUsageMeter(provider)
        routes = HTTPRoutes([
            "POST /v1/route": { request, context in
                let hitsBefore = host.stats.cacheHits
                defer {
                    for (name, value) in meter.take() { context.metrics.set(name, value) }
                    if let kind = meter.sharedCache { context.metrics.property("shared_cache", kind) }
                    Self.record(host.stats, cacheHitsBefore: hitsBefore, loadedAt: host.health.loadedAt, into: context.metrics)
                    context.metrics.property("model", provider.modelId)
                }
                _ = try request.validatedOrgIDIfPresent()
                let input = try RouteInput.parse(try request.jsonBody())
                var result = try await ErrorMapping.mapping {
                    try await host.route(input.text, requestId: input.requestId ?? context.requestId)
                }
                context.metrics.dimension("strategy", result.uiStrategy.rawValue)
                context.metrics.set("TopScore", result.topActions.first?.finalScore ?? 0, unit: .none)
                result.topActions = Array(result.topActions.prefix(input.topK))
                return .json(result)
            },
            // Seed 000's `/stats`: which catalog is serving, its size, the cache and the reloads.
            "GET /v1/route/stats": { request, _ in
                _ = try request.validatedOrgIDIfPresent()
                return .json(RouteStatsResponse(host.stats, loadedAt: host.health.loadedAt))
            },
        ])
    }
}

extension Route {
    /// The router's state in every record, so a dashboard shows the catalog without a call.
    static func record(_ s: RouterStats, cacheHitsBefore: Int, loadedAt: Date, into m: InvocationMetrics) {
        m.property("last_reload", Timestamps.iso8601Millis(Int64(loadedAt.timeIntervalSince1970 * 1000)))
        m.set("RouteCacheHits", Double(s.cacheHits - cacheHitsBefore))
        m.property("catalog_version", s.catalogVersion)
        m.property("actions", Double(s.actions))
        m.property("seeds", Double(s.seedRows))
        m.property("requests", Double(s.requests))
        m.property("cache_hits", Double(s.cacheHits))
        m.property("reloads", Double(s.reloads))
        m.property("reload_errors", Double(s.reloadErrors))
    }
}

/// `GET /v1/route/stats`.
struct RouteStatsResponse: Encodable {
    var catalogVersion: String
    var actions: Int
    var seeds: Int
    var requests: Int
    var cacheHits: Int
    var cacheHitRate: Double
    var cacheEntries: Int
    var reloads: Int
    var reloadErrors: Int
    var lastReload: String
    var lastReloadMs: Double

    init(_ s: RouterStats, loadedAt: Date) {
        catalogVersion = s.catalogVersion
        actions = s.actions
        seeds = s.seedRows
        requests = s.requests
        cacheHits = s.cacheHits
        cacheHitRate = s.requests == 0 ? 0 : Double(s.cacheHits) / Double(s.requests)
        cacheEntries = s.cacheEntries
        reloads = s.reloads
        reloadErrors = s.reloadErrors
        lastReload = Timestamps.iso8601Millis(Int64(loadedAt.timeIntervalSince1970 * 1000))
        lastReloadMs = s.lastReloadMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case catalogVersion = "catalog_version", actions, seeds, requests, cacheHits = "cache_hits", cacheHitRate = "cache_hit_rate"
        case cacheEntries = "cache_entries", reloads, reloadErrors = "reload_errors", lastReload = "last_reload", lastReloadMs = "last_reload_ms"
    }
}

/// `{text, request_id?, top_k?}`, checked: wrong types are 400, bad values 422.
struct RouteInput {
    var text: String
    var requestId: String?
    var topK: Int

    static func parse(_ body: JSONValue) throws(APIError) -> RouteInput {
        guard case .object(let o) = body else { throw APIError.badRequest("The body must be a JSON object.", code: "invalid_json") }
        if let unknown = o.keys.sorted().first(where: { !["text", "request_id", "top_k"].contains($0) }) {
            throw invalid("Unknown field `\(unknown)`; expected text, request_id, top_k.", field: unknown)
        }
        guard let t = o["text"] else { throw invalid("`text` is required.", field: "text") }
        guard let text = t.stringValue else { throw invalid("`text` must be a string.", field: "text", status: 400) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid("`text` is empty.", field: "text") }
        guard trimmed.count <= Route.maxTextCharacters else {
            throw invalid("`text` has \(trimmed.count) characters; at most \(Route.maxTextCharacters).", field: "text")
        }
        var input = RouteInput(text: trimmed, requestId: nil, topK: 3)
        if let r = o["request_id"], r != .null {
            guard let id = r.stringValue else { throw invalid("`request_id` must be a string.", field: "request_id", status: 400) }
            guard id.count <= 200 else { throw invalid("`request_id` is longer than 200 characters.", field: "request_id") }
            input.requestId = id
        }
        if let k = o["top_k"], k != .null {
            guard let n = k.intValue else { throw invalid("`top_k` must be a whole number.", field: "top_k", status: 400) }
            guard (1...Route.maxTopK).contains(n) else { throw invalid("`top_k` must be 1-\(Route.maxTopK), not \(n).", field: "top_k") }
            input.topK = n
        }
        return input
    }

    static func invalid(_ message: String, field: String, status: Int = 422) -> APIError {
        .invalidField(field, message, malformed: status == 400)
    }
}
