import DocumentStore
import Embeddings
import Foundation
import JSON
import LambdaEvents
import PostgresStore
import Retrieval
import SQLiteStore
import ServiceErrors
import TestSupport
import Testing

/// The stores search runs on: a SQLite file, or a fresh schema of the real Postgres.
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgres
    var description: String { rawValue }

    /// - Parameters: Postgres only: `exactScanRows` 0 and a small `efSearch` force the HNSW path.
    func open(exactScanRows: Int = 20_000, efSearch: Int? = nil) throws -> any Store {
        let migrations = TestPaths.packageRoot + "/infra/migrations"
        let store: any Store
        switch self {
        case .sqlite:
            store = try SQLiteStore(path: TestPaths.temporaryDirectory("search") + "/rag.sqlite", migrationsDirectory: migrations)
        case .postgres:
            store = try PostgresStore(url: try PostgresTestServer.url(schemaPrefix: "rs_"), schema: PostgresTestServer.schemaName(prefix: "rs_"),
                                      migrationsDirectory: migrations, hnswEfSearch: efSearch, exactScanRows: exactScanRows)
        }
        try store.migrate()
        return store
    }
}

/// A real store filled through the store API with vectors from the real model.
struct Corpus {
    let store: any Store
    let embedder: MiniLMEmbedder
    var documents: [String: String] = [:]  // title -> id

    static let model = try! MiniLMEmbedder(modelDirectory: TestPaths.packageRoot + "/.models/all-MiniLM-L6-v2")

    init(_ kind: StoreKind = .sqlite) throws {
        store = try kind.open()
        embedder = Self.model
    }

    init(store: any Store) {
        self.store = store
        embedder = Self.model
    }

    /// One ready document whose chunks are `paragraphs`.
    @discardableResult
    mutating func add(org: OrgID, title: String, _ paragraphs: [String], metadata: JSONObject = [:]) async throws -> String {
        let (doc, _, _) = try store.createDocument(
            NewDocument(orgId: org, title: title, filename: "\(title).txt", mimeType: "text/plain", bytes: 10,
                        sha256: "\(org)-\(title)", blobURI: "file:///x", metadata: metadata), job: nil)
        let v = try store.createVersion(org: org, NewVersion(documentId: doc.id, embedModel: embedder.modelId, dim: 384,
                                                             chunkSize: 200, chunkOverlap: 40, chunkerVersion: "t", sourceSha256: "s"))
        let vectors = try await embedder.embed(paragraphs, role: .passage)
        var offset = 0
        try store.insertChunks(org: org, versionId: v.id, zip(paragraphs, vectors).enumerated().map { i, pv in
            defer { offset += pv.0.count + 2 }
            return NewChunk(index: i, content: pv.0, contentSha256: "\(title)-\(i)", tokenCount: pv.1.tokenCount,
                            charStart: offset, charEnd: offset + pv.0.count, vector: pv.1.vector)
        })
        _ = try store.publishVersion(org: org, id: v.id)
        documents[title] = doc.id
        return doc.id
    }

    var searcher: HybridSearcher { HybridSearcher(store: store, embedder: embedder) }

    static func filled(_ kind: StoreKind = .sqlite) async throws -> Corpus {
        var c = try Corpus(kind)
        try await c.add(org: "acme", title: "Leave policy", [
            "Employees may take up to twelve days of paid annual leave each year.",
            "Nhân viên xin nghỉ phép phải gửi đơn cho quản lý trước ba ngày.",
        ], metadata: ["dept": .string("hr"), "year": .number(2026)])
        try await c.add(org: "acme", title: "Expense claims", [
            "Travel expenses are reimbursed within thirty days of submitting receipts.",
            "Hotel bookings above the limit need approval from finance.",
        ], metadata: ["dept": .string("finance"), "year": .number(2025)])
        try await c.add(org: "acme", title: "IT help", [
            "To reset your password, open the self-service portal and verify your phone.",
            "Laptops are replaced every four years by the IT department.",
        ], metadata: ["dept": .string("it"), "year": .number(2026)])
        try await c.add(org: "globex", title: "Globex secret leave plan", [
            "Globex employees get unlimited paid annual leave days every year.",
        ])
        return c
    }
}

@Suite struct HybridSearchTests {
    func request(_ json: String) throws -> SearchRequest {
        try SearchRequest.parse(try JSONValue.parse(Array(json.utf8)))
    }

    @Test(arguments: StoreKind.allCases)
    func denseResultsAreTheBruteForceOrder(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let r = try await c.searcher.search(org: "acme", try request(#"{"query": "how many vacation days do I get", "mode": "dense", "limit": 6}"#))
        // Brute force over every acme chunk with the same model.
        let q = try await c.embedder.embed(["how many vacation days do I get"], role: .query)[0].vector
        var expected: [(String, Float)] = []
        for id in c.documents.values {
            guard let d = try c.store.documentDetail(org: "acme", id: id), let v = d.readyVersion else { continue }
            for chunk in try c.store.chunks(org: "acme", versionId: v.id) {
                let e = try await c.embedder.embed([chunk.content], role: .passage)[0].vector
                expected.append((chunk.id, zip(q, e).reduce(0) { $0 + $1.0 * $1.1 }))
            }
        }
        expected.sort { $0.1 > $1.1 }
        #expect(r.results.map(\.chunkId) == expected.map(\.0))
        for (hit, (_, score)) in zip(r.results, expected) { #expect(abs(hit.score - Double(score)) < 1e-4) }
        #expect(r.results.first?.title == "Leave policy")
        #expect(r.results.allSatisfy { $0.denseRank != nil })
        #expect(r.queryModel == "sentence-transformers/all-MiniLM-L6-v2")
        // The phases a dense search ran, and no keyword arm.
        #expect(r.timings.embedMs > 0 && r.timings.denseMs > 0 && r.timings.pageMs > 0)
        #expect(r.timings.keywordMs == 0)
        #expect(r.timings.embedMs + r.timings.denseMs + r.timings.pageMs <= r.tookMs)
        let keyword = try await c.searcher.search(org: "acme", try request(#"{"query": "vacation days", "mode": "keyword"}"#))
        #expect(keyword.timings.keywordMs > 0 && keyword.timings.denseMs == 0 && keyword.timings.embedMs == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func tenantsNeverSeeEachOther(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let globexDoc = try #require(c.documents["Globex secret leave plan"])
        for mode in ["hybrid", "dense", "keyword"] {
            let r = try await c.searcher.search(org: "acme", try request(#"{"query": "unlimited paid annual leave globex", "mode": "\#(mode)", "limit": 100}"#))
            #expect(!r.results.contains { $0.documentId == globexDoc }, "\(mode)")
            // Even naming the other org's document in the filter finds nothing.
            let filtered = try await c.searcher.search(org: "acme", try request(
                #"{"query": "unlimited paid annual leave", "mode": "\#(mode)", "filters": {"document_ids": ["\#(globexDoc)"]}}"#))
            #expect(filtered.results.isEmpty, "\(mode)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func vietnameseMatchesWithAndWithoutAccents(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        for query in ["xin nghỉ phép", "xin nghi phep"] {
            let r = try await c.searcher.search(org: "acme", try request(#"{"query": "\#(query)", "mode": "keyword"}"#))
            #expect(r.results.first?.text.hasPrefix("Nhân viên xin nghỉ phép") == true, "\(query)")
        }
        let hybrid = try await c.searcher.search(org: "acme", try request(#"{"query": "xin nghi phep"}"#))
        #expect(hybrid.results.first?.documentId == c.documents["Leave policy"])
        #expect(hybrid.results.first?.keywordRank == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func hybridFusesBothArmsByReciprocalRank(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let r = try await c.searcher.search(org: "acme", try request(#"{"query": "reset password portal", "limit": 6}"#))
        let top = try #require(r.results.first)
        #expect(top.text.contains("reset your password"))
        // score = (1/(60+dr) + 1/(60+kr)) / (2/61), with an absent arm contributing 0.
        for hit in r.results {
            let raw = (hit.denseRank.map { 1 / (60 + Double($0)) } ?? 0) + (hit.keywordRank.map { 1 / (60 + Double($0)) } ?? 0)
            #expect(abs(hit.score - raw / (2.0 / 61)) < 1e-9)
        }
        #expect(r.results.map(\.score) == r.results.map(\.score).sorted(by: >))
    }

    @Test(arguments: StoreKind.allCases)
    func filtersByMetadataAndDate(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let hr = try await c.searcher.search(org: "acme", try request(#"{"query": "policy", "mode": "dense", "filters": {"metadata": {"dept": "hr"}}}"#))
        #expect(!hr.results.isEmpty && hr.results.allSatisfy { $0.documentId == c.documents["Leave policy"] })
        let either = try await c.searcher.search(org: "acme", try request(
            #"{"query": "policy", "mode": "dense", "limit": 100, "filters": {"metadata": {"dept": {"$in": ["hr", "it"]}, "year": 2026}}}"#))
        #expect(Set(either.results.map(\.documentId)) == [c.documents["Leave policy"]!, c.documents["IT help"]!])
        let future = try await c.searcher.search(org: "acme", try request(#"{"query": "policy", "filters": {"created_after": "2999-01-01"}}"#))
        #expect(future.results.isEmpty)
        let past = try await c.searcher.search(org: "acme", try request(#"{"query": "policy", "filters": {"created_before": "2999-01-01T00:00:00Z"}}"#))
        #expect(!past.results.isEmpty)
        let it = try #require(c.documents["IT help"]), expenses = try #require(c.documents["Expense claims"])
        for mode in ["hybrid", "dense", "keyword"] {
            let byId = try await c.searcher.search(org: "acme", try request(
                #"{"query": "employees leave password laptops travel", "mode": "\#(mode)", "limit": 100, "filters": {"document_ids": ["\#(it)", "\#(expenses)"]}}"#))
            #expect(!byId.results.isEmpty && Set(byId.results.map(\.documentId)).isSubset(of: [it, expenses]), "\(mode)")
            // Filters combine (AND): IT help is the only one of the two from 2026.
            let both = try await c.searcher.search(org: "acme", try request(
                #"{"query": "laptops", "mode": "\#(mode)", "limit": 100, "filters": {"document_ids": ["\#(it)", "\#(expenses)"], "metadata": {"year": 2026}}}"#))
            #expect(Set(both.results.map(\.documentId)) == [it], "\(mode)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func groupingByDocumentKeepsTheBestChunkOfEach(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let chunks = try await c.searcher.search(org: "acme", try request(#"{"query": "employees leave days", "mode": "dense", "limit": 100}"#))
        let docs = try await c.searcher.search(org: "acme", try request(#"{"query": "employees leave days", "mode": "dense", "limit": 100, "group_by": "document"}"#))
        #expect(docs.results.count == 3 && Set(docs.results.map(\.documentId)).count == 3)
        for d in docs.results {
            let best = chunks.results.first { $0.documentId == d.documentId }
            #expect(d.chunkId == best?.chunkId)
        }
        let limited = try await c.searcher.search(org: "acme", try request(#"{"query": "employees leave days", "limit": 1, "group_by": "document"}"#))
        #expect(limited.results.count == 1 && limited.total == 3)
    }

    @Test func minScoreCutsAndOffsetsPointIntoTheSource() async throws {
        let c = try await Corpus.filled()
        let all = try await c.searcher.search(org: "acme", try request(#"{"query": "laptop replacement", "mode": "dense", "limit": 100}"#))
        let cut = try await c.searcher.search(org: "acme", try request(#"{"query": "laptop replacement", "mode": "dense", "limit": 100, "min_score": 0.3}"#))
        #expect(cut.results.count < all.results.count && cut.results.allSatisfy { $0.score >= 0.3 })
        let hit = try #require(all.results.first)
        #expect(hit.charEnd - hit.charStart == hit.text.count)
    }

    @Test func longQueriesAreTruncatedAndSaySo() async throws {
        let c = try await Corpus.filled()
        let long = Array(repeating: "annual leave policy", count: 200).joined(separator: " ")
        let r = try await c.searcher.search(org: "acme", SearchRequest(query: long))
        #expect(r.queryTruncated && (r.queryTokens ?? 0) > 256)
        let short = try await c.searcher.search(org: "acme", SearchRequest(query: "annual leave"))
        #expect(!short.queryTruncated)
    }

    @Test(arguments: StoreKind.allCases)
    func vectorsOfAModelThisDeploymentCannotEmbedAreFoundByKeywordWithAWarning(_ kind: StoreKind) async throws {
        let c = try await Corpus.filled(kind)
        let (doc, _, _) = try c.store.createDocument(NewDocument(orgId: "acme", title: "Old", filename: "o.txt", mimeType: "text/plain",
                                                                 bytes: 1, sha256: "old", blobURI: "file:///o"), job: nil)
        let v = try c.store.createVersion(org: "acme", NewVersion(documentId: doc.id, embedModel: "acme/old-model", dim: 3, chunkSize: 200,
                                                                  chunkOverlap: 40, chunkerVersion: "t", sourceSha256: "s"))
        try c.store.insertChunks(org: "acme", versionId: v.id, [NewChunk(index: 0, content: "quarterly zebra inventory", contentSha256: "z",
                                                                         tokenCount: 3, charStart: 0, charEnd: 25, vector: [1, 0, 0])])
        _ = try c.store.publishVersion(org: "acme", id: v.id)
        let r = try await c.searcher.search(org: "acme", SearchRequest(query: "zebra inventory"))
        let found = try #require(r.results.first { $0.documentId == doc.id })
        #expect(found.keywordRank == 1 && found.denseRank == nil)
        #expect(r.warnings.contains { $0.contains("acme/old-model") })
    }
}

/// Counts the texts it is asked to embed; the real model does the work.
final class CountingEmbedder: EmbeddingProvider, @unchecked Sendable {
    let base: MiniLMEmbedder
    let runsLocally: Bool
    private let lock = NSLock()
    private var texts = 0
    init(_ base: MiniLMEmbedder, runsLocally: Bool) { self.base = base; self.runsLocally = runsLocally }
    var modelId: String { base.modelId }
    var dimension: Int { base.dimension }
    var maxInputTokens: Int { base.maxInputTokens }
    var embedded: Int { lock.withLock { texts } }
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        lock.withLock { self.texts += texts.count }
        return try await base.embed(texts, role: role)
    }
}

/// Where the store's model list is a round trip away (Postgres), search embeds the query while
/// it waits, but only with a local model: an HTTP provider is a request (and a bill), never
/// made for an org that has no vectors to compare it with.
@Suite struct SpeculativeEmbeddingTests {
    @Test(arguments: StoreKind.allCases, [false, true])
    func onlyALocalModelEmbedsBeforeKnowingItIsNeeded(_ kind: StoreKind, local: Bool) async throws {
        let c = try await Corpus.filled(kind)
        let embedder = CountingEmbedder(Corpus.model, runsLocally: local)
        let searcher = HybridSearcher(store: c.store, embedder: embedder)
        let empty = try await searcher.search(org: "nobody", SearchRequest(query: "annual leave"))
        #expect(empty.results.isEmpty)
        let speculated = local && c.store.searchesRunElsewhere
        #expect(embedder.embedded == (speculated ? 1 : 0))
        // An org with vectors: the query is embedded exactly once either way.
        let r = try await searcher.search(org: "acme", SearchRequest(query: "annual leave"))
        #expect(r.results.first?.title == "Leave policy")
        #expect(r.results.first?.denseRank != nil)
        #expect(embedder.embedded == (speculated ? 2 : 1))
    }
}

@Suite struct SearchRequestTests {
    func error(_ json: String) -> APIError? {
        do {
            _ = try SearchRequest.parse(try JSONValue.parse(Array(json.utf8)))
            return nil
        } catch {
            return ErrorMapping.apiError(error)
        }
    }

    @Test func defaultsAndBounds() throws {
        let r = try SearchRequest.parse(try JSONValue.parse(Array(#"{"query": "  leave  "}"#.utf8)))
        #expect(r.query == "leave" && r.limit == 10 && r.mode == .hybrid && r.groupBy == .chunk && r.filter.isEmpty)
        #expect(error(#"{"query": "   "}"#)?.status == 422)
        #expect(error(#"{"query": ""}"#)?.status == 422)
        #expect(error(#"{}"#)?.status == 422)
        #expect(error(#"{"query": 5}"#)?.status == 400)
        #expect(error(#"{"query": "x", "limit": 0}"#)?.status == 422)
        #expect(error(#"{"query": "x", "limit": 101}"#)?.status == 422)
        #expect(error(#"{"query": "x", "limit": 2.5}"#)?.status == 400)
        #expect(error(#"{"query": "x", "mode": "fuzzy"}"#)?.status == 422)
        #expect(error(#"{"query": "x", "group_by": "page"}"#)?.status == 422)
        #expect(error(#"{"query": "x", "filters": {"metadata": {"k": {"$gt": 1}}}}"#)?.status == 422)
        #expect(error(#"{"query": "x", "filters": {"metadata": {"k": [1]}}}"#)?.status == 422)
        #expect(error(#"{"query": "x", "filters": {"created_after": "yesterday"}}"#)?.status == 422)
        #expect(error(#"{"query": "x", "filters": {"created_after": "2026-02-01", "created_before": "2026-01-01"}}"#)?.status == 422)
        #expect(error(#"{"query": "x", "filters": {"owner": "me"}}"#)?.status == 422)
        #expect(error(#"{"query": "x", "limits": 5}"#)?.message.contains("Unknown field `limits`") == true)
        #expect(error(#"[1]"#)?.status == 400)
        #expect(error(#"{"query": "\#(String(repeating: "a", count: 2001))"}"#)?.status == 422)
        #expect(error(#"{"query": "x", "limit": 5}"#)?.details["field"] == nil)
    }

    @Test func fusionArithmetic() {
        let f = RankFusion(k: 60, weights: [1, 1])
        let fused = f.fuse([["a", "b", "c"], ["c", "a", "d"]])
        let best = 2.0 / 61
        #expect(fused.map(\.id) == ["a", "c", "b", "d"])
        #expect(abs(fused[0].score - (1.0 / 61 + 1.0 / 62) / best) < 1e-12)
        #expect(abs(fused[1].score - (1.0 / 63 + 1.0 / 61) / best) < 1e-12)
        #expect(fused[2].ranks == [2, nil] && fused[3].ranks == [nil, 3])
        let weighted = RankFusion(k: 1, weights: [3, 1]).fuse([["x"], ["y"]])
        #expect(weighted.map(\.id) == ["x", "y"] && abs(weighted[0].score - 0.75) < 1e-12)
    }
}
