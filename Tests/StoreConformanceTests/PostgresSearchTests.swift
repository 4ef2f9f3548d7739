import DocumentStore
import Foundation
import LambdaEvents
@testable import PostgresStore
import Testing
import TestSupport

/// The Postgres store's own search machinery: multi-statement chunk inserts, and how a dense
/// query chooses between the exact scan and the index.
@Suite struct PostgresSearchTests {
    static func store() throws -> PostgresStore {
        let store = try PostgresStore(url: try PostgresTestServer.url.get(), schema: PostgresTestServer.schemaName(prefix: "t_"),
                                      migrationsDirectory: Backend.migrations)
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
        // A large k or a small share: pgvector's ceiling.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 200_000, k: 100, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 1000))
        #expect(DensePlan.choose(candidates: 50_000, indexed: 1_000_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 1000))
        // So small a share that even 1,000 would bring fewer than two usable neighbours per result.
        #expect(DensePlan.choose(candidates: 30_000, indexed: 2_000_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .exact)
        // A fixed ef_search (tuning, tests) always takes the index for a large set.
        #expect(DensePlan.choose(candidates: 30_000, indexed: 2_000_000, k: 10, exactScanRows: 20_000, efSearch: 40) == .index(efSearch: 40))
        // A stale count larger than the index's does not divide by less than it.
        #expect(DensePlan.choose(candidates: 100_000, indexed: 50_000, k: 10, exactScanRows: 20_000, efSearch: nil) == .index(efSearch: 100))
    }
}
