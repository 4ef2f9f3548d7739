import Documents
import DocumentStore
import Embeddings
import Foundation
import Ingestion

/// One attempt at one job: an `ingest` or `reembed` builds a new version of a document and
/// flips it to `ready`; a `delete` purges a soft-deleted document.
///
/// The rules that keep the index honest:
/// - the new version is `indexing` until every chunk and vector is written, then one
///   transaction makes it `ready` and the previous one `superseded`: readers see the old
///   version or the new one, never a mix, never a gap;
/// - nothing is deleted until a newer version is ready (the previous version stays, superseded);
/// - a failed attempt marks its version `failed` and leaves the ready one serving;
/// - an attempt that dies (a killed worker) leaves its `indexing` version behind; the next
///   attempt (after the lease expires) retires it and starts a new one, reusing every vector the
///   dead attempt wrote, so no work is lost and nothing half-built is ever visible;
/// - a vector is reused only for exactly the text it was computed from: `content_sha256` is
///   the hash of the embedded text (title context + chunk) under the same model.
package struct IndexingPipeline: Sendable {
    package let store: any Store
    package let blobs: any BlobStore
    /// Passages go straight to the model (the query cache is for queries).
    package let embedder: any EmbeddingProvider
    package let tokenCounter: TokenCounter
    package let extractor: TextExtractor
    package let configuration: WorkerConfiguration
    /// The candidate model (`EMBEDDING_SHADOW_MODEL`), whose vectors shadow jobs add to ready
    /// versions; nil without one.
    package let shadowEmbedder: (any EmbeddingProvider)?

    package init(store: any Store, blobs: any BlobStore, embedder: any EmbeddingProvider, tokenCounter: TokenCounter,
                extractor: TextExtractor = TextExtractor(), configuration: WorkerConfiguration = WorkerConfiguration(),
                shadowEmbedder: (any EmbeddingProvider)? = nil) {
        self.shadowEmbedder = shadowEmbedder
        self.store = store
        self.blobs = blobs
        self.embedder = embedder
        self.tokenCounter = tokenCounter
        self.extractor = extractor
        self.configuration = configuration
    }

    /// What an attempt did.
    package enum Outcome: Sendable, Equatable {
        /// A new version is ready.
        case indexed(IndexingSummary)
        /// Nothing to do (the document is gone, or already indexed exactly this way).
        case skipped(String)
        /// A delete job removed the document.
        case purged
        /// The deadline came first: chunks so far are written and their vectors will be reused;
        /// the job goes back to the queue at once.
        case yielded(String)
    }

    /// The lease was lost (the worker stalled past it and another took the job): stop touching
    /// the job; whoever holds it now finishes it.
    package struct LeaseLost: Error, Sendable {}

    /// Runs one claimed job. Throws `JobFailure` (what to record), `LeaseLost`, or nothing.
    /// `deadline` is when the attempt must have stopped (the invocation's end minus the margin).
    package func run(_ job: Job, owner: String, deadline: ContinuousClock.Instant? = nil) async throws -> Outcome {
        do {
            switch job.type {
            case .delete: return try purge(job)
            case .ingest, .reembed:
                if let model = job.params[ShadowBuild.parameter]?.stringValue { return try await shadow(job, model: model, owner: owner) }
                return try await index(job, owner: owner, deadline: deadline)
            }
        } catch let e as LeaseLost {
            throw e
        } catch StoreError.leaseLost {
            throw LeaseLost()
        } catch {
            throw JobFailure.from(error)
        }
    }

    // MARK: Delete

    /// The blob goes first: if removing the rows then fails, the retry still finds the row
    /// (and its URI); the document was out of search since the soft delete either way.
    func purge(_ job: Job) throws -> Outcome {
        guard let id = job.documentId else { throw JobFailure("a delete job without a document", retryable: false) }
        guard let doc = try store.document(org: job.orgId, id: id) else { return .skipped("document \(id) is already gone") }
        guard doc.deletedAt != nil else {
            // Never purge a live document (a job that outlived an undelete, a stray enqueue).
            return .skipped("document \(id) is not deleted")
        }
        try blobs.delete(uri: doc.blobURI)
        try store.hardDeleteDocument(org: job.orgId, id: id)
        return .purged
    }

    // MARK: Ingest and re-embed

    func index(_ job: Job, owner: String, deadline: ContinuousClock.Instant?) async throws -> Outcome {
        guard let id = job.documentId else { throw JobFailure("a \(job.type.rawValue) job without a document", retryable: false) }
        let org = job.orgId
        guard let detail = try store.documentDetail(org: org, id: id), detail.document.deletedAt == nil else {
            return .skipped("document \(id) was deleted")
        }
        let doc = detail.document
        let params = ReembedParameters(params: job.params)
        let chunking: ChunkerConfiguration
        do { chunking = try params.chunking(current: detail.readyVersion, defaults: configuration.chunking) } catch {
            throw JobFailure("bad chunking parameters: \(error)", retryable: false)
        }
        let target = VersionTarget(model: params.model ?? embedder.modelId, chunking: chunking)
        guard target.model == embedder.modelId else {
            throw JobFailure("the job asks for model \(target.model) but this worker embeds with \(embedder.modelId) (EMBEDDING_MODEL)",
                             retryable: false)
        }
        // A re-run after the flip committed but before the job was marked done (a crash in
        // between), or a re-embed asking for what is already there: nothing to do.
        if let ready = detail.readyVersion, target.matches(ready, sourceSha256: doc.sha256), !(params.force && job.type == .reembed) {
            return .skipped("version \(ready.id) is already ready with \(target.model), chunks \(chunking.chunkSize)/\(chunking.overlap)")
        }
        if let previous = job.versionId, let v = try store.version(org: org, id: previous), v.state == .indexing {
            // Retired, not failed: this attempt builds its replacement, so the document stays pending.
            try? store.markVersionFailed(org: org, id: previous,
                                         error: "abandoned: the attempt building it stopped, or waited (worker killed, timed out or deferred); attempt \(job.attempts) rebuilt it", retiring: true)
        }

        // The version exists before any work, so every failure, extraction included, is recorded
        // on it (and a document that never had a ready version shows `failed`).
        let version = try store.createVersion(org: org, NewVersion(
            documentId: id, embedModel: target.model, dim: embedder.dimension, chunkSize: chunking.chunkSize,
            chunkOverlap: chunking.overlap, chunkerVersion: target.chunkerVersion, sourceSha256: doc.sha256))
        guard try store.attachVersion(jobId: job.id, owner: owner, versionId: version.id) else {
            try? store.markVersionFailed(org: org, id: version.id, error: "abandoned: the job's lease was lost")
            throw LeaseLost()
        }
        do {
            let bytes = try blobs.read(uri: doc.blobURI)
            let format: DocumentFormat
            if let known = DocumentFormat(mimeType: doc.mimeType) { format = known } else {
                format = try ContentSniffer.sniff(bytes, declaredContentType: doc.mimeType, filename: doc.filename)
            }
            let extracted = try await extractor.extract(bytes, format: format)
            let pieces = Chunker(configuration: chunking, tokenCounter: tokenCounter).chunk(extracted.text)
            guard !pieces.isEmpty else {
                throw JobFailure("the document has no text to index (an image-only PDF, or an empty file)", retryable: false)
            }
            return try await build(version, of: doc, pieces: pieces, job: job, owner: owner, deadline: deadline)
        } catch let e as LeaseLost {
            throw e
        } catch {
            let failure = JobFailure.from(error)
            // A job that waits (a spent budget) leaves its version `indexing`, as a yield does:
            // the next attempt retires it and reuses the vectors it holds.
            if failure.deferUntil == nil { try? store.markVersionFailed(org: org, id: version.id, error: failure.message) }
            throw failure
        }
    }

    /// Embeds what is not reusable, writes chunks batch by batch (each batch's vectors survive a
    /// crash for the next attempt to reuse), renews the lease, and flips the version.
    func build(_ version: DocVersion, of doc: Document, pieces: [TextChunk], job: Job, owner: String,
               deadline: ContinuousClock.Instant?) async throws -> Outcome {
        let org = doc.orgId
        var summary = IndexingSummary(versionId: version.id, chunks: pieces.count)
        let texts = pieces.map { $0.embeddingText(title: doc.title) }
        let keys = texts.map { SHA256.hex($0) }
        var vectors = try store.reusableVectors(org: org, model: version.embedModel, contentSha256s: Array(Set(keys)))
        summary.reused = keys.filter { vectors[$0] != nil }.count

        let batch = configuration.embedBatch
        var start = 0
        while start < pieces.count {
            let end = min(start + batch, pieces.count)
            // Each distinct missing text once, even when a document repeats a paragraph.
            var missing: [String] = []
            var missingTexts: [String] = []
            for i in start..<end where vectors[keys[i]] == nil && !missing.contains(keys[i]) {
                missing.append(keys[i])
                missingTexts.append(texts[i])
            }
            if !missingTexts.isEmpty {
                try renewLease(job, owner: owner, version: version)
                let embedded = try await embedder.embed(missingTexts, role: .passage)
                guard embedded.count == missingTexts.count else {
                    throw JobFailure("the embedding provider returned \(embedded.count) vectors for \(missingTexts.count) texts", retryable: true)
                }
                for (k, e) in zip(missing, embedded) { vectors[k] = e.vector }
                summary.embedded += missingTexts.count
            }
            var rows: [NewChunk] = []
            rows.reserveCapacity(end - start)
            for i in start..<end {
                let p = pieces[i]
                guard let vector = vectors[keys[i]] else { throw JobFailure("no vector for chunk \(i)", retryable: true) }
                rows.append(NewChunk(index: p.index, content: p.text, contentSha256: keys[i], tokenCount: p.tokenCount,
                                     charStart: p.charStart, charEnd: p.charEnd, vector: vector))
            }
            try store.insertChunks(org: org, versionId: version.id, rows)
            start = end
            try renewLease(job, owner: owner, version: version)
            if start < pieces.count, let deadline, ContinuousClock.now >= deadline {
                // Left `indexing`: the next attempt retires it and reuses these vectors.
                return .yielded("the invocation's deadline came after \(start) of \(pieces.count) chunks; they are kept and reused")
            }
        }
        if let why = try publish(version) {
            // Deleted while we worked: nothing to publish, nothing to retry.
            try? store.markVersionFailed(org: org, id: version.id, error: "not published: \(why)")
            return .skipped("not published: \(why)")
        }
        return .indexed(summary)
    }
}

extension IndexingPipeline {
    /// Around each slow step (an embedding call, a write): a worker that stalled past its lease
    /// stops at once instead of racing the worker that took the job over.
    func renewLease(_ job: Job, owner: String, version: DocVersion) throws {
        guard try store.heartbeat(jobId: job.id, owner: owner, lease: configuration.lease) else {
            try? store.markVersionFailed(org: version.orgId, id: version.id, error: "abandoned: the job's lease was lost")
            throw LeaseLost()
        }
    }

    /// The flip; returns why not when the store refuses it (the document was deleted meanwhile).
    func publish(_ version: DocVersion) throws(StoreError) -> String? {
        do {
            try store.publishVersion(org: version.orgId, id: version.id)
            return nil
        } catch {
            if case .conflict(let why) = error { return why }
            throw error
        }
    }
}

/// What an indexing attempt did, for the job's log line and the benchmark.
package struct IndexingSummary: Sendable, Equatable, Codable {
    package var versionId: String
    package var chunks: Int
    /// Chunks whose vector came from an earlier version (same embedded text, same model).
    package var reused: Int = 0
    /// Texts sent to the model (each distinct text once).
    package var embedded: Int = 0

    package init(versionId: String, chunks: Int, reused: Int = 0, embedded: Int = 0) {
        self.versionId = versionId
        self.chunks = chunks
        self.reused = reused
        self.embedded = embedded
    }
}
