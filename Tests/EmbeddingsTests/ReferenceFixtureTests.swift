import Embeddings
import Testing

/// The 40 reference cases from sentence-transformers: the same token ids, and vectors within
/// cosine 0.9999, alone and in batches.
@Suite struct ReferenceFixtureTests {
    @Test func allFortyCasesAreThere() throws {
        #expect(try Shared.fixtureCases().count == 40)
    }

    @Test(arguments: 0..<40)
    func tokenIdsMatchExactly(_ index: Int) throws {
        let c = try Shared.fixtureCases()[index]
        let e = try Shared.embedder().tokenizer.encode(c.text)
        #expect(e.ids == c.inputIds, "\(c.name): \(c.text.debugDescription)")
        #expect(e.untruncatedCount == c.untruncatedCount, "\(c.name)")
        #expect(e.truncated == c.truncated, "\(c.name)")
    }

    @Test func eachTextAloneMatchesTheReferenceVector() async throws {
        let embedder = try Shared.embedder()
        for c in try Shared.fixtureCases() {
            let e = try #require(try await embedder.embed([c.text], role: .passage).first)
            #expect(e.vector.count == 384)
            #expect(Shared.cosine(e.vector, c.embedding) >= 0.9999, "\(c.name): cosine \(Shared.cosine(e.vector, c.embedding))")
            #expect(e.tokenCount == c.inputIds.count && e.untruncatedTokenCount == c.untruncatedCount && e.truncated == c.truncated)
            let norm = e.vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    /// Batching mixes 2-token and 256-token texts; the per-sequence attention must keep every
    /// vector what it is alone, whatever its neighbours and however the batch is split.
    @Test(arguments: [1, 7, 40])
    func batchesGiveTheSameVectors(batchSize: Int) async throws {
        let embedder = try Shared.embedder()
        let cases = try Shared.fixtureCases()
        var batched: [Embedding] = []
        for start in stride(from: 0, to: cases.count, by: batchSize) {
            batched += try await embedder.embed(cases[start..<min(start + batchSize, cases.count)].map(\.text), role: .query)
        }
        #expect(batched.count == cases.count)
        for (c, e) in zip(cases, batched) {
            #expect(Shared.cosine(e.vector, c.embedding) >= 0.9999, "\(c.name)")
            let alone = try await embedder.embed([c.text], role: .query)[0]
            let maxDiff = zip(alone.vector, e.vector).map { abs($0 - $1) }.max() ?? 0
            #expect(maxDiff < 1e-5, "\(c.name): differs by \(maxDiff) in a batch of \(batchSize)")
        }
    }

    @Test func oneThreadAndManyThreadsAgree() throws {
        let cases = try Shared.fixtureCases()
        let one = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 1)
        let three = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 3)
        let a = try one.embedNow(cases.map(\.text)), b = try three.embedNow(cases.map(\.text))
        for (x, y) in zip(a, b) {
            #expect(zip(x.vector, y.vector).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }

    /// A short text's products run on the panel kernel (when the CPU has AVX-512), a long one's
    /// on OpenBLAS: each text alone must give what OpenBLAS alone gives. (One thread: more
    /// spinning workers than cores would starve the rest of the suite.)
    @Test func thePanelKernelAndOpenBLASAgree() throws {
        let cases = try Shared.fixtureCases()
        let blas = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 1, panelKernel: false)
        let panels = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 1, panelKernel: true)
        for c in cases {
            let x = try blas.embedNow([c.text])[0], y = try panels.embedNow([c.text])[0]
            let diff = zip(x.vector, y.vector).map { abs($0 - $1) }.max() ?? 0
            #expect(diff < 1e-5, "\(c.name): differs by \(diff)")
        }
    }

    /// Half-precision weights (the default) against the checkpoint's float32 values: both match
    /// the reference, and each other far inside the reference's own bar. Both paths (panel
    /// kernel for short texts, OpenBLAS for long ones) run for each precision.
    @Test func halfAndFloat32WeightsBothMatchTheReference() throws {
        let cases = try Shared.fixtureCases()
        let full = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 1, panelKernel: true, weights: .float32)
        let half = try MiniLMEmbedder(modelDirectory: Shared.modelDirectory, threads: 1, panelKernel: true, weights: .half)
        #expect(full.weightPrecision == .float32 && half.weightPrecision == .half)
        let a = try full.embedNow(cases.map(\.text)), b = try half.embedNow(cases.map(\.text))
        for (c, (x, y)) in zip(cases, zip(a, b)) {
            #expect(Shared.cosine(x.vector, c.embedding) >= 0.9999, "\(c.name) float32")
            #expect(Shared.cosine(y.vector, c.embedding) >= 0.9999, "\(c.name) half")
            #expect(Shared.cosine(x.vector, y.vector) >= 0.99999, "\(c.name): half against float32 \(Shared.cosine(x.vector, y.vector))")
        }
        // The weights really differ: a precision that silently stayed float32 would pass the above.
        #expect(zip(a, b).contains { x, y in zip(x.vector, y.vector).contains { $0 != $1 } })
    }

    @Test func concurrentCallersGetTheirOwnResults() async throws {
        let embedder = try Shared.embedder()
        let cases = try Shared.fixtureCases()
        let results = try await withThrowingTaskGroup(of: (Int, [Embedding]).self) { group in
            for k in 0..<4 {
                let texts = cases.enumerated().filter { $0.offset % 4 == k }.map(\.element.text)
                group.addTask { (k, try await embedder.embed(texts, role: .passage)) }
            }
            return try await group.reduce(into: [Int: [Embedding]]()) { $0[$1.0] = $1.1 }
        }
        for (k, embeddings) in results {
            let expected = cases.enumerated().filter { $0.offset % 4 == k }.map(\.element)
            for (c, e) in zip(expected, embeddings) {
                #expect(Shared.cosine(e.vector, c.embedding) >= 0.9999, "\(c.name)")
            }
        }
    }

    @Test func providerMetadata() throws {
        let embedder = try Shared.embedder()
        #expect(embedder.modelId == "sentence-transformers/all-MiniLM-L6-v2")
        #expect(embedder.dimension == 384)
        #expect(embedder.maxInputTokens == 256)
    }

    @Test func emptyBatchIsEmpty() async throws {
        #expect(try await Shared.embedder().embed([], role: .query).isEmpty)
    }
}
