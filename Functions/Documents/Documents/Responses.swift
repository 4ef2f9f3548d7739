import DocumentStore
import Foundation
import JSON

// The JSON the documents and jobs API answers with: snake_case keys, dates in ISO 8601 UTC with
// milliseconds (`2026-11-21T19:59:04.123Z`), absent values as explicit `null`. Internal columns
// (`org_id`, `blob_uri`, job leases and idempotency keys) are not shown.

/// Milliseconds since the epoch of a stored date, as ISO 8601 UTC.
func iso8601(_ date: Date) -> String {
    Timestamps.iso8601Millis(Int64((date.timeIntervalSince1970 * 1000).rounded()))
}

/// A document.
///
/// ```json
/// {"id": "…", "title": "Leave policy", "filename": "leave-policy.md", "mime_type": "text/markdown",
///  "bytes": 5120, "sha256": "…64 hex…", "metadata": {"dept": "hr"},
///  "status": "pending|ready|failed|deleted", "ready_version_id": null,
///  "created_at": "2026-11-21T19:59:04.123Z", "updated_at": "…", "deleted_at": null}
/// ```
package struct DocumentBody: Encodable, Sendable {
    package var document: Document

    package init(_ document: Document) { self.document = document }

    enum Keys: String, CodingKey {
        case id, title, filename, mime_type, bytes, sha256, metadata, status, ready_version_id, created_at, updated_at, deleted_at
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let d = document
        try c.encode(d.id, forKey: .id)
        try c.encode(d.title, forKey: .title)
        try c.encode(d.filename, forKey: .filename)
        try c.encode(d.mimeType, forKey: .mime_type)
        try c.encode(d.bytes, forKey: .bytes)
        try c.encode(d.sha256, forKey: .sha256)
        try c.encode(d.metadata, forKey: .metadata)
        try c.encode(d.status.rawValue, forKey: .status)
        try c.encode(d.readyVersionId, forKey: .ready_version_id)
        try c.encode(iso8601(d.createdAt), forKey: .created_at)
        try c.encode(iso8601(d.updatedAt), forKey: .updated_at)
        try c.encode(d.deletedAt.map(iso8601), forKey: .deleted_at)
    }
}

/// `GET /v1/documents/{id}`: the document's fields, then the ready version (null until one is)
/// and the counts.
///
/// ```json
/// {…document…, "ready_version": {…version…} | null, "version_count": 1, "chunk_count": 12}
/// ```
package struct DocumentDetailBody: Encodable, Sendable {
    package var detail: DocumentDetail

    package init(_ detail: DocumentDetail) { self.detail = detail }

    enum Keys: String, CodingKey { case ready_version, version_count, chunk_count }

    package func encode(to encoder: any Encoder) throws {
        try DocumentBody(detail.document).encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(detail.readyVersion.map(VersionBody.init), forKey: .ready_version)
        try c.encode(detail.versionCount, forKey: .version_count)
        try c.encode(detail.chunkCount, forKey: .chunk_count)
    }
}

/// One indexing of a document.
///
/// ```json
/// {"id": "…", "document_id": "…", "state": "indexing|ready|failed|superseded",
///  "embed_model": "sentence-transformers/all-MiniLM-L6-v2", "dim": 384, "chunk_size": 512,
///  "chunk_overlap": 64, "chunker_version": "…", "source_sha256": "…", "error": null,
///  "created_at": "…", "ready_at": null}
/// ```
package struct VersionBody: Encodable, Sendable {
    package var version: DocVersion

    package init(_ version: DocVersion) { self.version = version }

    enum Keys: String, CodingKey {
        case id, document_id, state, embed_model, dim, chunk_size, chunk_overlap, chunker_version, source_sha256, error, created_at, ready_at
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let v = version
        try c.encode(v.id, forKey: .id)
        try c.encode(v.documentId, forKey: .document_id)
        try c.encode(v.state.rawValue, forKey: .state)
        try c.encode(v.embedModel, forKey: .embed_model)
        try c.encode(v.dim, forKey: .dim)
        try c.encode(v.chunkSize, forKey: .chunk_size)
        try c.encode(v.chunkOverlap, forKey: .chunk_overlap)
        try c.encode(v.chunkerVersion, forKey: .chunker_version)
        try c.encode(v.sourceSha256, forKey: .source_sha256)
        try c.encode(v.error, forKey: .error)
        try c.encode(iso8601(v.createdAt), forKey: .created_at)
        try c.encode(v.readyAt.map(iso8601), forKey: .ready_at)
    }
}

/// `GET /v1/jobs/{id}`.
///
/// ```json
/// {"id": "…", "type": "ingest|reembed|delete", "status": "queued|running|succeeded|failed|dead",
///  "document_id": "…", "version_id": null, "params": {}, "attempts": 0, "max_attempts": 5,
///  "error": null, "duration_ms": null, "run_after": "…", "created_at": "…", "updated_at": "…",
///  "started_at": null, "finished_at": null}
/// ```
package struct JobBody: Encodable, Sendable {
    package var job: Job

    package init(_ job: Job) { self.job = job }

    enum Keys: String, CodingKey {
        case id, type, status, document_id, version_id, params, attempts, max_attempts, error, duration_ms
        case run_after, created_at, updated_at, started_at, finished_at
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        let j = job
        try c.encode(j.id, forKey: .id)
        try c.encode(j.type.rawValue, forKey: .type)
        try c.encode(j.status.rawValue, forKey: .status)
        try c.encode(j.documentId, forKey: .document_id)
        try c.encode(j.versionId, forKey: .version_id)
        try c.encode(j.params, forKey: .params)
        try c.encode(j.attempts, forKey: .attempts)
        try c.encode(j.maxAttempts, forKey: .max_attempts)
        try c.encode(j.error, forKey: .error)
        try c.encode(j.durationMs, forKey: .duration_ms)
        try c.encode(iso8601(j.runAfter), forKey: .run_after)
        try c.encode(iso8601(j.createdAt), forKey: .created_at)
        try c.encode(iso8601(j.updatedAt), forKey: .updated_at)
        try c.encode(j.startedAt.map(iso8601), forKey: .started_at)
        try c.encode(j.finishedAt.map(iso8601), forKey: .finished_at)
    }
}

/// The answer to `POST /v1/documents` (202 new, 200 duplicate) and `DELETE /v1/documents/{id}`
/// (202 deleted now, 200 already deleted).
///
/// ```json
/// {"document_id": "…", "job_id": "…" | null, "status": "pending", "created": true, "document": {…}}
/// ```
/// `status` is the document's; `job_id` is the job queued by this request (null when none was:
/// a duplicate upload, a repeated delete); `created` says whether this request changed anything.
package struct AcceptedBody: Encodable, Sendable {
    package var document: Document
    package var jobId: String?
    package var created: Bool

    package init(document: Document, jobId: String?, created: Bool) {
        self.document = document
        self.jobId = jobId
        self.created = created
    }

    enum Keys: String, CodingKey { case document_id, job_id, status, created, document }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(document.id, forKey: .document_id)
        try c.encode(jobId, forKey: .job_id)
        try c.encode(document.status.rawValue, forKey: .status)
        try c.encode(created, forKey: .created)
        try c.encode(DocumentBody(document), forKey: .document)
    }
}

/// `GET /v1/documents`: newest first. `next_cursor` is opaque; pass it as `?cursor=` for the
/// next page; null on the last page.
///
/// ```json
/// {"documents": [{…document…}], "next_cursor": "…" | null}
/// ```
/// `GET /v1/jobs`: `{jobs, next_cursor}`.
package struct JobListBody: Encodable, Sendable {
    package var page: Page<Job>

    package init(_ page: Page<Job>) { self.page = page }

    enum Keys: String, CodingKey { case jobs, next_cursor }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(page.items.map(JobBody.init), forKey: .jobs)
        try c.encode(page.nextCursor, forKey: .next_cursor)
    }
}

package struct DocumentListBody: Encodable, Sendable {
    package var page: Page<Document>
    /// With `?counts=true`: every status, 0 included, so a client waiting for its uploads reads
    /// `pending` without asking for each document.
    package var counts: [DocumentStatus: Int]?

    package init(_ page: Page<Document>, counts: [DocumentStatus: Int]? = nil) {
        self.page = page
        self.counts = counts
    }

    enum Keys: String, CodingKey { case documents, next_cursor, counts }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(page.items.map(DocumentBody.init), forKey: .documents)
        try c.encode(page.nextCursor, forKey: .next_cursor)
        if let counts {
            let all = Dictionary(uniqueKeysWithValues: DocumentStatus.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
            try c.encode(all, forKey: .counts)
        }
    }
}

/// `GET /v1/documents/{id}/versions`: newest first.
///
/// ```json
/// {"document_id": "…", "versions": [{…version…}]}
/// ```
package struct VersionListBody: Encodable, Sendable {
    package var documentId: String
    package var versions: [DocVersion]

    package init(documentId: String, versions: [DocVersion]) {
        self.documentId = documentId
        self.versions = versions
    }

    enum Keys: String, CodingKey { case document_id, versions }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(documentId, forKey: .document_id)
        try c.encode(versions.map(VersionBody.init), forKey: .versions)
    }
}

/// The event `upload` sends the worker (asynchronously) after queueing a job, so the job runs
/// within seconds instead of at the next queue drain: `{"job_id": "…", "org_id": "…"}`.
package struct WorkerRequest: Codable, Sendable, Equatable {
    package var jobId: String
    package var orgId: OrgID

    package init(jobId: String, orgId: OrgID) {
        self.jobId = jobId
        self.orgId = orgId
    }

    enum CodingKeys: String, CodingKey {
        case jobId = "job_id", orgId = "org_id"
    }
}
