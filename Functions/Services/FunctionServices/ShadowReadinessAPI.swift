import DocumentStore
import EmbeddingPolicies
import Foundation
import JSON
import LambdaEvents
import RequestTenancy

/// `GET /v1/embeddings/readiness`: how the candidate model (`EMBEDDING_SHADOW_MODEL`) compares
/// with the live one, against seed 004's success criteria. Comparisons, agreement and latency
/// are the deployment's (aggregates only: no other org's queries or documents); coverage is the
/// caller's org and whether every org's documents are shadowed; cost is what the shadow builds
/// spent in the last 30 days.
package struct ShadowReadinessAPI: Sendable {
    package let store: any Store
    package let configuration: ShadowConfiguration
    package let live: String
    /// Comparisons the report reads, newest first.
    static let window = 10_000

    package init(store: any Store, configuration: ShadowConfiguration, live: String) {
        self.store = store
        self.configuration = configuration
        self.live = live
    }

    package func report(_ request: APIGatewayV2Request, now: Date = Date()) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let model = configuration.model
        let all = try store.shadowComparisons(model: model, org: nil, limit: Self.window)
        let coverage = try store.shadowCoverage(org: org, model: model)
        let everyOrgShadowed = try store.shadowGaps(model: model, limit: 1).isEmpty
        let usage = try store.embeddingUsage(org: nil, fromDay: BudgetCalendar.day(now, minus: 29), toDay: BudgetCalendar.day(now))
            .filter { $0.provider == "shadow" && $0.model == model }

        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        func quantile(_ xs: [Double], _ q: Double) -> Double? {
            guard !xs.isEmpty else { return nil }
            let s = xs.sorted()
            return s[min(s.count - 1, Int((Double(s.count - 1) * q).rounded()))]
        }
        let overlap = mean(all.map(\.overlap))
        let correlation = mean(all.compactMap(\.rankCorrelation))
        let liveP50 = quantile(all.map(\.liveMs), 0.5), shadowP50 = quantile(all.map(\.shadowMs), 0.5)
        let ratio = liveP50.flatMap { l in shadowP50.map { $0 / max(l, 0.001) } }
        let c = configuration.criteria
        func number(_ v: Double?) -> JSONValue { v.map { .number(($0 * 10_000).rounded() / 10_000) } ?? .null }
        func criterion(_ name: String, _ description: String, _ threshold: JSONValue, _ value: JSONValue, _ met: Bool) -> JSONValue {
            .object(["name": .string(name), "description": .string(description), "threshold": threshold, "value": value, "met": .bool(met)])
        }
        let criteria: [JSONValue] = [
            criterion("comparisons", "live queries compared with the candidate (at least)", .number(Double(c.minComparisons)),
                      .number(Double(all.count)), all.count >= c.minComparisons),
            criterion("agreement", "mean overlap@10 of the candidate's dense results with the live ones (at least)", .number(c.minOverlap),
                      number(overlap), (overlap ?? 0) >= c.minOverlap),
            criterion("latency", "the candidate's p50 over the live model's (at most)", .number(c.maxLatencyRatio),
                      number(ratio), ratio.map { $0 <= c.maxLatencyRatio } ?? false),
            criterion("coverage", "every org's ready documents have the candidate's vectors", .bool(true),
                      .bool(everyOrgShadowed), everyOrgShadowed),
        ]
        let ready = criteria.allSatisfy { $0["met"]?.boolValue == true }
        let inCanary = configuration.canaryPercent > 0 && Double(org.rolloutBucket) < configuration.canaryPercent
        let body: JSONObject = [
            "live_model": .string(live), "candidate_model": .string(model), "ready": .bool(ready),
            "comparisons": .object([
                "count": .number(Double(all.count)), "mean_overlap_at_10": number(overlap), "mean_rank_correlation": number(correlation),
                "live_p50_ms": number(liveP50), "candidate_p50_ms": number(shadowP50),
                "live_p95_ms": number(quantile(all.map(\.liveMs), 0.95)), "candidate_p95_ms": number(quantile(all.map(\.shadowMs), 0.95)),
                "sample_rate": .number(configuration.sampleRate),
            ]),
            "coverage": .object([
                "org_versions": .number(Double(coverage.versions)), "org_shadowed": .number(Double(coverage.covered)),
                "org_share": number(coverage.share), "every_org_shadowed": .bool(everyOrgShadowed),
            ]),
            "cost": .object([
                "tokens_30d": .number(Double(usage.reduce(0) { $0 + $1.tokens })),
                "cost_usd_30d": number(usage.reduce(0) { $0 + $1.costUSD }),
            ]),
            "canary": .object([
                "percent": .number(configuration.canaryPercent), "org_in_canary": .bool(inCanary),
                "org_served_candidate": .bool(inCanary && coverage.complete),
            ]),
            "criteria": .array(criteria),
        ]
        return APIGatewayV2Response(statusCode: 200, headers: ["content-type": "application/json"],
                                    body: String(decoding: JSONValue.object(body).jsonBytes(), as: UTF8.self))
    }
}
