import Documents
import DocumentStore
import Embeddings
import Foundation
import Indexing
import Ingestion
import Resilience
import Testing
import TestSupport

/// The worker's pipeline on real stores (SQLite and the real Postgres), the real model and a
/// real blob folder: each job kind from queue to result, and every way a job can go wrong.
@Suite struct WorkerTests {
    @Test(arguments: Backend.allCases)
    func anUploadBecomesOneReadyVersionWithItsChunks(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        let text = Prose.document(14)
        let up = try h.upload(text, title: "Pipeline notes")
        let report = await h.drain()
        #expect(report.claimed == 1 && report.indexed == 1 && report.failed == 0, "\(report)")

        let detail = try #require(try h.store.documentDetail(org: "acme", id: up.document.id))
        #expect(detail.document.status == .ready)
        let version = try #require(detail.readyVersion)
        #expect(version.embedModel == Model.miniLM.modelId && version.dim == 384)
        #expect(version.chunkSize == 200 && version.chunkOverlap == 40 && version.chunkerVersion == Chunker.version)
        let chunks = try h.store.chunks(org: "acme", versionId: version.id)
        #expect(chunks.count > 3 && chunks.count == detail.chunkCount && chunks.count == report.chunks)
        // Stored text is the chunk itself (no title), at its offsets in the extracted text.
        for c in chunks {
            #expect(TextChunk.slice(text, scalarStart: c.charStart, scalarEnd: c.charEnd).map(String.init) == c.content)
            #expect(!c.content.hasPrefix("Pipeline notes"))
        }
        #expect(try h.store.job(org: "acme", id: up.job!.id)?.status == .succeeded)
        // Searchable in both arms.
        let q = try await Model.miniLM.embed([chunks[2].content], role: .query)[0].vector
        #expect(try h.store.denseSearch(org: "acme", model: version.embedModel, query: q, k: 1, filter: SearchFilter()).first?.chunkId == chunks[2].id)
        #expect(try h.store.keywordSearch(org: "acme", query: "lease", k: 5, filter: SearchFilter()).isEmpty == false)
    }

    @Test(arguments: Backend.allCases)
    func anEditedDocumentReusesTheVectorsOfItsUnchangedChunks(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        var paragraphs = Prose.paragraphs(30, seed: 7)
        try h.upload(paragraphs.joined(separator: "\n\n"), title: "Handbook")
        let first = await h.drain()
        #expect(first.indexed == 1 && first.reused == 0 && first.embedded == first.chunks, "\(first)")
        let sentToModel = h.embedder.texts

        // One paragraph in the middle changes: a new file, the same title.
        paragraphs[15] = "Parking permits are renewed every January at the front desk, and lost permits cost ten dollars."
        let edited = try h.upload(paragraphs.joined(separator: "\n\n"), title: "Handbook")
        let second = await h.drain()
        #expect(second.indexed == 1, "\(second)")
        #expect(second.reused + second.embedded == second.chunks)
        #expect(second.embedded >= 1 && second.embedded <= 3, "only the chunks around the edit are embedded: \(second)")
        #expect(h.embedder.texts - sentToModel == second.embedded)
        let chunks = try h.store.chunks(org: "acme", versionId: try #require(try h.store.document(org: "acme", id: edited.document.id)?.readyVersionId))
        #expect(chunks.contains { $0.content.contains("Parking permits") })

        // A forced re-embed with the same model and chunking embeds nothing at all.
        guard case .queued(_, true) = try h.planner.plan(org: "acme", document: edited.document, params: ReembedParameters(force: true)) else {
            Issue.record("a forced re-embed should queue a job"); return
        }
        let third = await h.drain()
        #expect(third.indexed == 1 && third.embedded == 0 && third.reused == third.chunks, "\(third)")
    }

    @Test(arguments: Backend.allCases)
    func aVectorIsReusedOnlyForTheTextItWasComputedFrom(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        let text = Prose.document(4, seed: 3)
        try h.upload(text, title: "Alpha")
        _ = await h.drain()
        // The same words under another title embed differently (the title is embedded too).
        try h.upload(text + "\n\nOne more line.", title: "Beta")
        let report = await h.drain()
        #expect(report.reused == 0 && report.embedded == report.chunks, "\(report)")
        // And another org never gets this org's vectors.
        try h.upload(text, org: "globex", title: "Alpha")
        let other = await h.drain()
        #expect(other.reused == 0, "\(other)")
    }

    @Test(arguments: Backend.allCases)
    func aWorkerThatDiesMidJobLeavesTheOldVersionServingAndTheJobFinishesAfterItsLease(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend) { $0.embedBatch = 4 }
        let up = try h.upload(Prose.document(20, seed: 11), title: "Travel policy")
        _ = await h.drain()
        let v1 = try #require(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId)
        let v1Chunks = Set(try h.store.chunks(org: "acme", versionId: v1).map(\.id))

        guard case .queued(let job, true) = try h.planner.plan(org: "acme", document: try #require(try h.store.document(org: "acme", id: up.document.id)),
                                                              params: ReembedParameters(chunkSize: 120)) else {
            Issue.record("expected a queued job"); return
        }
        // A worker claims it with a short lease, writes one batch, and dies (no record, no flip).
        let claimed = try h.store.claimJobs(owner: "doomed", limit: 1, lease: 20, types: nil)
        #expect(claimed.map(\.id) == [job.id])
        let doomed = try WorkerHarness.sharing(h, embedder: Model.miniLM) { $0.lease = 20 }
        let outcome = try await doomed.pipeline.run(claimed[0], owner: "doomed", deadline: .now)
        guard case .yielded = outcome else { Issue.record("expected the attempt to stop after one batch: \(outcome)"); return }
        let halfBuilt = try #require(try h.store.job(org: "acme", id: job.id)?.versionId)
        #expect(try h.store.version(org: "acme", id: halfBuilt)?.state == .indexing)
        #expect(try h.store.chunks(org: "acme", versionId: halfBuilt).count == 4)

        // Readers still see exactly the old version.
        #expect(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId == v1)
        let seen = try h.store.keywordSearch(org: "acme", query: "policy travel lease job", k: 100, filter: SearchFilter())
        #expect(Set(seen.map(\.versionId)) == [v1])

        // Not claimable until the lease runs out; then another worker finishes the job.
        #expect(await h.drain().claimed == 0)
        var report = DrainReport()
        for _ in 0..<240 where report.claimed == 0 {
            try await Task.sleep(for: .milliseconds(500))
            report = await h.drain()
        }
        #expect(report.indexed == 1, "\(report)")
        #expect(report.reused >= 4, "the dead attempt's vectors are reused: \(report)")
        let finished = try #require(try h.store.job(org: "acme", id: job.id))
        #expect(finished.status == .succeeded && finished.attempts == 2)
        let abandoned = try #require(try h.store.version(org: "acme", id: halfBuilt))
        #expect(abandoned.state == .failed && abandoned.error?.contains("abandoned") == true)
        let v2 = try #require(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId)
        #expect(v2 != v1 && v2 != halfBuilt && finished.versionId == v2)
        #expect(try h.store.version(org: "acme", id: v2)?.chunkSize == 120)
        #expect(try h.store.version(org: "acme", id: v1)?.state == .superseded)
        #expect(Set(try h.store.chunks(org: "acme", versionId: v2).map(\.id)).isDisjoint(with: v1Chunks))
    }

    @Test(arguments: Backend.allCases)
    func aFailingProviderIsRetriedThenTheJobDiesWhileTheOldVersionServes(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        let up = try h.upload(Prose.document(6, seed: 5), title: "Expenses")
        _ = await h.drain()
        let v1 = try #require(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId)

        // The deployment moves to an HTTP model whose server is down (nothing listens there).
        let down = try OpenAICompatibleEmbedder(configuration: HTTPEmbeddingConfiguration(
            baseURL: "http://127.0.0.1:9", spec: try #require(EmbeddingModelRegistry.spec(for: "text-embedding-3-small")),
            timeout: .seconds(5), retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), maxDelay: .milliseconds(20))))
        let failing = try WorkerHarness.sharing(h, embedder: down) { $0.maxAttempts = 3 }
        guard case .queued(let job, true) = try failing.planner.plan(org: "acme", document: up.document, params: ReembedParameters()) else {
            Issue.record("expected a queued job"); return
        }
        #expect(job.maxAttempts == 3)
        let report = await failing.drain()
        #expect(report.failed == 2 && report.dead == 1 && report.indexed == 0, "\(report)")

        let dead = try #require(try h.store.job(org: "acme", id: job.id))
        #expect(dead.status == .dead && dead.attempts == 3)
        #expect(dead.error?.contains("embedding failed") == true, "\(dead.error ?? "")")
        let versions = try h.store.versions(org: "acme", documentId: up.document.id)
        #expect(versions.filter { $0.state == .failed }.count == 3)
        #expect(versions.filter { $0.state == .ready }.map(\.id) == [v1])
        // Still served: the document stays ready on its old version.
        let doc = try #require(try h.store.document(org: "acme", id: up.document.id))
        #expect(doc.status == .ready && doc.readyVersionId == v1)
        #expect(try h.store.keywordSearch(org: "acme", query: "expenses", k: 10, filter: SearchFilter()).allSatisfy { $0.versionId == v1 })
    }

    @Test(arguments: Backend.allCases)
    func unreadableContentGoesDeadAtOnceWithTheReason(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        let up = try h.upload(PDFFixture.imageOnly(), filename: "scan.pdf", contentType: "application/pdf")
        let report = await h.drain()
        #expect(report.dead == 1 && report.failed == 0, "no attempts are wasted on content that cannot change: \(report)")
        let job = try #require(try h.store.job(org: "acme", id: up.job!.id))
        #expect(job.status == .dead && job.attempts == 1)
        #expect(job.error?.lowercased().contains("text") == true, "\(job.error ?? "")")
        let doc = try #require(try h.store.documentDetail(org: "acme", id: up.document.id))
        #expect(doc.document.status == .failed && doc.readyVersion == nil)
    }

    @Test(arguments: Backend.allCases)
    func aDeleteJobPurgesTheBlobTheChunksAndTheVectors(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend)
        let up = try h.upload(Prose.document(5), title: "Old memo")
        _ = await h.drain()
        let blobPath = try #require(URL(string: up.document.blobURI)?.path)
        #expect(FileManager.default.fileExists(atPath: blobPath))
        let deleted = try #require(try h.store.softDeleteDocument(org: "acme", id: up.document.id,
                                                                 job: NewJob(orgId: "acme", type: .delete, documentId: up.document.id)))
        // Gone from search at once, before the worker runs.
        #expect(try h.store.keywordSearch(org: "acme", query: "memo lease", k: 10, filter: SearchFilter()).isEmpty)
        let report = await h.drain()
        #expect(report.purged == 1, "\(report)")
        #expect(try h.store.document(org: "acme", id: up.document.id) == nil)
        #expect(!FileManager.default.fileExists(atPath: blobPath))
        #expect(try h.store.job(org: "acme", id: deleted.job!.id)?.status == .succeeded)
        #expect(try h.store.reusableVectors(org: "acme", model: Model.miniLM.modelId, contentSha256s: ["x"]).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func readersNeverSeeAMixOrAGapWhileADocumentIsReembedded(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend) { $0.embedBatch = 3 }
        let up = try h.upload(Prose.document(24, seed: 9), title: "Onboarding")
        _ = await h.drain()
        let v1 = try #require(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId)
        _ = try h.planner.plan(org: "acme", document: up.document, params: ReembedParameters(chunkSize: 90))

        let reader = try h.reopen()
        let filter = SearchFilter(documentIds: [up.document.id])
        let query = try await Model.miniLM.embed(["how do I start"], role: .query)[0].vector
        let observed = Task { () -> [Set<String>] in
            var sets: [Set<String>] = []
            while !Task.isCancelled {
                let dense = (try? reader.denseSearch(org: "acme", model: Model.miniLM.modelId, query: query, k: 100, filter: filter)) ?? []
                let keyword = (try? reader.keywordSearch(org: "acme", query: "documents lease", k: 100, filter: filter)) ?? []
                sets.append(Set(dense.map(\.versionId)))
                sets.append(Set(keyword.map(\.versionId)))
                await Task.yield()
            }
            return sets
        }
        let report = await h.drain()
        try await Task.sleep(for: .milliseconds(50))
        observed.cancel()
        let sets = await observed.value
        #expect(report.indexed == 1, "\(report)")
        let v2 = try #require(try h.store.document(org: "acme", id: up.document.id)?.readyVersionId)
        #expect(v2 != v1)
        #expect(sets.count > 4)
        for s in sets { #expect(s == [v1] || s == [v2], "a reader saw \(s)") }
    }

    @Test(arguments: Backend.allCases)
    func aDocumentDeletedWhileItIsIndexedIsNeverPublished(_ backend: Backend) async throws {
        let h = try WorkerHarness(backend) { $0.embedBatch = 2 }
        let up = try h.upload(Prose.document(8, seed: 2))
        let claimed = try h.store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil)
        // First batch written, then the document is deleted, then the worker carries on.
        guard case .yielded = try await h.pipeline.run(claimed[0], owner: "w", deadline: .now) else { Issue.record("expected a yield"); return }
        _ = try h.store.softDeleteDocument(org: "acme", id: up.document.id, job: nil)
        _ = try h.store.failJob(jobId: claimed[0].id, owner: "w", error: "yield", retryable: true, backoff: Backoff(base: 0, cap: 0))
        let report = await h.drain()
        #expect(report.skipped == 1, "\(report)")
        #expect(try h.store.versions(org: "acme", documentId: up.document.id).allSatisfy { $0.state != .ready })
    }
}

extension WorkerHarness {
    /// Another worker (another provider, another configuration) over the same store and blobs.
    static func sharing(_ h: WorkerHarness, embedder: any EmbeddingProvider,
                        configure: (inout WorkerConfiguration) -> Void) throws -> WorkerHarness {
        var c = h.configuration
        configure(&c)
        return WorkerHarness(store: h.store, reopen: h.reopen, blobs: h.blobs, uploads: h.uploads,
                             embedder: CountingEmbedder(embedder), configuration: c)
    }
}
