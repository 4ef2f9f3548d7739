import DocumentStore
import Embeddings
import Foundation
import Retrieval
import TestSupport
import Testing

/// Search rules that depend on what the store does underneath: a narrow filter must not
/// under-fill when the approximate index's candidates are mostly filtered out, and a document
/// being re-embedded is served from its ready version only, then from the new one only.
@Suite struct SearchStoreRulesTests {
    /// 2,000 chunks sit right next to the query, all outside the filter; the 12 that pass it are
    /// farther away. An HNSW walk that keeps only its nearest candidates finds none of the 12
    /// after filtering; the search must still return the limit and count all 12. (On Postgres the
    /// store takes its index path here; for a filter this narrow the planner may still answer
    /// from the join on the few allowed versions, which is exact: either way, no under-fill.)
    @Test(arguments: StoreKind.allCases)
    func aNarrowFilterIsNotUnderFilled(_ kind: StoreKind) async throws {
        // Postgres: the store's index path (no exact scan for small orgs), with a small ef_search.
        var c = Corpus(store: try kind.open(exactScanRows: 0, efSearch: 40))
        let query = "who reviews supplier contracts before signing"
        let q = try await c.embedder.embed([query], role: .query)[0].vector
        var rng = SystemRandomNumberGenerator()
        for d in 0..<20 {
            let (doc, _, _) = try c.store.createDocument(
                NewDocument(orgId: "acme", title: "Noise \(d)", filename: "n\(d).txt", mimeType: "text/plain", bytes: 1,
                            sha256: "noise-\(d)", blobURI: "file:///n", metadata: ["dept": .string("ops")]), job: nil)
            let v = try c.store.createVersion(org: "acme", NewVersion(documentId: doc.id, embedModel: c.embedder.modelId, dim: 384, chunkSize: 200,
                                                                      chunkOverlap: 40, chunkerVersion: "t", sourceSha256: "s"))
            try c.store.insertChunks(org: "acme", versionId: v.id, (0..<100).map { i in
                // The query plus a little noise: cosine about 0.95, nearer than any real passage.
                let noisy = q.map { $0 + Float.random(in: -0.012...0.012, using: &rng) }
                let norm = noisy.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return NewChunk(index: i, content: "filler row \(d) \(i)", contentSha256: "n\(d)-\(i)", tokenCount: 4,
                                charStart: 0, charEnd: 10, vector: noisy.map { $0 / norm })
            })
            _ = try c.store.publishVersion(org: "acme", id: v.id)
        }
        for d in 0..<3 {
            try await c.add(org: "acme", title: "Contracts \(d)", (0..<4).map { "Legal reviews every supplier contract, clause \(d)-\($0)." },
                            metadata: ["dept": .string("legal")])
        }
        let legal = Set(c.documents.values)
        let r = try await c.searcher.search(org: "acme", SearchRequest(query: query, limit: 10, mode: .dense,
                                                                       filter: SearchFilter(metadata: ["dept": .equals("legal")])))
        #expect(r.results.count == 10 && r.total == 12, "\(r.results.count) results, total \(r.total)")
        #expect(r.results.allSatisfy { legal.contains($0.documentId) })
        // Grouped by document: all three.
        let grouped = try await c.searcher.search(org: "acme", SearchRequest(query: query, limit: 10, mode: .hybrid,
                                                                             filter: SearchFilter(metadata: ["dept": .equals("legal")]), groupBy: .document))
        #expect(Set(grouped.results.map(\.documentId)) == legal)
        // Unfiltered, the filler wins: the filter above really excluded the nearest rows.
        let open = try await c.searcher.search(org: "acme", SearchRequest(query: query, limit: 10, mode: .dense))
        #expect(open.results.allSatisfy { !legal.contains($0.documentId) })
    }

    /// A version being built beside the ready one is invisible in every mode; after the flip the
    /// new one is served and the old one is gone, in one step.
    @Test(arguments: StoreKind.allCases)
    func onlyReadyVersionsAreSearched(_ kind: StoreKind) async throws {
        var c = try Corpus(kind)
        let id = try await c.add(org: "acme", title: "Canteen", ["Lunch is served from noon in the canteen on the second floor."])
        let building = try c.store.createVersion(org: "acme", NewVersion(documentId: id, embedModel: c.embedder.modelId, dim: 384, chunkSize: 200,
                                                                        chunkOverlap: 40, chunkerVersion: "t2", sourceSha256: "s2"))
        let text = "The rooftop kitchen serves zucchini risotto at half past twelve."
        let vector = try await c.embedder.embed([text], role: .passage)[0]
        try c.store.insertChunks(org: "acme", versionId: building.id, [NewChunk(index: 0, content: text, contentSha256: "new", tokenCount: vector.tokenCount,
                                                                                charStart: 0, charEnd: text.count, vector: vector.vector)])
        func texts(_ query: String, _ mode: SearchRequest.Mode) async throws -> [String] {
            try await c.searcher.search(org: "acme", SearchRequest(query: query, limit: 100, mode: mode)).results.map(\.text)
        }
        for mode in SearchRequest.Mode.allCases {
            let during = try await texts("zucchini risotto rooftop kitchen lunch canteen", mode)
            #expect(!during.contains(text), "\(mode): the indexing version leaked")
            #expect(during.contains { $0.hasPrefix("Lunch is served") }, "\(mode): the ready version is missing")
        }
        _ = try c.store.publishVersion(org: "acme", id: building.id)
        for mode in SearchRequest.Mode.allCases {
            let after = try await texts("zucchini risotto rooftop kitchen lunch canteen", mode)
            #expect(after == [text], "\(mode): \(after)")
        }
    }
}
