import CVectorKernels
import DocumentStore
import Foundation
import JSON
import PostgresStore
import SQLiteStore
import Testing
import TestSupport

/// Dense and keyword search over ready versions: exact results, filters, languages.
@Suite struct SearchPrimitiveTests {
    @Test(arguments: Backend.allCases)
    func denseResultsEqualAnExactComputation(_ backend: Backend) throws {
        let store = try backend.fresh().store
        var rng = SeededRandom(state: 42)
        let dim = 24
        var live: [(chunkId: String, documentId: String, vector: [Float])] = []
        for d in 0..<30 {
            let chunks = (0..<8).map { c in ("doc \(d) chunk \(c)", Fixture.randomVector(dim, using: &rng)) }
            let (doc, v) = try Fixture.readyDocument(store, org: "acme", content: "dense \(d)", chunks: chunks)
            let stored = try store.chunks(org: "acme", versionId: v.id)
            for (c, (_, vector)) in zip(stored, chunks) { live.append((c.id, doc.id, vector)) }
            // Noise that must never appear: a superseded version, a deleted document, another org.
            if d % 10 == 0 {
                let v2 = try store.createVersion(org: "acme", Fixture.version(doc.id, dim: dim))
                let newChunks = (0..<8).map { c in ("doc \(d) v2 chunk \(c)", Fixture.randomVector(dim, using: &rng)) }
                try store.insertChunks(org: "acme", versionId: v2.id, newChunks.enumerated().map { Fixture.chunk($0.offset, $0.element.0, $0.element.1) })
                try store.publishVersion(org: "acme", id: v2.id)
                live.removeAll { $0.documentId == doc.id }
                for (c, (_, vector)) in zip(try store.chunks(org: "acme", versionId: v2.id), newChunks) { live.append((c.id, doc.id, vector)) }
            }
        }
        let (gone, _) = try Fixture.readyDocument(store, org: "acme", content: "deleted", chunks: [("x", Fixture.randomVector(dim, using: &rng))])
        _ = try store.softDeleteDocument(org: "acme", id: gone.id, job: nil)
        try Fixture.readyDocument(store, org: "globex", content: "other", chunks: (0..<20).map { ("g\($0)", Fixture.randomVector(dim, using: &rng)) })
        // An indexing version's chunks are invisible too.
        let pendingDoc = try store.createDocument(Fixture.document(org: "acme", content: "pending"), job: nil).document
        let pv = try store.createVersion(org: "acme", Fixture.version(pendingDoc.id, dim: dim))
        try store.insertChunks(org: "acme", versionId: pv.id, [Fixture.chunk(0, "pending", Fixture.randomVector(dim, using: &rng))])

        for _ in 0..<5 {
            let q = Fixture.randomVector(dim, using: &rng)
            let exact = live.map { ($0.chunkId, Vectors.cosine(q, $0.vector)) }.sorted { $0.1 > $1.1 }.prefix(10)
            let got = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 10, filter: SearchFilter())
            #expect(got.map(\.chunkId) == exact.map(\.0))
            for (g, e) in zip(got, exact) { #expect(abs(g.score - e.1) < 1e-4) }
        }
    }

    @Test(arguments: Backend.allCases)
    func filtersNarrowWithoutUnderFilling(_ backend: Backend) throws {
        let store = try backend.fresh().store
        var docs: [String: Document] = [:]
        for i in 0..<12 {
            let dept: JSONValue = i % 3 == 0 ? "hr" : (i % 3 == 1 ? "it" : "finance")
            let (doc, _) = try Fixture.readyDocument(store, org: "acme", content: "filter \(i)",
                                                     chunks: (0..<5).map { ("policy \(i) part \($0) leave", [Float(i + 1), Float($0), 1, 0]) },
                                                     metadata: ["dept": dept, "year": .number(Double(2020 + i % 2))])
            docs[doc.id] = doc
        }
        let q: [Float] = [1, 0, 0, 0]
        // 4 hr documents x 5 chunks = 20 matches: a limit of 15 returns 15, all hr.
        let hr = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 15, filter: SearchFilter(metadata: ["dept": .equals("hr")]))
        #expect(hr.count == 15)
        #expect(hr.allSatisfy { docs[$0.documentId]?.metadata["dept"] == "hr" })
        let hrOrIt = try store.keywordSearch(org: "acme", query: "leave policy", k: 100,
                                             filter: SearchFilter(metadata: ["dept": .isIn(["hr", "it"])]))
        #expect(hrOrIt.count == 40)
        #expect(hrOrIt.allSatisfy { docs[$0.documentId]?.metadata["dept"] != "finance" })
        let byNumber = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 100,
                                             filter: SearchFilter(metadata: ["year": .equals(.number(2021))]))
        #expect(byNumber.count == 30)
        let someIds = Array(docs.keys.sorted().prefix(2))
        let byId = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 100, filter: SearchFilter(documentIds: someIds))
        #expect(Set(byId.map(\.documentId)) == Set(someIds))
        #expect(byId.count == 10)
        let future = try store.keywordSearch(org: "acme", query: "leave", k: 10, filter: SearchFilter(createdAfter: Date().addingTimeInterval(60)))
        #expect(future.isEmpty)
        let past = try store.keywordSearch(org: "acme", query: "leave", k: 10, filter: SearchFilter(createdAfter: Date().addingTimeInterval(-3600),
                                                                                                     createdBefore: Date().addingTimeInterval(60)))
        #expect(past.count == 10)
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: q, k: 10,
                                      filter: SearchFilter(metadata: ["dept": .equals("legal")])).isEmpty)
        #expect(try store.denseSearch(org: "acme", model: "no-such-model", query: q, k: 10, filter: SearchFilter()).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func keywordSearchIgnoresAccentsAndCase(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (leave, _) = try Fixture.readyDocument(store, org: "acme", content: "vi", chunks: [
            ("Quy trình xin nghỉ phép năm: nhân viên gửi đơn cho quản lý trực tiếp.", [1, 0, 0, 0]),
            ("Đăng ký khách đến thăm văn phòng tại quầy lễ tân.", [0, 1, 0, 0]),
        ])
        let (english, _) = try Fixture.readyDocument(store, org: "acme", content: "en", chunks: [
            ("To reset your password, open the IT portal and choose Forgot password.", [0, 0, 1, 0]),
        ])
        for query in ["xin nghỉ phép", "xin nghi phep", "XIN NGHI PHEP", "nghỉ phép năm"] {
            let hits = try store.keywordSearch(org: "acme", query: query, k: 5, filter: SearchFilter())
            #expect(hits.first?.documentId == leave.id, "query \(query)")
        }
        let visitor = try store.keywordSearch(org: "acme", query: "dang ky khach", k: 5, filter: SearchFilter())
        #expect(visitor.count == 1)
        let chunk = try #require(try store.chunks(org: "acme", ids: visitor.map(\.chunkId)).first)
        #expect(chunk.content.hasPrefix("Đăng ký khách"))
        let password = try store.keywordSearch(org: "acme", query: "Reset Password", k: 5, filter: SearchFilter())
        #expect(password.map(\.documentId) == [english.id])
        #expect(password.first.map { $0.score > 0 } == true)
        #expect(try store.keywordSearch(org: "acme", query: "   ", k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "\" OR 1=1 --", k: 5, filter: SearchFilter()).isEmpty)
        #expect(try store.keywordSearch(org: "acme", query: "zebra", k: 5, filter: SearchFilter()).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func moreMatchingTermsRankHigher(_ backend: Backend) throws {
        let store = try backend.fresh().store
        try Fixture.readyDocument(store, org: "acme", content: "rank", chunks: [
            ("meeting room booking", [1, 0, 0, 0]),
            ("room", [1, 0, 0, 0]),
            ("the cafeteria menu", [1, 0, 0, 0]),
        ])
        let hits = try store.keywordSearch(org: "acme", query: "book a meeting room", k: 5, filter: SearchFilter())
        let contents = try store.chunks(org: "acme", ids: hits.map(\.chunkId)).map(\.content)
        #expect(contents == ["meeting room booking", "room"])
        #expect(hits[0].score > hits[1].score)
    }

    /// Hundreds of another org's chunks, and an old version's, rank above the few this org has
    /// (they repeat the word): the org still gets every one of its own matches, and only those.
    @Test(arguments: Backend.allCases)
    func keywordSearchFindsAnOrgsFewMatchesUnderOthersMany(_ backend: Backend) throws {
        let store = try backend.fresh().store
        for d in 0..<3 {
            try Fixture.readyDocument(store, org: "globex", content: "busy \(d)",
                                      chunks: (0..<150).map { ("quarterly quarterly quarterly report \(d) \($0)", [1, 0, 0, 0]) })
        }
        let (doc, old) = try Fixture.readyDocument(store, org: "acme", content: "acme old",
                                                   chunks: (0..<250).map { ("quarterly quarterly quarterly draft \($0)", [1, 0, 0, 0]) })
        let v2 = try store.createVersion(org: "acme", Fixture.version(doc.id, dim: 4))
        try store.insertChunks(org: "acme", versionId: v2.id, (0..<3).map { Fixture.chunk($0, "the quarterly review, part \($0), and other words", [1, 0, 0, 0]) })
        try store.publishVersion(org: "acme", id: v2.id)
        let hits = try store.keywordSearch(org: "acme", query: "quarterly", k: 10, filter: SearchFilter())
        #expect(hits.count == 3)
        #expect(Set(hits.map(\.versionId)) == [v2.id])
        #expect(!hits.contains { $0.versionId == old.id })
        // A k smaller than the org's matches still fills.
        #expect(try store.keywordSearch(org: "acme", query: "quarterly review", k: 2, filter: SearchFilter()).count == 2)
    }
}


/// SQLite leaves terms found in half the chunks or more out of the keyword query (bm25 gives
/// them no weight): the answer must be the one the full query gives, filled from the chunks
/// that match only such a term when the others are fewer than k.
@Suite struct CommonTermTests {
    @Test func commonTermsChangeNeitherTheOrderNorTheFill() throws {
        let store = try Backend.sqlite.fresh().store
        try Fixture.readyDocument(store, org: "acme", content: "filler",
                                  chunks: (0..<40).map { ("the filler text number \($0)", [1, 0, 0, 0]) })
        try Fixture.readyDocument(store, org: "acme", content: "reports", chunks: [
            ("the quarterly report, quarterly numbers", [1, 0, 0, 0]),
            ("the quarterly report", [1, 0, 0, 0]),
            ("quarterly numbers without the article", [1, 0, 0, 0]),
        ])
        func contents(_ hits: [ScoredChunk]) throws -> [String] { try store.chunks(org: "acme", ids: hits.map(\.chunkId)).map(\.content) }
        let top = try store.keywordSearch(org: "acme", query: "the quarterly", k: 3, filter: SearchFilter())
        #expect(try contents(top) == ["the quarterly report, quarterly numbers", "the quarterly report", "quarterly numbers without the article"])
        let filled = try store.keywordSearch(org: "acme", query: "the quarterly", k: 10, filter: SearchFilter())
        #expect(filled.count == 10)
        #expect(try contents(filled).prefix(3).allSatisfy { $0.contains("quarterly") })
        #expect(try contents(filled).dropFirst(3).allSatisfy { $0.hasPrefix("the filler") })
        // A query of common terms only is answered as it is.
        #expect(try store.keywordSearch(org: "acme", query: "the", k: 5, filter: SearchFilter()).count == 5)
    }
}

/// The SQLite store's two-pass scan for large sets (int8, then float32 rescoring), forced on
/// a small set: the answer must still be the exact one.
@Suite struct QuantizedScanTests {
    /// The int8 kernels (AVX-512 VNNI, AVX2, plain C; each as far as this CPU has it) give the
    /// same integers, for dimensions with and without a tail past the vector width.
    @Test(arguments: [48, 100, 384])
    func theInt8KernelsAgree(dim: Int) {
        var rng = SeededRandom(state: UInt64(dim))
        let rows = 257
        let m = (0..<(rows * dim)).map { _ in Int8(Int(rng.next() % 255) - 127) }
        let q = (0..<dim).map { _ in Int8(Int(rng.next() % 255) - 127) }
        let sums = (0..<rows).map { r in m[(r * dim)..<((r + 1) * dim)].reduce(Int32(0)) { $0 + Int32($1) } }
        let expected = (0..<rows).map { r in (0..<dim).reduce(Int32(0)) { $0 + Int32(q[$1]) * Int32(m[r * dim + $1]) } }
        for level in Int32(0)...2 {
            var out = [Int32](repeating: 0, count: rows)
            vk_dot_i8_rows_level(level, q, m, sums, rows, Int32(dim), &out)
            #expect(out == expected, "level \(level)")
        }
    }

    @Test func theQuantizedPassReturnsTheExactTopK() throws {
        let path = TestPaths.temporaryDirectory("quantized") + "/rag.sqlite"
        let store = try SQLiteStore(path: path, migrationsDirectory: Backend.migrations, exactScanRows: 0)
        try store.migrate()
        var rng = SeededRandom(state: 7)
        let dim = 48
        var live: [(String, [Float])] = []
        for d in 0..<40 {
            let chunks = (0..<50).map { c in ("d\(d) c\(c)", Fixture.randomVector(dim, using: &rng)) }
            let (_, v) = try Fixture.readyDocument(store, org: "acme", content: "q\(d)", chunks: chunks)
            for (c, (_, vector)) in zip(try store.chunks(org: "acme", versionId: v.id), chunks) { live.append((c.id, vector)) }
        }
        for _ in 0..<10 {
            let q = Fixture.randomVector(dim, using: &rng)
            let exact = live.map { ($0.0, Vectors.cosine(q, $0.1)) }.sorted { $0.1 > $1.1 }.prefix(10)
            let got = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 10, filter: SearchFilter())
            #expect(got.map(\.chunkId) == exact.map(\.0))
            for (g, e) in zip(got, exact) { #expect(abs(g.score - e.1) < 1e-4) }
        }
    }
}


/// The Postgres store's HNSW path, forced on a small set (the conformance suite's sets are small
/// enough for the exact scan): with a filter that leaves too few candidates it must fall back
/// to the exact scan rather than under-fill.
@Suite struct PostgresIndexPathTests {
    @Test func theIndexPathAnswersAndNeverUnderFills() throws {
        let url = try PostgresTestServer.url.get()
        let schema = PostgresTestServer.schemaName(prefix: "t_")
        let store = try PostgresStore(url: url, schema: schema, migrationsDirectory: Backend.migrations, exactScanRows: 0)
        try store.migrate()
        var rng = SeededRandom(state: 11)
        let dim = 16
        var live: [(String, String, [Float])] = []
        for d in 0..<20 {
            let chunks = (0..<20).map { c in ("d\(d) c\(c)", Fixture.randomVector(dim, using: &rng)) }
            let (doc, v) = try Fixture.readyDocument(store, org: d < 15 ? "acme" : "globex", content: "p\(d)", chunks: chunks,
                                                     metadata: ["rare": .bool(d == 3)])
            if d < 15 {
                for (c, (_, vector)) in zip(try store.chunks(org: "acme", versionId: v.id), chunks) { live.append((c.id, doc.id, vector)) }
            }
        }
        let q = Fixture.randomVector(dim, using: &rng)
        let exact = live.map { ($0.0, Vectors.cosine(q, $0.2)) }.sorted { $0.1 > $1.1 }.prefix(10)
        let got = try store.denseSearch(org: "acme", model: "test-model", query: q, k: 10, filter: SearchFilter())
        #expect(got.map(\.chunkId) == exact.map(\.0))  // 400 rows, 300 the org's: ef_search 134 finds them all
        // One document of 15 passes the filter: with ef_search 40 the index's candidates run
        // short, and the exact pass fills. (Sized from the share, ef_search would be 1,000.)
        let narrow = try PostgresStore(url: url, schema: schema, migrationsDirectory: Backend.migrations, hnswEfSearch: 40, exactScanRows: 0)
        let rare = try narrow.denseSearch(org: "acme", model: "test-model", query: q, k: 15,
                                         filter: SearchFilter(metadata: ["rare": .equals(.bool(true))]))
        #expect(rare.count == 15)
        #expect(Set(rare.map(\.documentId)).count == 1)
    }
}
