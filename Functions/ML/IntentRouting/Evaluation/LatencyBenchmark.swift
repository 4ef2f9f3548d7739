import Foundation
import JSON

/// Times `Router.score` (rules, lexical, the seed matrix product, fusion, the decision) with the
/// query vectors already computed, i.e. routing latency with the embedding excluded.
package enum LatencyBenchmark {
    package struct Summary: Sendable, Hashable, Codable {
        package var queries: Int
        package var meanMilliseconds: Double
        package var p50Milliseconds: Double
        package var p99Milliseconds: Double
        package var maxMilliseconds: Double
        /// The median over queries of each query's fastest run: the work itself, with little of
        /// the scheduling noise a loaded machine adds to every other figure.
        package var bestRunP50Milliseconds: Double
        package var actions: Int
        package var seedRows: Int

        enum CodingKeys: String, CodingKey {
            case queries, meanMilliseconds = "mean_ms", p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms"
            case maxMilliseconds = "max_ms", bestRunP50Milliseconds = "best_run_p50_ms", actions, seedRows = "seed_rows"
        }
    }

    package static func measure(router: Router, devset: Evaluation.EmbeddedDevset, repetitions: Int = 3) -> Summary {
        let clock = ContinuousClock()
        var times: [Double] = []
        times.reserveCapacity(devset.texts.count * repetitions)
        var best = [Double](repeating: .infinity, count: devset.texts.count)
        for _ in 0..<max(1, repetitions) {
            for i in devset.texts.indices {
                let start = clock.now
                let result = router.score(devset.texts[i], queryVector: devset.vectors[i])
                let elapsed = clock.now - start
                precondition(!result.catalogVersion.isEmpty)
                let ms = elapsed.milliseconds
                times.append(ms)
                best[i] = min(best[i], ms)
            }
        }
        times.sort()
        best.sort()
        func pct(_ xs: [Double], _ p: Double) -> Double { xs.isEmpty ? 0 : xs[min(xs.count - 1, Int(p * Double(xs.count - 1)))] }
        return Summary(queries: times.count, meanMilliseconds: times.reduce(0, +) / Double(max(1, times.count)),
                       p50Milliseconds: pct(times, 0.5), p99Milliseconds: pct(times, 0.99), maxMilliseconds: times.last ?? 0,
                       bestRunP50Milliseconds: pct(best, 0.5),
                       actions: router.catalog.actions.count, seedRows: router.seeds.rowCount)
    }

    /// A larger catalog made from `configuration`'s own material, to time scoring at scale:
    /// `actions` actions of `seedsPerAction` seeds each, seeds taken round-robin from all the
    /// catalog's seeds, each copy keeping its source action's domain, intent type, description and
    /// rule. Repeated texts are embedded once, so building it costs little beyond the original.
    package static func scaled(_ configuration: RouterConfiguration, actions: Int, seedsPerAction: Int) throws(ConfigurationError) -> RouterConfiguration {
        let source = configuration.catalog.actions
        let allSeeds = source.flatMap(\.seeds)
        guard !source.isEmpty, !allSeeds.isEmpty else { return configuration }
        var scaled: [ActionDefinition] = []
        var rules: [String: ActionRule] = [:]
        for k in 0..<actions {
            let origin = source[k % source.count]
            var copy = origin
            copy.id = "\(origin.id)#\(k)"
            copy.seeds = (0..<seedsPerAction).map { allSeeds[(k * seedsPerAction + $0) % allSeeds.count] }
            scaled.append(copy)
            if let rule = configuration.rules.rules[origin.id] { rules[copy.id] = rule }
        }
        var catalog = configuration.catalog
        catalog.actions = scaled
        return try RouterConfiguration(catalog: catalog, rules: RoutingRules(entities: configuration.rules.entities, rules: rules),
                                       settings: configuration.settings, source: "<scaled>")
    }
}
