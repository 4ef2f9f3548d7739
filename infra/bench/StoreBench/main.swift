import ArgumentParser
import DocumentStore
import Foundation
import PostgresClient
import PostgresStore
import SQLiteStore

/// The data layer's benchmark (release build; run by infra/bench/store.sh): bulk insert rate,
/// dense top-10 latency (one org's 10k chunks; an org of 100k), Postgres HNSW recall@10 against
/// the exact answer, and keyword latency, for both stores. Every figure is printed beside a
/// baseline measured in the same run and the ratio.
@main
struct StoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store-bench", abstract: "Benchmark the SQLite and Postgres stores.")

    @Option(help: "sqlite, postgres or both.")
    var stores = "both"
    @Option(help: "Postgres URL (infra/postgres.sh url).")
    var postgresURL: String?
    @Option(help: "Folder for the SQLite file.")
    var dir = ".data/bench"
    @Option(help: "Orgs in the multi-tenant data set.")
    var orgs = 10
    @Option(help: "Documents per org.")
    var docsPerOrg = 100
    @Option(help: "Chunks per document.")
    var chunksPerDoc = 100
    @Option(help: "Chunks of the single large org.")
    var bigOrgChunks = 100_000
    @Option(help: "Vector dimension.")
    var dim = 384
    @Option(help: "Queries per measurement.")
    var queries = 200
    @Option(help: "Migrations folder.")
    var migrations = "infra/migrations"
    @Option(help: "Postgres: query an existing bench schema instead of inserting (for tuning).")
    var reuseSchema: String?
    @Option(help: "Comma-separated measurements after the insert: dense, keyword, filtered (for tuning one of them).")
    var measure = "dense,keyword,filtered"
    @Option(help: "Postgres: comma-separated hnsw.ef_search values to measure the 100k-chunk org's latency and recall at, beside the store's default.")
    var efSearch = ""
    @Option(help: "Seed only: insert one org of --big-org-chunks chunks under this org id into --stores (sqlite: --dir/bench.sqlite; postgres: --seed-schema) and exit. The search benchmark's data.")
    var seedOrg: String?
    @Option(help: "Seed only: the model the seeded vectors claim (the deployment's, so its queries are compared with them).")
    var seedModel = "intfloat/multilingual-e5-small"
    @Option(help: "Seed only: the Postgres schema to create and fill.")
    var seedSchema = "bench_search"

    func measures(_ name: String) -> Bool { measure.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == name } }

    func run() throws {
        if let seedOrg {
            guard let org = OrgID(seedOrg) else { throw ValidationError("--seed-org: not a valid org id (\(OrgID.rule))") }
            return try seed(org: org)
        }
        let data = DataSet(dim: dim, seed: 7)
        print("data: \(orgs) orgs x \(docsPerOrg) docs x \(chunksPerDoc) chunks (\(orgs * docsPerOrg * chunksPerDoc)) + one org of \(bigOrgChunks); dim \(dim)")
        let queryVectors = (0..<queries).map { _ in data.query() }
        let keywordQueries = (0..<queries).map { _ in data.keywordQuery() }

        // The floor for a brute-force scan: our SIMD dot product over a plain in-memory matrix.
        let matrix = (0..<100_000).flatMap { _ in data.vector() }
        let scan = Timing.measure(queryVectors.prefix(50)) { q in _ = Exact.topK(matrix: matrix, dim: dim, query: q, k: 10) }
        print(String(format: "baseline: plain SIMD scan of 100k x %d floats, top-10: p50 %.2f ms p99 %.2f ms (one core)", dim, scan.p50, scan.p99))

        var kinds: [String] = []
        if stores == "both" || stores == "sqlite" { kinds.append("sqlite") }
        if stores == "both" || stores == "postgres" { kinds.append("postgres") }
        for kind in kinds {
            let store: any Store
            var schema: String?
            if kind == "sqlite" {
                try? FileManager.default.removeItem(atPath: dir)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                store = try SQLiteStore(path: dir + "/bench.sqlite", migrationsDirectory: migrations)
            } else {
                guard let postgresURL else { throw ValidationError("--postgres-url is needed for the Postgres store") }
                let name = reuseSchema ?? "bench_\(Int(Date().timeIntervalSince1970))"
                store = try PostgresStore(url: postgresURL, schema: name, migrationsDirectory: migrations)
                schema = name
                print("postgres schema \(name) (--reuse-schema \(name) queries it again)")
            }
            try store.migrate()
            print("\n== \(kind)")

            // Bulk insert: the multi-tenant set, then the big org.
            var orgVectors: [OrgID: [(String, [Float])]] = [:]  // chunk id -> vector, for exact answers
            if kind == "postgres", let reuseSchema, let postgresURL {
                let c = try PostgresConnection(url: postgresURL)
                for org: OrgID in ["org3", "big"] {
                    orgVectors[org] = try c.query("SELECT chunk_id, embedding::text AS v FROM \(reuseSchema).chunk_embeddings WHERE org_id = $1",
                                                  [.text(org)]).map { (try $0.string("chunk_id"), Vectors.normalized(try $0.floats("v"))) }
                }
                print("reusing schema \(reuseSchema): no inserts")
            } else {
            var inserted = 0
            let started = Date()
            for o in 0..<orgs {
                let org: OrgID = "org\(o)"
                for d in 0..<docsPerOrg {
                    try insertDocument(store, data: data, org: org, name: "\(org)-doc\(d)", chunks: chunksPerDoc, record: &orgVectors)
                    inserted += chunksPerDoc
                }
            }
            let multiSeconds = Date().timeIntervalSince(started)
            let bigStarted = Date()
            let bigDocs = max(1, bigOrgChunks / chunksPerDoc)
            for d in 0..<bigDocs {
                try insertDocument(store, data: data, org: "big", name: "big-doc\(d)", chunks: chunksPerDoc, record: &orgVectors)
            }
            let bigSeconds = Date().timeIntervalSince(bigStarted)
            print(String(format: "bulk insert: %d chunks in %.1f s = %.0f chunks/s (multi-tenant set); %d in %.1f s = %.0f chunks/s (big org)",
                         inserted, multiSeconds, Double(inserted) / multiSeconds, bigDocs * chunksPerDoc, bigSeconds,
                         Double(bigDocs * chunksPerDoc) / bigSeconds))
            }

            var exactAnswers: [OrgID: [Set<String>]] = [:]
            // The exact 50 nearest in the 100k-chunk org, in order: search asks the dense arm for a
            // pool of 50 (limit 10), of which the best 10 matter most.
            var exactPool: [[String]] = []
            for (label, org) in [("one org's 10k chunks", "org3" as OrgID), ("a 100k-chunk org", "big" as OrgID)] where measures("dense") {
                let truth = orgVectors[org] ?? []
                let flat = truth.flatMap(\.1)
                let ids = truth.map(\.0)
                // Exact answers for every query, computed outside the timed loop (inside it, they
                // inflated the tail of the queries they were computed for).
                let exact = queryVectors.map { q in Set(Exact.topK(matrix: flat, dim: dim, query: q, k: 10).map { ids[$0.1] }) }
                exactAnswers[org] = exact
                if org == "big", !efSearch.isEmpty {
                    exactPool = queryVectors.map { q in Exact.topK(matrix: flat, dim: dim, query: q, k: 50).map { ids[$0.1] } }
                }
                // Warm: the first query loads the SQLite vector cache; report it apart.
                let first = Date()
                _ = try store.denseSearch(org: org, model: DataSet.model, query: queryVectors[0], k: 10, filter: SearchFilter())
                let coldMs = Date().timeIntervalSince(first) * 1000
                let (t, recall) = try Self.denseRun(store, org: org, queries: queryVectors, exact: exact)
                let exactBaseline = Timing.measure(queryVectors.prefix(50)) { q in _ = Exact.topK(matrix: flat, dim: dim, query: q, k: 10) }
                print(String(format: "dense top-10, %@: p50 %.2f ms p99 %.2f ms (first query %.1f ms); recall@10 %.3f; plain scan of the same rows p50 %.2f ms; ratio %.2fx",
                             label, t.p50, t.p99, coldMs, recall, exactBaseline.p50, t.p50 / exactBaseline.p50))
            }
            if kind == "postgres", let postgresURL, let schema, measures("dense") {
                // Latency and recall against hnsw.ef_search, for tuning the store's default.
                for ef in efSearch.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                    let tuned = try PostgresStore(url: postgresURL, schema: schema, migrationsDirectory: migrations, hnswEfSearch: ef)
                    _ = try tuned.denseSearch(org: "big", model: DataSet.model, query: queryVectors[0], k: 10, filter: SearchFilter())
                    let (t, recall) = try Self.denseRun(tuned, org: "big", queries: queryVectors, exact: exactAnswers["big"] ?? [])
                    var got: [[String]] = []
                    let pool = try Timing.measureThrowing(queryVectors) { q in
                        got.append(try tuned.denseSearch(org: "big", model: DataSet.model, query: q, k: 50, filter: SearchFilter()).map(\.chunkId))
                    }
                    func poolRecall(_ n: Int) -> Double {
                        let r = zip(got, exactPool).map { g, e in Double(Set(g.prefix(n)).intersection(e.prefix(n)).count) / Double(max(1, min(n, e.count))) }
                        return r.reduce(0, +) / Double(max(1, r.count))
                    }
                    print(String(format: "  ef_search %d, 100k-chunk org: p50 %.2f ms p99 %.2f ms; recall@10 %.3f | k 50 (search's pool): p50 %.2f ms; its first 10 recall %.3f, all 50 recall %.3f",
                                 ef, t.p50, t.p99, recall, pool.p50, poolRecall(10), poolRecall(50)))
                }
            }
            if measures("keyword") {
                let kw = try Timing.measureThrowing(keywordQueries) { q in
                    _ = try store.keywordSearch(org: "big", query: q, k: 10, filter: SearchFilter())
                }
                let kwSmall = try Timing.measureThrowing(keywordQueries) { q in
                    _ = try store.keywordSearch(org: "org3", query: q, k: 10, filter: SearchFilter())
                }
                print(String(format: "keyword top-10: 100k-chunk org p50 %.2f ms p99 %.2f ms; 10k-chunk org p50 %.2f ms p99 %.2f ms",
                             kw.p50, kw.p99, kwSmall.p50, kwSmall.p99))
            }
            if measures("filtered") {
                let filtered = try Timing.measureThrowing(queryVectors) { q in
                    _ = try store.denseSearch(org: "big", model: DataSet.model, query: q, k: 10,
                                              filter: SearchFilter(metadata: ["dept": .equals("hr")]))
                }
                print(String(format: "dense top-10 with a metadata filter (a tenth of the documents), 100k-chunk org: p50 %.2f ms p99 %.2f ms",
                             filtered.p50, filtered.p99))
            }
        }
    }

    /// One org of clustered 384-d vectors and Zipf text, for `infra/bench/search.sh`: the query
    /// is embedded by the real model in the search handler; only the stored vectors are synthetic.
    func seed(org: OrgID) throws {
        let data = DataSet(dim: dim, seed: 11, model: seedModel)
        let store: any Store
        if stores == "sqlite" {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            store = try SQLiteStore(path: dir + "/bench.sqlite", migrationsDirectory: migrations)
        } else if stores == "postgres", let postgresURL {
            store = try PostgresStore(url: postgresURL, schema: seedSchema, migrationsDirectory: migrations)
        } else {
            throw ValidationError("--seed-org needs --stores sqlite, or --stores postgres with --postgres-url")
        }
        try store.migrate()
        let started = Date()
        var ignored: [OrgID: [(String, [Float])]] = [:]
        for d in 0..<max(1, bigOrgChunks / chunksPerDoc) {
            try insertDocument(store, data: data, org: org, name: "\(org)-doc\(d)", chunks: chunksPerDoc, record: &ignored)
            ignored.removeAll(keepingCapacity: true)
        }
        print(String(format: "seeded %d chunks for org %@ (%@) in %.1f s", bigOrgChunks, org.rawValue, stores, Date().timeIntervalSince(started)))
    }

    /// Times every query; recall@10 against `exact` (one set per query), over all of them.
    static func denseRun(_ store: any Store, org: OrgID, queries: [[Float]], exact: [Set<String>]) throws -> (Timing.Summary, Double) {
        var got: [[String]] = []
        let t = try Timing.measureThrowing(queries) { q in
            got.append(try store.denseSearch(org: org, model: DataSet.model, query: q, k: 10, filter: SearchFilter()).map(\.chunkId))
        }
        let recall = zip(got, exact).map { g, e in Double(g.filter(e.contains).count) / Double(max(1, e.count)) }
        return (t, recall.reduce(0, +) / Double(max(1, recall.count)))
    }

    func insertDocument(_ store: any Store, data: DataSet, org: OrgID, name: String, chunks: Int,
                        record: inout [OrgID: [(String, [Float])]]) throws {
        let dept = ["hr", "it", "finance", "legal", "sales", "ops", "eng", "support", "admin", "travel"][abs(name.hashValue) % 10]
        let doc = try store.createDocument(NewDocument(orgId: org, title: name, filename: name + ".txt", mimeType: "text/plain",
                                                       bytes: 1000, sha256: name, blobURI: "file:///" + name, metadata: ["dept": .string(dept)]),
                                           job: nil).document
        let v = try store.createVersion(org: org, NewVersion(documentId: doc.id, embedModel: data.model, dim: data.dim, chunkSize: 256,
                                                            chunkOverlap: 32, chunkerVersion: "bench", sourceSha256: name))
        var new: [NewChunk] = []
        for i in 0..<chunks {
            let text = data.text()
            new.append(NewChunk(index: i, content: text, contentSha256: "\(name)-\(i)", tokenCount: 40, charStart: i * 200,
                                charEnd: i * 200 + text.count, vector: data.vector()))
        }
        try store.insertChunks(org: org, versionId: v.id, new)
        try store.publishVersion(org: org, id: v.id)
        let stored = try store.chunks(org: org, versionId: v.id)
        record[org, default: []] += zip(stored, new).map { ($0.id, Vectors.normalized($1.vector)) }
    }
}

/// Clustered vectors (real embeddings are not uniform) and Zipf-ish text, from a fixed seed.
final class DataSet {
    static let model = "bench-model"
    let model: String
    let dim: Int
    var rng: SplitMix
    let centers: [[Float]]
    let words: [String]

    init(dim: Int, seed: UInt64, model: String = DataSet.model) {
        self.model = model
        self.dim = dim
        rng = SplitMix(state: seed)
        var r = SplitMix(state: seed ^ 0xABCDEF)
        centers = (0..<200).map { _ in Vectors.normalized((0..<dim).map { _ in Float.random(in: -1...1, using: &r) }) }
        let syllables = ["an", "ba", "co", "du", "em", "fa", "gi", "ho", "in", "ky", "la", "mo", "nu", "ok", "pa", "qui", "ra", "so", "tu", "vy",
                         "nghỉ", "phép", "đơn", "lương", "họp", "phòng", "khách", "công", "tác", "mua"]
        words = (0..<5000).map { i in syllables[i % syllables.count] + syllables[(i / syllables.count) % syllables.count] + String(i % 7) }
    }

    func vector() -> [Float] {
        let c = centers[Int(rng.next() % UInt64(centers.count))]
        return Vectors.normalized(c.map { $0 + Float.random(in: -0.35...0.35, using: &rng) / Float(dim).squareRoot() * 4 })
    }

    func query() -> [Float] { vector() }

    /// Zipf-like: low word indices are common.
    func word() -> String {
        let u = Double(rng.next() % 1_000_000) / 1_000_000
        return words[min(words.count - 1, Int(pow(u, 3) * Double(words.count)))]
    }

    func text() -> String { (0..<40).map { _ in word() }.joined(separator: " ") }
    func keywordQuery() -> String { (0..<3).map { _ in word() }.joined(separator: " ") }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

enum Exact {
    static func topK(matrix: [Float], dim: Int, query: [Float], k: Int) -> [(Float, Int)] {
        let q = Vectors.normalized(query)
        var best: [(Float, Int)] = []
        matrix.withUnsafeBufferPointer { m in
            q.withUnsafeBufferPointer { qp in
                for row in 0..<(m.count / dim) {
                    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
                    let a = UnsafeRawPointer(qp.baseAddress!), b = UnsafeRawPointer(m.baseAddress! + row * dim)
                    var i = 0
                    while i + 16 <= dim {
                        s0 += a.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * b.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                        s1 += a.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) * b.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                        i += 16
                    }
                    var s = (s0 + s1).sum()
                    while i < dim { s += qp[i] * m[row * dim + i]; i += 1 }
                    if best.count < k || s > best[best.count - 1].0 {
                        best.append((s, row))
                        best.sort { $0.0 > $1.0 }
                        if best.count > k { best.removeLast() }
                    }
                }
            }
        }
        return best
    }
}

enum Timing {
    struct Summary { var p50: Double; var p99: Double }

    static func summarize(_ ms: [Double]) -> Summary {
        let s = ms.sorted()
        return Summary(p50: s[s.count / 2], p99: s[min(s.count - 1, Int(Double(s.count) * 0.99))])
    }

    static func measure<C: Collection>(_ items: C, _ body: (C.Element) -> Void) -> Summary {
        summarize(items.map { item in
            let t = DispatchTime.now().uptimeNanoseconds
            body(item)
            return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6
        })
    }

    static func measureThrowing<C: Collection>(_ items: C, _ body: (C.Element) throws -> Void) throws -> Summary {
        var out: [Double] = []
        for item in items {
            let t = DispatchTime.now().uptimeNanoseconds
            try body(item)
            out.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
        }
        return summarize(out)
    }
}
