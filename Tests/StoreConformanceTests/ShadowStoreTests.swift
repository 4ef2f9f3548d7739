import DocumentStore
import Foundation
import Testing

/// A candidate model's vectors beside the live ones, the comparisons, and retention: alike on
/// both stores.
@Suite struct ShadowStoreTests {
    @Test(arguments: Backend.allCases)
    func shadowVectorsAreSearchedOnlyByTheirModelAndCountTowardCoverage(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (a, va) = try Fixture.readyDocument(store, org: "acme", content: "alpha", chunks: [("alpha one", [1, 0, 0, 0]), ("alpha two", [0, 1, 0, 0])])
        let (b, vb) = try Fixture.readyDocument(store, org: "acme", content: "beta", chunks: [("beta one", [0, 0, 1, 0])])
        try Fixture.readyDocument(store, org: "globex", content: "gamma", chunks: [("gamma", [0, 0, 0, 1])])
        #expect(try store.shadowCoverage(org: "acme", model: "cand") == ShadowCoverage(versions: 2, covered: 0))
        #expect(try store.shadowGaps(model: "cand", limit: 10).count == 3)

        let chunksA = try store.chunks(org: "acme", versionId: va.id)
        // Three dimensions: the candidate's own size, not the live model's.
        try store.insertShadowVectors(org: "acme", versionId: va.id, model: "cand", chunksA.map { ($0.id, [0, 1, 0] as [Float]) })
        // Twice is harmless.
        try store.insertShadowVectors(org: "acme", versionId: va.id, model: "cand", chunksA.map { ($0.id, [0, 1, 0] as [Float]) })
        #expect(try store.shadowCoverage(org: "acme", model: "cand") == ShadowCoverage(versions: 2, covered: 1))
        #expect(throws: StoreError.self) {
            try store.insertShadowVectors(org: "acme", versionId: vb.id, model: "cand", [(chunksA[0].id, [1, 0, 0])])
        }
        #expect(throws: StoreError.self) {  // another org's version is not found
            try store.insertShadowVectors(org: "globex", versionId: vb.id, model: "cand", [])
        }
        let chunksB = try store.chunks(org: "acme", versionId: vb.id)
        try store.insertShadowVectors(org: "acme", versionId: vb.id, model: "cand", chunksB.map { ($0.id, [1, 0, 0] as [Float]) })
        #expect(try store.shadowCoverage(org: "acme", model: "cand").complete)
        #expect(try store.shadowGaps(model: "cand", limit: 10).map(\.org) == ["globex"])

        // The candidate's vectors answer the candidate's queries; the live model's list is unchanged.
        let shadow = try store.denseSearch(org: "acme", model: "cand", query: [1, 0, 0], k: 10, filter: SearchFilter())
        #expect(shadow.first?.documentId == b.id && Set(shadow.map(\.documentId)) == [a.id, b.id])
        let live = try store.denseSearch(org: "acme", model: "test-model", query: [1, 0, 0, 0], k: 10, filter: SearchFilter())
        #expect(live.count == 3 && live.first?.chunkId == chunksA[0].id)
        #expect(try store.denseSearch(org: "globex", model: "cand", query: [1, 0, 0], k: 10, filter: SearchFilter()).isEmpty)
        // The org's ready models are still the live one's: no query is embedded for the shadow.
        #expect(try store.readyModels(org: "acme") == ["test-model": 4])
    }

    @Test(arguments: Backend.allCases)
    func comparisonsAreKeptPerModelNewestFirst(_ backend: Backend) throws {
        let store = try backend.fresh().store
        for i in 0..<3 {
            try store.recordShadowComparison(ShadowComparison(orgId: i == 2 ? "globex" : "acme", model: "cand", overlap: Double(i) / 10,
                                                              rankCorrelation: i == 0 ? nil : 0.5, liveMs: 4, shadowMs: 5))
        }
        try store.recordShadowComparison(ShadowComparison(orgId: "acme", model: "other", overlap: 1, rankCorrelation: 1, liveMs: 1, shadowMs: 1))
        let all = try store.shadowComparisons(model: "cand", org: nil, limit: 10)
        #expect(all.map(\.overlap) == [0.2, 0.1, 0])
        #expect(all.last?.rankCorrelation == nil && all.first?.orgId == "globex")
        #expect(try store.shadowComparisons(model: "cand", org: "acme", limit: 10).count == 2)
        #expect(try store.shadowComparisons(model: "cand", org: nil, limit: 1).count == 1)
    }

    @Test(arguments: Backend.allCases)
    func supersededVersionsAreKeptForTheRetentionThenPurged(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let (doc, first) = try Fixture.readyDocument(store, org: "acme", content: "alpha", chunks: [("alpha", [1, 0, 0, 0])])
        let second = try store.createVersion(org: "acme", Fixture.version(doc.id))
        try store.insertChunks(org: "acme", versionId: second.id, [Fixture.chunk(0, "alpha again", [0, 1, 0, 0])])
        _ = try store.publishVersion(org: "acme", id: second.id)
        #expect(try store.purgeSupersededVersions(before: Date().addingTimeInterval(-3600), limit: 10) == 0)
        #expect(try store.version(org: "acme", id: first.id)?.state == .superseded)
        #expect(try store.purgeSupersededVersions(before: Date().addingTimeInterval(3600), limit: 10) == 1)
        #expect(try store.version(org: "acme", id: first.id) == nil)
        #expect(try store.version(org: "acme", id: second.id)?.state == .ready)
        #expect(try store.denseSearch(org: "acme", model: "test-model", query: [0, 1, 0, 0], k: 5, filter: SearchFilter()).count == 1)
    }
}
