import Foundation

/// Everything ingestion, re-embedding, search and the jobs API need from storage, with two
/// implementations (embedded SQLite, Postgres + pgvector) that pass one conformance suite.
///
/// Every method that reads or writes tenant data takes the tenant and never returns another
/// tenant's rows: another org's id behaves exactly like an id that does not exist. The job-queue
/// methods a worker uses (`claimJobs`, `heartbeat`, `completeJob`, `failJob`) are the exception:
/// one worker serves every tenant, and each job it claims carries its org.
///
/// Calls are synchronous and block the calling thread for the statement's duration: a handler
/// process serves one invocation at a time, and both SQLite and libpq are blocking libraries.
package protocol Store: Sendable {
    /// `sqlite` or `postgres`.
    var kind: String { get }
    /// Searches run in a server's processes (Postgres), not on this process's CPUs (SQLite), so
    /// a searcher gains by sending one while it computes something else.
    var searchesRunElsewhere: Bool { get }

    // MARK: Schema

    /// Applies pending migrations in order; safe when several processes start together.
    func migrate() throws(StoreError)
    func migrationStatus() throws(StoreError) -> MigrationStatus

    // MARK: Documents

    /// Creates the document and its first job in one transaction. The same bytes (`sha256`)
    /// already live in the org: returns that document, `created == false`, and no new job.
    func createDocument(_ document: NewDocument, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?, created: Bool)
    func document(org: OrgID, id: String) throws(StoreError) -> Document?
    func documentDetail(org: OrgID, id: String) throws(StoreError) -> DocumentDetail?
    /// Newest first. `status` filters; `cursor` is the previous page's `nextCursor`.
    func listDocuments(org: OrgID, status: DocumentStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Document>
    /// How many of the org's documents are in each status (soft-deleted ones until purged);
    /// statuses with none are absent. What a client waiting for its uploads to be indexed polls.
    func documentCounts(org: OrgID) throws(StoreError) -> [DocumentStatus: Int]
    /// Marks the document deleted (out of search at once) and queues `job` (its cleanup) in the
    /// same transaction. Returns nil when there is no such live document.
    func softDeleteDocument(org: OrgID, id: String, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?)?
    /// Removes the document, its versions, chunks and vectors. Returns false when absent.
    @discardableResult
    func hardDeleteDocument(org: OrgID, id: String) throws(StoreError) -> Bool
    /// Live documents whose ready version was not built with this model and chunker: the
    /// nightly re-embed's work list.
    func staleDocuments(embedModel: String, chunkerVersion: String, limit: Int) throws(StoreError) -> [Document]

    // MARK: Versions

    /// A new `indexing` version beside whatever is ready now.
    func createVersion(org: OrgID, _ version: NewVersion) throws(StoreError) -> DocVersion
    func version(org: OrgID, id: String) throws(StoreError) -> DocVersion?
    func versions(org: OrgID, documentId: String) throws(StoreError) -> [DocVersion]
    /// Marks an `indexing` version failed; a document with nothing ready then reads `failed`,
    /// unless `retiring` (a new attempt replaces the version at once: the document stays pending).
    func markVersionFailed(org: OrgID, id: String, error: String, retiring: Bool) throws(StoreError)
    /// The flip: in one transaction this version becomes `ready`, the previous ready one
    /// `superseded`, and the document `ready`. Readers see the old version or the new one, never
    /// both or neither. Throws `.conflict` unless the version is `indexing` and its document live.
    @discardableResult
    func publishVersion(org: OrgID, id: String) throws(StoreError) -> DocVersion

    // MARK: Chunks and vectors

    /// Stores chunks and their vectors (under the version's model and dimension) in batches.
    func insertChunks(org: OrgID, versionId: String, _ chunks: [NewChunk]) throws(StoreError)
    func chunks(org: OrgID, versionId: String) throws(StoreError) -> [Chunk]
    func chunks(org: OrgID, ids: [String]) throws(StoreError) -> [Chunk]
    /// Titles of the org's documents among `ids`, in one read (a search page's titles); ids of
    /// other orgs, deleted documents (one deleted while its search ran) and unknown ids are left out.
    func documentTitles(org: OrgID, ids: [String]) throws(StoreError) -> [String: String]
    /// Vectors already computed for these contents under `model`, by `content_sha256`, so a
    /// re-embed only embeds what changed. Only the org's own vectors are reused.
    func reusableVectors(org: OrgID, model: String, contentSha256s: [String]) throws(StoreError) -> [String: [Float]]
    /// Models with ready vectors in the org, and their dimensions (several mid-migration).
    func readyModels(org: OrgID) throws(StoreError) -> [String: Int]
    /// Dimensions of the live (indexing or ready) versions of `model`, across all orgs: the
    /// startup check that the configured model still fits what is stored. Returns sizes only,
    /// never tenant data.
    func storedDimensions(model: String) throws(StoreError) -> [Int]

    // MARK: Search primitives (ready versions of live documents only)

    /// Top `k` chunks by cosine similarity to `query` among vectors of `model`.
    func denseSearch(org: OrgID, model: String, query: [Float], k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk]
    /// Top `k` chunks by full-text rank; accents and case do not matter.
    func keywordSearch(org: OrgID, query: String, k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk]

    // MARK: Jobs

    /// Queues a job; with an idempotency key that a live job already holds, returns that job
    /// and `created == false`.
    func enqueue(_ job: NewJob) throws(StoreError) -> (job: Job, created: Bool)
    func job(org: OrgID, id: String) throws(StoreError) -> Job?
    /// The org's jobs, newest first; `status` filters; `cursor` is the previous page's `nextCursor`.
    func listJobs(org: OrgID, status: JobStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Job>
    /// Leases up to `limit` runnable jobs to `owner` for `lease` seconds: queued ones whose
    /// `run_after` has come, and running ones whose lease expired (their worker died). Each job
    /// goes to one claimer; each claim counts as an attempt.
    func claimJobs(owner: String, limit: Int, lease: Double, types: [JobType]?) throws(StoreError) -> [Job]
    /// Extends a lease still held by `owner`; false when it was lost (expired and re-claimed).
    func heartbeat(jobId: String, owner: String, lease: Double) throws(StoreError) -> Bool
    /// Records on a running job the version its current attempt builds, so the next attempt
    /// (after this worker died) can retire that half-built version. False when `owner` no longer
    /// holds the lease.
    func attachVersion(jobId: String, owner: String, versionId: String) throws(StoreError) -> Bool
    /// Marks a job done; throws `.leaseLost` when `owner` no longer holds it.
    func completeJob(jobId: String, owner: String, durationMs: Int) throws(StoreError)
    /// Records a failed attempt: queued again after the backoff, or `dead` after `max_attempts`
    /// (`retryable == false` kills it at once), with the error kept.
    @discardableResult
    func failJob(jobId: String, owner: String, error: String, retryable: Bool, backoff: Backoff) throws(StoreError) -> Job
    /// Puts a running job back in the queue until `until` without spending an attempt (the
    /// claim's is given back), `reason` kept in its error: a job that must wait (a spent
    /// budget), not one that failed. Throws `.leaseLost` when `owner` no longer holds it.
    @discardableResult
    func deferJob(jobId: String, owner: String, until: Date, reason: String) throws(StoreError) -> Job

    // MARK: Shadow model

    /// A candidate model's vectors for chunks of a ready version (beside the live model's; never
    /// searched unless asked for by model): rows that exist are kept.
    func insertShadowVectors(org: OrgID, versionId: String, model: String, _ vectors: [(chunkId: String, vector: [Float])]) throws(StoreError)
    /// The org's live documents' ready versions, and how many have `model`'s vector for every chunk.
    func shadowCoverage(org: OrgID, model: String) throws(StoreError) -> ShadowCoverage
    /// Live documents whose ready version lacks `model`'s vector for some chunk (any org), for the
    /// stale scan to queue shadow builds.
    func shadowGaps(model: String, limit: Int) throws(StoreError) -> [(org: OrgID, documentId: String)]
    func recordShadowComparison(_ comparison: ShadowComparison) throws(StoreError)
    /// The newest `limit` comparisons for `model`, one org's or every org's.
    func shadowComparisons(model: String, org: OrgID?, limit: Int) throws(StoreError) -> [ShadowComparison]

    /// Deletes up to `limit` versions superseded before `before` (their chunks and vectors go
    /// with them): what a rollback could still serve is kept for the retention.
    func purgeSupersededVersions(before: Date, limit: Int) throws(StoreError) -> Int

    // MARK: Embedding usage

    /// Adds tokens, cost and calls to the (org, day, provider, model) row.
    func recordEmbeddingUsage(_ increment: EmbeddingUsageIncrement) throws(StoreError)
    /// Rows from `fromDay` to `toDay` (inclusive, `YYYY-MM-DD`), oldest first; one org's, or
    /// every org's summed when `org` is nil (the deployment's budget).
    func embeddingUsage(org: OrgID?, fromDay: String, toDay: String) throws(StoreError) -> [EmbeddingUsageRow]

    // MARK: Health

    /// A cheap round trip proving the store answers.
    func ping() throws(StoreError)

    /// The query-vector cache's second level (`FunctionServices.StoreVectorCache`): entries by
    /// id, unexpired only. Not tenant data: a key is a model and the hash of a query's text.
    func sharedCacheEntries(ids: [String]) throws(StoreError) -> [String: [UInt8]]
    /// Writes (or replaces) entries until `expiresAt`, and removes a few expired ones.
    func putSharedCacheEntries(_ entries: [(id: String, bytes: [UInt8])], expiresAt: Date) throws(StoreError)
}

extension Store {
    package func markVersionFailed(org: OrgID, id: String, error: String) throws(StoreError) {
        try markVersionFailed(org: org, id: id, error: error, retiring: false)
    }
}
