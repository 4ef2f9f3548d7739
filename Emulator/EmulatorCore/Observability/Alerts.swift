import Foundation
import Yams

/// Seed 004's alert conditions, read from `config/alerts.yaml`: the emulator evaluates them over
/// its window (shown in `/metrics` and on the dashboard) and the template's CloudWatch alarms use
/// the same thresholds (a test holds the two together).
package struct AlertRules: Sendable, Equatable {
    package enum Kind: String, Sendable, Decodable, CaseIterable {
        /// p95 of one route's latency, in ms, above the thresholds.
        case latencyP95 = "latency_p95"
        /// Failed invocations (function errors, crashes, timeouts, 5xx) over all, above.
        case errorRate = "error_rate"
        /// Query-vector cache hits over lookups, below.
        case cacheHitRate = "cache_hit_rate"
        /// Today's LLM spend over the daily budget, above.
        case spend
        /// The worst provider's failed calls over its calls, or 1 while a breaker is open, above.
        case providerUnhealthy = "provider_unhealthy"
        /// The highest share of an embedding budget the re-embed worker last saw spent, above.
        case embeddingBudget = "embedding_budget"

        /// Whether a value below the threshold is the bad side.
        var below: Bool { self == .cacheHitRate }
    }

    package struct Rule: Sendable, Equatable, Decodable {
        package var name: String
        package var kind: Kind
        package var description: String
        /// For `latency_p95`: the route key.
        package var route: String?
        package var warning: Double
        package var critical: Double?
        /// Fewer samples than this in the window: `no_data` (a rate of one request says nothing).
        package var minSamples: Int

        enum CodingKeys: String, CodingKey {
            case name, kind, description, route, warning, critical, minSamples = "min_samples"
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            kind = try c.decode(Kind.self, forKey: .kind)
            description = try c.decodeIfPresent(String.self, forKey: .description) ?? name
            route = try c.decodeIfPresent(String.self, forKey: .route)
            warning = try c.decode(Double.self, forKey: .warning)
            critical = try c.decodeIfPresent(Double.self, forKey: .critical)
            minSamples = try c.decodeIfPresent(Int.self, forKey: .minSamples) ?? 1
        }

        init(name: String, kind: Kind, description: String, route: String? = nil, warning: Double, critical: Double?, minSamples: Int) {
            (self.name, self.kind, self.description, self.route) = (name, kind, description, route)
            (self.warning, self.critical, self.minSamples) = (warning, critical, minSamples)
        }
    }

    package var windowMinutes: Double
    package var dailyBudgetUSD: Double
    package var rules: [Rule]

    /// Seed 004's numbers, for an emulator started without the file.
    package static let defaults = AlertRules(windowMinutes: 5, dailyBudgetUSD: 10, rules: [
        Rule(name: "search_p95_latency", kind: .latencyP95, description: "p95 latency of POST /v1/search", route: "POST /v1/search",
             warning: 500, critical: 1000, minSamples: 5),
        Rule(name: "error_rate", kind: .errorRate, description: "failed invocations over all invocations", warning: 0.05, critical: nil, minSamples: 20),
        Rule(name: "query_cache_hit_rate", kind: .cacheHitRate, description: "query-vector cache hits over lookups",
             warning: 0.7, critical: 0.5, minSamples: 50),
        Rule(name: "api_spend", kind: .spend, description: "today's LLM spend over the daily budget", warning: 0.8, critical: 0.95, minSamples: 0),
        Rule(name: "provider_unhealthy", kind: .providerUnhealthy, description: "the worst provider's failed calls over its calls (1 while a breaker is open)",
             warning: 0.5, critical: nil, minSamples: 5),
        Rule(name: "embedding_budget", kind: .embeddingBudget,
             description: "the highest share of an embedding budget spent (EMBEDDING_PROVIDERS_FILE budgets)",
             warning: 0.8, critical: 0.999, minSamples: 1),
    ])

    package struct LoadError: Error, CustomStringConvertible {
        package var description: String
    }

    package static func load(path: String) throws(LoadError) -> AlertRules {
        struct File: Decodable {
            var windowMinutes: Double?
            var dailyBudgetUSD: Double?
            var alerts: [Rule]
            enum CodingKeys: String, CodingKey { case windowMinutes = "window_minutes", dailyBudgetUSD = "daily_budget_usd", alerts }
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw LoadError(description: "cannot read \(path): \(error.localizedDescription)") }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: text) } catch { throw LoadError(description: "\(path): \(error)") }
        var seen = Set<String>()
        for r in file.alerts {
            guard seen.insert(r.name).inserted else { throw LoadError(description: "\(path): alert `\(r.name)` is defined twice") }
            if r.kind == .latencyP95, r.route == nil { throw LoadError(description: "\(path): alert `\(r.name)` (latency_p95) needs a `route`") }
            if let c = r.critical, r.kind.below ? c > r.warning : c < r.warning {
                throw LoadError(description: "\(path): alert `\(r.name)`: `critical` must be past `warning`")
            }
        }
        let window = file.windowMinutes ?? 5
        guard window > 0, window <= 60 else { throw LoadError(description: "\(path): window_minutes must be in (0, 60]") }
        return AlertRules(windowMinutes: window, dailyBudgetUSD: file.dailyBudgetUSD ?? 10, rules: file.alerts)
    }
}

/// One rule's state now.
package struct AlertState: Sendable, Encodable, Equatable {
    package var name: String
    package var description: String
    /// `ok`, `firing` or `no_data`.
    package var state: String
    /// `warning` or `critical` while firing.
    package var severity: String?
    package var value: Double?
    package var threshold: Double
    package var critical: Double?
    package var comparison: String
    package var unit: String
}

extension Telemetry {
    /// Every rule against the window's figures.
    func evaluateAlerts(_ s: Snapshot) -> [AlertState] {
        alerts.rules.map { rule in
            let (value, samples) = Self.value(of: rule, in: s, budget: alerts.dailyBudgetUSD)
            var state = AlertState(name: rule.name, description: rule.description, state: "no_data", severity: nil, value: value,
                                   threshold: rule.warning, critical: rule.critical, comparison: rule.kind.below ? "<" : ">",
                                   unit: rule.kind == .latencyP95 ? "ms" : "ratio")
            guard let value, samples >= rule.minSamples else { return state }
            let past = { (t: Double) in rule.kind.below ? value < t : value > t }
            if let c = rule.critical, past(c) {
                state.state = "firing"
                state.severity = "critical"
            } else if past(rule.warning) {
                state.state = "firing"
                state.severity = "warning"
            } else {
                state.state = "ok"
            }
            return state
        }
    }

    /// The rule's value and how many samples it rests on.
    static func value(of rule: AlertRules.Rule, in s: Snapshot, budget: Double) -> (Double?, Int) {
        switch rule.kind {
        case .latencyP95:
            let d = s.samples.filter { $0.route == rule.route }.map(\.durationMs)
            return (Quantiles.of(d, [0.95])[0], d.count)
        case .errorRate:
            let n = s.samples.count
            return (n == 0 ? nil : Double(s.samples.filter(\.failed).count) / Double(n), n)
        case .cacheHitRate:
            let hits = s.metricSamples.filter { $0.name == "QueryCacheHits" }.reduce(0) { $0 + $1.value }
            let misses = s.metricSamples.filter { $0.name == "QueryCacheMisses" }.reduce(0) { $0 + $1.value }
            let n = hits + misses
            return (n == 0 ? nil : hits / n, Int(n))
        case .spend:
            return (budget > 0 ? s.spendToday / budget : nil, 1)
        case .embeddingBudget:
            let used = s.metricSamples.filter { $0.name == "EmbeddingBudgetUsed" }.map(\.value)
            return (used.max(), used.count)
        case .providerUnhealthy:
            if s.providers.contains(where: { $0.breaker == "open" }) { return (1, Int.max) }
            var worst: Double?
            var samples = 0
            let calls = Dictionary(grouping: s.metricSamples.filter { $0.name == "ProviderCalls" || $0.name == "EmbeddingCalls" }, by: \.key)
            let failures = Dictionary(grouping: s.metricSamples.filter { $0.name == "ProviderFailures" || $0.name == "EmbeddingFailures" }, by: \.key)
            for (key, c) in calls {
                let n = c.reduce(0) { $0 + $1.value }
                guard n >= Double(rule.minSamples) else { continue }
                let f = (failures[key] ?? []).reduce(0) { $0 + $1.value }
                worst = max(worst ?? 0, f / n)
                samples = max(samples, Int(n))
            }
            return (worst, samples)
        }
    }
}
