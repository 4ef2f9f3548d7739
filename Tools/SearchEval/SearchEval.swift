import ArgumentParser
import Foundation
import SearchEvaluation

/// `search-eval`: uploads a BEIR-format collection through a running emulator's real API, waits
/// until every document is `ready`, runs every judged query through `POST /v1/search` in each
/// mode (and each fusion setting asked for), and prints nDCG@10, Recall@10, Recall@100 and
/// MRR@10 per run.
@main
struct SearchEvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-eval",
        abstract: "Evaluates POST /v1/search on a BEIR-format collection through the running API.",
        discussion: """
            Give --dataset DIR (BEIR's layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv) or
            --corpus, --queries and --qrels. The shipped set is config/search-eval. Each run uploads
            into a fresh org (documents are deduplicated per org, not across orgs), so runs never
            see each other's documents.
            """)

    @Option(help: "A BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
    var dataset: String?
    @Option(help: "The qrels split in --dataset.")
    var split = "test"
    @Option(help: "JSON lines {_id, title, text}.")
    var corpus: String?
    @Option(help: "JSON lines {_id, text}.")
    var queries: String?
    @Option(help: "TSV query-id, corpus-id, score (a header line first).")
    var qrels: String?

    @Option(help: "The API's base URL.")
    var url = "http://127.0.0.1:3000"
    @Option(help: "A bearer token (else one is minted with `emulator token` for --org).")
    var token: String?
    @Option(help: "The org to upload into when minting a token (default: a fresh one per run).")
    var org: String?
    @Option(help: "The emulator executable used to mint a token (default: the one beside this executable).")
    var emulator: String?
    @Option(help: "The template `emulator token` reads issuer and audience from.")
    var template: String?

    @Option(help: "Comma-separated modes: hybrid, dense, keyword.")
    var modes = "hybrid,dense,keyword"
    @Option(help: "Comma-separated RRF k values for extra hybrid runs (a sweep).")
    var rrfK: String?
    @Option(help: "Comma-separated dense:keyword weight pairs for extra hybrid runs, e.g. 1:1,1:0.5,0.5:1.")
    var weights: String?

    @Option(help: "Requests in flight at once.")
    var concurrency = 4
    @Option(help: "Seconds to wait for every document to be ready.")
    var readyTimeout = 900.0
    @Flag(help: "One JSON object on stdout instead of a table.")
    var json = false
    @Option(help: "Exit 1 when the first run's nDCG@10 is below this (CI's guard against a retrieval regression).")
    var minNdcg: Double?

    @Option(help: "TSV query-id, category (a header line first): every run is also scored per category. Default: query-categories.tsv in --dataset, when there.")
    var categories: String?

    func validate() throws {
        if dataset == nil, corpus == nil || queries == nil || qrels == nil {
            throw ValidationError("give --dataset DIR, or --corpus, --queries and --qrels")
        }
        if dataset != nil, corpus != nil || queries != nil || qrels != nil {
            throw ValidationError("--dataset and --corpus/--queries/--qrels are exclusive")
        }
        _ = try runs()
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    /// The runs: each mode with the deployment's settings, then every (k, weights) asked for.
    func runs() throws -> [EvaluationRun] {
        var out: [EvaluationRun] = []
        for m in modes.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard ["hybrid", "dense", "keyword"].contains(m) else { throw ValidationError("unknown mode `\(m)`") }
            out.append(EvaluationRun(mode: m))
        }
        let ks: [Double?] = try rrfK.map { try $0.split(separator: ",").map {
            guard let k = Double($0.trimmingCharacters(in: .whitespaces)), k >= 0 else { throw ValidationError("--rrf-k: `\($0)` is not a number >= 0") }
            return k
        } } ?? [nil]
        let ws: [(Double, Double)?] = try weights.map { try $0.split(separator: ",").map {
            let p = $0.split(separator: ":").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard p.count == 2, p[0] >= 0, p[1] >= 0, p[0] + p[1] > 0 else { throw ValidationError("--weights: `\($0)` is not dense:keyword") }
            return (p[0], p[1])
        } } ?? [nil]
        if rrfK != nil || weights != nil {
            for k in ks { for w in ws { out.append(EvaluationRun(mode: "hybrid", k: k, denseWeight: w?.0, keywordWeight: w?.1)) } }
        }
        return out
    }

    func run() async throws {
        let data: EvaluationDataset
        do {
            data = try dataset.map { try EvaluationDataset.load(folder: $0, split: split) }
                ?? EvaluationDataset.load(corpus: corpus!, queries: queries!, qrels: qrels!)
        } catch {
            fail("\(error)")
        }
        log("dataset: \(data.corpus.count) documents, \(data.queries.count) judged queries, "
            + "\(data.qrels.values.reduce(0) { $0 + $1.count }) judgments")
        for line in data.skipped.report { log(line) }
        let client: APIClient
        do {
            let bearer: String
            if let token { bearer = token } else { bearer = try await mintToken() }
            client = try APIClient(baseURL: url, token: bearer)
        } catch {
            fail("\(error)")
        }

        // Upload, a few at a time.
        let started = Date()
        let uploads = data.corpus.map { EvaluationDocumentUpload(id: $0.id, title: $0.title, body: $0.text.isEmpty ? $0.title : $0.text) }
        let ids: [String]
        do {
            ids = try await mapConcurrently(uploads, width: concurrency) { try await client.upload($0) }
        } catch {
            fail("\(error)")
        }
        var corpusIds: [String: [String]] = [:]  // API document id -> corpus ids (identical texts share one)
        for (doc, id) in zip(data.corpus, ids) { corpusIds[id, default: []].append(doc.id) }
        log(String(format: "uploaded %d documents (%d distinct) in %.1f s; waiting for ready", ids.count, corpusIds.count,
                   Date().timeIntervalSince(started)))

        // Wait until none is pending: one list request a second reads the org's counts (each run
        // has an org of its own). Asking for each document, four at a time every 250 ms, kept the
        // emulator and `upload` at about 65 % of a core on 3,600 documents, taken from the workers
        // being waited for.
        let deadline = Date().addingTimeInterval(readyTimeout)
        var lastReport = Date()
        while true {
            let counts: [String: Int]
            do { counts = try await client.documentCounts() } catch { fail("\(error)") }
            let pending = counts["pending", default: 0]
            if pending == 0 { break }
            if Date() > deadline { fail("\(pending) documents not ready after \(Int(readyTimeout)) s") }
            if Date().timeIntervalSince(lastReport) >= 15 {
                log("\(counts["ready", default: 0]) ready, \(pending) pending, \(counts["failed", default: 0]) failed")
                lastReport = Date()
            }
            try await Task.sleep(for: .seconds(1))
        }
        var failed: [(String, String?)] = []
        do {
            for id in try await client.documentIds(status: "failed") where corpusIds[id] != nil {
                failed.append((id, try await client.failure(of: id)))
            }
        } catch {
            fail("\(error)")
        }
        log(String(format: "indexed in %.1f s from the first upload", Date().timeIntervalSince(started)))
        for (id, error) in failed.prefix(5) {
            log("failed: \(corpusIds[id]!.joined(separator: ",")): \(error ?? "no error recorded") (scored as missing)")
        }

        // Every run over every judged query.
        let documentsToCorpus = corpusIds
        let categoryOf: [String: String]
        do {
            categoryOf = try loadCategories()
        } catch {
            fail("\(error)")
        }
        var results: [EvaluationResult] = []
        for run in try runs() {
            let queries = data.queries
            let t0 = Date()
            let rankings: [(String, [String], Double)]
            do {
                rankings = try await mapConcurrently(queries, width: concurrency) { q in
                    let sent = Date()
                    // The API takes at most 2,000 characters; longer queries are cut, as a client would.
                    let docs = try await client.search(run.body(query: String(q.text.prefix(2_000))))
                    return (q.id, docs.flatMap { documentsToCorpus[$0] ?? [] }, Date().timeIntervalSince(sent) * 1000)
                }
            } catch {
                fail("\(error)")
            }
            let summary = MetricSummary.evaluate(rankings: Dictionary(rankings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }),
                                                 qrels: data.qrels)
            let ms = rankings.map(\.2).sorted()
            var byCategory: [String: MetricSummary] = [:]
            for category in Set(categoryOf.values) {
                let judged = data.qrels.filter { categoryOf[$0.key] == category }
                byCategory[category] = MetricSummary.evaluate(
                    rankings: Dictionary(rankings.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }), qrels: judged)
            }
            results.append(EvaluationResult(run: run.label, metrics: summary, p50Ms: ms.isEmpty ? 0 : ms[ms.count / 2],
                                            seconds: Date().timeIntervalSince(t0), categories: byCategory.isEmpty ? nil : byCategory))
        }
        let report = EvaluationReport(documents: data.corpus.count, failedDocuments: failed.reduce(0) { $0 + corpusIds[$1.0]!.count },
                                      queries: data.queries.count, results: results)
        print(json ? report.json() : report.table())
        if let minNdcg, let first = results.first, first.metrics.ndcg10 < minNdcg {
            log(String(format: "%@: nDCG@10 %.3f is below --min-ndcg %.3f", first.run, first.metrics.ndcg10, minNdcg))
            throw ExitCode(1)
        }
    }

    /// Query id -> category, from --categories or the dataset's `query-categories.tsv`.
    func loadCategories() throws -> [String: String] {
        let path = categories ?? dataset.map { ($0 as NSString).appendingPathComponent("query-categories.tsv") }
        guard let path, categories != nil || FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw APIClient.CallError(description: "--categories \(path) cannot be read")
        }
        var out: [String: String] = [:]
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() where n > 0 {
            let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw APIClient.CallError(description: "\(path) line \(n + 1) is not `query-id<TAB>category`")
            }
            out[fields[0]] = fields[1]
        }
        return out
    }

    func mintToken() async throws -> String {
        let org = org ?? "search-eval-\(Int(Date().timeIntervalSince1970))-\(Int.random(in: 1000...9999))"
        let exe = emulator ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("emulator").path
        var args = ["token", "--org", org, "--sub", "search-eval"]
        if let template { args += ["--template", template] }
        let r = try await runCommand(exe, args)
        let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, !token.isEmpty else {
            throw APIClient.CallError(description: "`\(exe) token` failed (\(r.status)): \(r.stderr) (or pass --token)")
        }
        log("org: \(org)")
        return token
    }

    func log(_ s: String) { FileHandle.standardError.write(Data("search-eval: \(s)\n".utf8)) }

    func fail(_ s: String) -> Never {
        log(s)
        Foundation.exit(2)
    }
}
