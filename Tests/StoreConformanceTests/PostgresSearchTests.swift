import DocumentStore
import Foundation
@testable import PostgresStore
import Testing
import TestSupport

/// The Postgres store's own search machinery: multi-statement chunk inserts, how a dense query
/// chooses between the exact scan and the index, and keyword ranking with term rarity, including
/// the large-org paths (sampled statistics, common terms) reached here with shrunken bounds.
@Suite struct PostgresSearchTests {
    static func store(keywordRanking: KeywordRanking = KeywordRanking()) throws -> PostgresStore {
        let store = try PostgresStore(url: try PostgresTestServer.url.get(), schema: PostgresTestServer.schemaName(prefix: "t_"),
                                      migrationsDirectory: Backend.migrations, hnswEfSearch: nil, exactScanRows: 20_000,
                                      keywordRanking: keywordRanking)
        try store.migrate()
        return store
    }

    @Test func anInsertLargerThanOneStatementKeepsEveryRow() throws {
        let store = try Self.store()
        var rng = SeededRandom(state: 5)
        // 450 chunks: three multi-row statements (200 rows each at most).
        let texts = (0..<450).map { "chunk number \($0) word\($0)" }
        let vectors = texts.map { _ in Fixture.randomVector(8, using: &rng) }
        let (doc, v) = try Fixture.readyDocument(store, org: "acme", content: "big", chunks: Array(zip(texts, vectors)))
        let stored = try store.chunks(org: "acme", versionId: v.id)
        #expect(stored.map(\.index) == Array(0..<450))
        #expect(stored.map(\.content) == texts)
        #expect(stored.allSatisfy { $0.documentId == doc.id && $0.versionId == v.id })
        let reused = try store.reusableVectors(org: "acme", model: "test-model", contentSha256s: texts.map(Fixture.sha))
        #expect(reused.count == 450)
        #expect(texts.indices.allSatisfy { reused[Fixture.sha(texts[$0])] == vectors[$0] })
        // The last statement's rows are searchable like the first's.
        #expect(try store.keywordSearch(org: "acme", query: "word449", k: 5, filter: SearchFilter()).map(\.chunkId) == [stored[449].id])
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: vectors[449], k: 1, filter: SearchFilter()).first?.chunkId
                == stored[449].id)
    }

    @Test func denseQueriesChooseTheExactScanOrAnIndexSizedToTheirShare() {
        // Small sets: exact, whatever the index holds.
        #expect(DensePlan.choose(candidates: 20_000, indexed: 1_000_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .exact)
        // The org is half of the index: ten usable neighbours per result.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 200_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 200))
        // Alone in the index: at least 100.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 100_000, k: 5, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 100))
        // Search's pool of 50: ten per result for the first ten, four for the rest.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 200_000, k: 50, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 400))
        #expect(DensePlan.choose(candidates: 100_000, indexed: 100_000, k: 50, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 200))
        #expect(DensePlan.choose(candidates: 100_000, indexed: 200_000, k: 100, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 800))
        // A large k or a small share: pgvector's ceiling.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 200_000, k: 300, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 1000))
        #expect(DensePlan.choose(candidates: 50_000, indexed: 1_000_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 1000))
        // So small a share that even 1,000 would bring fewer than two usable neighbours per result.
        #expect(DensePlan.choose(candidates: 30_000, indexed: 2_000_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .exact)
        // A fixed ef_search (tuning, tests) always takes the index for a large set.
        #expect(DensePlan.choose(candidates: 30_000, indexed: 2_000_000, k: 10, exactScanRows: 20_000, efSearch: 40) == .index(efSearch: 40))
        // A stale count larger than the index's does not divide by less than it.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 50_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 100))
    }

    @Test func aRareTermOutranksRepeatsOfACommonOne() throws {
        let store = try Self.store()
        // "policy" is in every chunk, "travel" in one: ts_rank_cd (no term rarity) put the chunk
        // that repeats "policy" first; BM25 puts the one holding the rare term first.
        var chunks = (0..<20).map { ("policy section \($0)", [Float(1), 0, 0, 0]) }
        chunks.append(("policy policy policy policy policy", [1, 0, 0, 0]))
        chunks.append(("travel policy", [1, 0, 0, 0]))
        try Fixture.readyDocument(store, org: "acme", content: "idf", chunks: chunks)
        let hits = try store.keywordSearch(org: "acme", query: "travel policy", k: 3, filter: SearchFilter())
        let contents = try store.chunks(org: "acme", ids: hits.map(\.chunkId)).map(\.content)
        #expect(contents.first == "travel policy")
        #expect(contents.dropFirst().first == "policy policy policy policy policy")
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(hits.allSatisfy { $0.score > 0 })
    }

    /// An org larger than the sample, with terms beyond the candidate budget: the ranking reads
    /// the rare terms' chunks, fills from the common ones when they are too few, and a filtered
    /// query still returns `k` results when that many match.
    @Test func theLargeOrgPathsRankByRarityAndNeverUnderFill() throws {
        let store = try Self.store(keywordRanking: KeywordRanking(sampleChunks: 40, candidateBudget: 30, candidateCap: 20_000, fallbackCap: 50))
        // 12 documents x 20 chunks: "often" in every chunk, "sometimes" in every fourth,
        // "seldom" in three chunks, "never" in none; the hr documents are a third of them.
        var seldom: [String] = []
        var hrDocuments: Set<String> = []
        for d in 0..<12 {
            let chunks = (0..<20).map { c -> (String, [Float]) in
                let n = d * 20 + c
                var words = ["often", "filler\(n)"]
                if n % 4 == 0 { words.append("sometimes") }
                if [17, 101, 222].contains(n) { words.append("seldom") }
                return (words.joined(separator: " "), [Float(n), 1, 0, 0])
            }
            let (doc, v) = try Fixture.readyDocument(store, org: "acme", content: "large \(d)", chunks: chunks,
                                                     metadata: ["dept": d % 3 == 0 ? "hr" : "it"])
            if d % 3 == 0 { hrDocuments.insert(doc.id) }
            let stored = try store.chunks(org: "acme", versionId: v.id)
            seldom += stored.filter { $0.content.contains("seldom") }.map(\.id)
        }
        try Fixture.readyDocument(store, org: "globex", content: "other org", chunks: [("seldom seldom seldom", [1, 0, 0, 0])])

        // The sample (40 of 240 chunks) scales its counts to the org. (How close the estimates
        // come depends on the sample's order, content_sha256: these fixtures' hashes are not
        // uniform as SHA-256 is, so only the rough sizes are checked.)
        let stats = try store.tx { c in try store.keywordStats(c, org: "acme", terms: ["often", "sometimes", "seldom", "never"]) }
        #expect(stats.chunks == 240 && !stats.exact)
        #expect(stats.estimates[0] == 240)
        #expect(stats.estimates[1] > 30)
        #expect(stats.estimates[2] < 30 && stats.estimates[3] == 0)
        // Asked again within the minute, the sample's counts come from the cache: the same figures,
        // also for a query that shares only some of the terms.
        let again = try store.tx { c in try store.keywordStats(c, org: "acme", terms: ["often", "sometimes", "seldom", "never"]) }
        #expect(again.estimates == stats.estimates && again.chunks == stats.chunks && again.averageLength == stats.averageLength)
        let mixed = try store.tx { c in try store.keywordStats(c, org: "acme", terms: ["seldom", "filler5", "often"]) }
        #expect(mixed.estimates[0] == stats.estimates[2] && mixed.estimates[2] == stats.estimates[0])

        // The rare term's three chunks first, then common-term chunks fill to k.
        let hits = try store.keywordSearch(org: "acme", query: "seldom often never", k: 10, filter: SearchFilter())
        #expect(hits.count == 10)
        #expect(Set(hits.prefix(3).map(\.chunkId)) == Set(seldom))
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(Set(hits.map(\.chunkId)).count == 10)
        // Two common terms: chunks holding both rank first.
        let both = try store.keywordSearch(org: "acme", query: "often sometimes", k: 5, filter: SearchFilter())
        #expect(try store.chunks(org: "acme", ids: both.map(\.chunkId)).allSatisfy { $0.content.contains("sometimes") })
        // Only common terms, filtered to the hr documents (80 chunks match): k = 60 is filled
        // by the bounded fallback, from the hr documents only.
        let filtered = try store.keywordSearch(org: "acme", query: "often", k: 60, filter: SearchFilter(metadata: ["dept": .equals("hr")]))
        #expect(filtered.count == 60)
        #expect(filtered.allSatisfy { hrDocuments.contains($0.documentId) })
        #expect(try store.keywordSearch(org: "acme", query: "never", k: 10, filter: SearchFilter()).isEmpty)
        // The same query twice (the second from cached statistics): the same ranking and scores.
        let repeated = try store.keywordSearch(org: "acme", query: "seldom often never", k: 10, filter: SearchFilter())
        #expect(repeated == hits)
    }

    @Test func theKeywordSamplesKeepLargeOrgsForAMinuteAndNotSmallOnes() {
        let samples = KeywordSamples()
        #expect(samples.fresh(org: "acme") == nil)
        samples.store(org: "acme", size: 40, .init(sampled: 40, averageLength: 3, chunksHolding: ["a": 7], at: Date()))
        #expect(samples.fresh(org: "acme")?.chunksHolding["a"] == 7)
        // Another org shares nothing; a minute later it is read again.
        #expect(samples.fresh(org: "globex") == nil)
        samples.store(org: "old", size: 40, .init(sampled: 40, averageLength: 3, chunksHolding: [:], at: Date() - 61))
        #expect(samples.fresh(org: "old") == nil)
        // An org smaller than the sample is not served from it: its terms are counted exactly.
        samples.store(org: "tiny", size: 40, .init(sampled: 12, averageLength: 3, chunksHolding: ["a": 2], at: Date()))
        #expect(samples.fresh(org: "tiny") == nil)
        #expect(samples.isSmall(org: "tiny"))
        samples.forget(org: "tiny")
        #expect(!samples.isSmall(org: "tiny"))
        // Bounded: expired samples go, and past the bound the oldest makes room.
        for i in 0..<(KeywordSamples.maxSamples + 5) {
            samples.store(org: "org\(i)", size: 40, .init(sampled: 40, averageLength: 3, chunksHolding: [:], at: Date() + Double(i) / 1000))
        }
        #expect(samples.count == KeywordSamples.maxSamples)
        #expect(samples.fresh(org: "org\(KeywordSamples.maxSamples + 4)") != nil)
        #expect(samples.fresh(org: "acme") == nil)
    }

    /// The in-memory lexeme counts agree with Postgres's own `@@` on the same sample, for terms
    /// of every shape a query yields (words, numbers, mixed, folded Vietnamese, absent ones).
    @Test func lexemeCountsAgreeWithTheMatchOperator() throws {
        let store = try Self.store(keywordRanking: KeywordRanking(sampleChunks: 8, candidateBudget: 30, candidateCap: 20_000, fallbackCap: 50))
        let texts = ["Nghỉ phép năm 2024: 12 ngày", "ticket INC-4521 opened 3.14 v2", "user@example.com wrote abc_def",
                     "Phòng họp A3 đặt lúc 14h30", "the THE The the", "mua sắm thiết bị 2024", "nghi phep", "đơn xin nghỉ",
                     "lương tháng 12", "x y z 2024 2024"]
        for (i, t) in texts.enumerated() {
            try Fixture.readyDocument(store, org: "acme", content: "doc \(i)", chunks: [(t, [Float(i), 1, 0, 0])])
        }
        let terms = ["nghi", "phep", "2024", "12", "inc", "4521", "3", "14", "v2", "user", "abc", "def", "a3", "14h30", "the",
                     "mua", "don", "luong", "thang", "absent"]
        let sampled = try store.tx { c in try store.keywordStats(c, org: "acme", terms: terms) }  // read as lexeme counts
        #expect(!sampled.exact)
        let exact = try store.tx { c in
            try terms.map { term in
                Int(try c.query("""
                    SELECT count(*) AS n FROM (SELECT c.folded_tsv AS tsv FROM doc_chunks c JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                                               WHERE c.org_id = 'acme' ORDER BY c.content_sha256 LIMIT 8) s
                    WHERE s.tsv @@ to_tsquery('simple', $1)
                    """, [.text(term)])[0].int("n"))
            }
        }
        // 10 chunks, sample of 8: estimates are the sample's counts scaled by 10/8.
        #expect(sampled.estimates == exact.map { Int((Double($0) * 10 / 8).rounded()) })
    }
}
