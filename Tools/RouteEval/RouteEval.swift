import ArgumentParser
import Embeddings
import Foundation
import IntentRouting
import JSON

/// `route-eval`: runs a labelled devset (JSON lines `{"text", "label"}`, label `oos` for out of
/// scope) through the intent router and prints top-1, top-3, MRR, end-to-end accuracy, per-action
/// accuracy, the most frequent confusion pairs and out-of-scope precision/recall; `--baseline`
/// puts a plain nearest-seed classifier beside it, `--latency` times scoring.
@main
struct RouteEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route-eval",
        abstract: "Evaluates the intent router on a labelled devset.",
        discussion: """
            Either a catalog (--catalog, optionally --rules and --settings) or seed phrases alone
            (--seeds S.jsonl: one action per label, no rules, no descriptions), so public
            benchmarks such as CLINC150 can be run.
            --write-seed-vectors writes the catalog's seed vectors for the route function to read
            at start (without --devset it only does that).
            """)

    @Option(help: "The action catalog YAML.")
    var catalog: String?

    @Option(help: "The rules YAML (optional).")
    var rules: String?

    @Option(help: "The router settings YAML (optional; defaults otherwise).")
    var settings: String?

    @Option(help: "JSON lines {\"text\", \"label\"} used as seed phrases instead of a catalog.")
    var seeds: String?

    @Option(help: "JSON lines {\"text\", \"label\"}; label \"oos\" for out of scope (optional with --write-seed-vectors).")
    var devset: String?

    @Option(help: "Write the catalog's seed vectors to this file (the route function's ROUTE_SEED_VECTORS).")
    var writeSeedVectors: String?

    @Flag(help: "Also report the nearest-seed baseline (max cosine, no rules, lexical or fusion).")
    var baseline = false

    @Option(help: """
        The baseline asks to clarify below this cosine (default: its best end-to-end accuracy on the shipped devset, \
        0.3 with all-MiniLM-L6-v2 and 0.84 with multilingual-e5-small, whose cosines sit higher).
        """)
    var baselineThreshold: Double?

    @Flag(help: "Time scoring (embedding excluded) on this catalog and on a 100-action, 2,000-seed one.")
    var latency = false

    @Option(help: "Confusion pairs shown.")
    var confusions = 10

    @Flag(help: "Print the misrouted lines.")
    var errors = false

    @Flag(help: "One JSON object on stdout instead of tables.")
    var json = false

    @Option(help: "Write each devset line's outcome (ranking, scores, strategy) to this file as JSON lines.")
    var outcomes: String?

    @Option(help: "The model folder (default: $EMBEDDING_MODEL_DIR, else the model's folder under .models/).")
    var modelDir: String?

    @Option(help: "The native model: sentence-transformers/all-MiniLM-L6-v2 or intfloat/multilingual-e5-small (default: $EMBEDDING_MODEL, else multilingual-e5-small).")
    var model: String?

    func validate() throws {
        guard (catalog == nil) != (seeds == nil) else { throw ValidationError("give either --catalog or --seeds") }
        if seeds != nil, rules != nil { throw ValidationError("--rules needs --catalog") }
        guard confusions >= 0 else { throw ValidationError("--confusions must not be negative") }
        guard devset != nil || writeSeedVectors != nil else { throw ValidationError("give --devset, --write-seed-vectors, or both") }
    }

    func run() async throws {
        let configuration: RouterConfiguration
        let examples: [LabelledText]
        let provider: any EmbeddingProvider
        do {
            if let catalog {
                configuration = try RouterConfiguration.load(RouterConfigurationPaths(catalog: catalog, rules: rules, settings: settings))
            } else {
                var seedsOnly = try RouterConfiguration.fromSeeds(path: seeds!)
                if let settings {
                    let s = try RouterSettings.load(path: settings, catalog: seedsOnly.catalog)
                    seedsOnly = try RouterConfiguration.fromSeeds(path: seeds!, settings: s)
                }
                configuration = seedsOnly
            }
            if let devset {
                examples = try LabelledText.load(path: devset)
                try Evaluation.checkLabels(examples, catalog: configuration.catalog, devset: devset)
            } else {
                examples = []
            }
            let env = ProcessInfo.processInfo.environment
            let name = model ?? env["EMBEDDING_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? EmbeddingModelRegistry.defaultNative.id
            guard let spec = EmbeddingModelRegistry.spec(for: name), EmbeddingModelRegistry.native.contains(spec) else {
                throw EmbeddingError.configuration("--model \(name) is not a native model; use one of "
                                                   + EmbeddingModelRegistry.native.map(\.id).joined(separator: ", "))
            }
            provider = try EmbeddingProviders.nativeProvider(model: spec.id, directory: EmbeddingModelDirectory.resolve(modelDir, model: spec.id))
        } catch {
            FileHandle.standardError.write(Data("route-eval: \(error)\n".utf8))
            throw ExitCode(2)
        }

        let clock = ContinuousClock()
        let buildStart = clock.now
        let router = try await Router.build(configuration, provider: provider).router
        let buildTime = clock.now - buildStart
        if let writeSeedVectors {
            let file = SeedVectorFile(matrix: router.seeds)
            try file.write(to: writeSeedVectors)
            // On stderr, so --json output stays one object.
            FileHandle.standardError.write(Data(("route-eval: wrote \(file.rowCount) seed vectors of \(file.modelId) to \(writeSeedVectors) "
                + "(embedded in \(Self.ms(buildTime)) ms)\n").utf8))
        }
        guard let devset else { return }
        let embedded = try await Evaluation.embed(examples, provider: provider)
        let routerOutcomes = Evaluation.outcomes(router: router, devset: embedded)
        let report = EvaluationReport(outcomes: routerOutcomes)
        if let outcomes {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var data = Data()
            for o in routerOutcomes {
                data.append(try encoder.encode(o))
                data.append(0x0A)
            }
            try data.write(to: URL(fileURLWithPath: outcomes))
        }
        var baselineReport: EvaluationReport?
        if baseline {
            let b = NearestSeedBaseline(router: router, threshold: baselineThreshold ?? Self.baselineThreshold(router.seeds.modelId))
            baselineReport = EvaluationReport(outcomes: Evaluation.outcomes(baseline: b, devset: embedded))
        }
        var timings: [String: LatencyBenchmark.Summary] = [:]
        if latency {
            timings["catalog"] = LatencyBenchmark.measure(router: router, devset: embedded, repetitions: 5)
            let scaled = try LatencyBenchmark.scaled(configuration, actions: 100, seedsPerAction: 20)
            let big = try await Router.build(scaled, provider: provider, reusing: router).router
            timings["scaled_100x20"] = LatencyBenchmark.measure(router: big, devset: embedded, repetitions: 5)
        }

        if json {
            let out = Output(catalogVersion: configuration.version, actions: configuration.catalog.actions.count,
                             seedRows: router.seeds.rowCount, router: report, baseline: baselineReport,
                             baselineThreshold: baseline ? (baselineThreshold ?? Self.baselineThreshold(router.seeds.modelId)) : nil, latency: latency ? timings : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
            return
        }

        let source = catalog ?? seeds!
        print("catalog   \(source) (\(configuration.catalog.actions.count) actions, \(router.seeds.rowCount) seed rows, "
              + "version \(configuration.version), built in \(Self.ms(buildTime)) ms)")
        print("devset    \(devset) (\(report.lines) lines: \(report.inScope) in scope, \(report.outOfScope) oos)")
        print("")
        print(Self.pad("", 20) + Self.pad("router", 10) + (baselineReport != nil ? "baseline (nearest seed, clarify < \(baselineThreshold ?? Self.baselineThreshold(router.seeds.modelId)))" : ""))
        func row(_ name: String, _ f: (EvaluationReport) -> Double?) {
            print(Self.pad(name, 20) + Self.pad(Self.num(f(report)), 10) + (baselineReport.map { Self.num(f($0)) } ?? ""))
        }
        row("top-1", \.top1)
        row("top-3", \.top3)
        row("MRR", \.mrr)
        row("accuracy (e2e)", \.accuracy)
        row("OOS precision", \.oosPrecision)
        row("OOS recall", \.oosRecall)
        print("")
        print("UI strategies: " + Self.strategyOrder.map { "\($0) \(report.strategies[$0] ?? 0)" }.joined(separator: ", "))
        print("")
        print("Per action (router, top-1 on in-scope lines):")
        for a in report.perAction {
            print("  " + Self.pad(a.actionId, 30) + Self.pad("\(a.top1)/\(a.support)", 8) + Self.num(a.accuracy))
        }
        print("")
        print("Most frequent confusions (expected -> predicted):")
        for c in report.confusions.prefix(confusions) {
            print("  " + Self.pad("\(c.count)", 4) + "\(c.expected) -> \(c.predicted)")
        }
        if errors {
            print("")
            print("Misrouted lines:")
            for o in routerOutcomes where o.predicted != o.label {
                print("  [\(o.label) -> \(o.predicted), \(o.strategy.rawValue)] \(o.text)")
            }
        }
        for name in timings.keys.sorted() {
            let t = timings[name]!
            print("")
            print("scoring latency, \(name) (\(t.actions) actions, \(t.seedRows) seed rows, embedding excluded, \(t.queries) queries): "
                  + String(format: "mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms; median of each query's best run %.3f ms",
                           t.meanMilliseconds, t.p50Milliseconds, t.p99Milliseconds, t.maxMilliseconds, t.bestRunP50Milliseconds))
        }
    }

    static let strategyOrder = UIStrategy.allCases.map(\.rawValue)

    struct Output: Encodable {
        let catalogVersion: String
        let actions: Int
        let seedRows: Int
        let router: EvaluationReport
        let baseline: EvaluationReport?
        let baselineThreshold: Double?
        let latency: [String: LatencyBenchmark.Summary]?

        enum CodingKeys: String, CodingKey {
            case catalogVersion = "catalog_version", actions, seedRows = "seed_rows", router, baseline
            case baselineThreshold = "baseline_threshold", latency
        }
    }

    /// The nearest-seed baseline's threshold by model: each at its best end-to-end accuracy on
    /// the shipped devset (swept in steps of 0.02).
    static func baselineThreshold(_ modelId: String) -> Double {
        EmbeddingModelRegistry.spec(for: modelId)?.id == EmbeddingModelRegistry.multilingualE5Small.id ? 0.84 : 0.3
    }

    static func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
    static func num(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "n/a" }
    static func ms(_ d: Duration) -> String {
        String(format: "%.0f", d.milliseconds)
    }
}
