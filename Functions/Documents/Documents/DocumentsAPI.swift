import DocumentStore
import Foundation
import Ingestion
import LambdaEvents
import RequestTenancy
import Tenancy

/// What a request needs from the platform, given per invocation by the handler: how to ask
/// the worker for a job at once (Lambda `InvocationType=Event`), and where to report problems
/// that do not change the answer.
package struct RequestHooks: Sendable {
    package var notifyWorker: @Sendable (WorkerRequest) async throws -> Void
    package var warn: @Sendable (_ message: String, _ fields: [String: String]) -> Void
    /// Told of each accepted upload (for the invocation's metrics): its size, detected type, and
    /// whether the org already had the bytes.
    package var uploaded: @Sendable (_ bytes: Int, _ mimeType: String, _ deduplicated: Bool) -> Void

    package init(notifyWorker: @escaping @Sendable (WorkerRequest) async throws -> Void,
                warn: @escaping @Sendable (_ message: String, _ fields: [String: String]) -> Void,
                uploaded: @escaping @Sendable (_ bytes: Int, _ mimeType: String, _ deduplicated: Bool) -> Void = { _, _, _ in }) {
        self.notifyWorker = notifyWorker
        self.warn = warn
        self.uploaded = uploaded
    }

    /// No worker, no logs (tests, tools).
    package static let none = RequestHooks(notifyWorker: { _ in }, warn: { _, _ in })
}

/// The documents and jobs API over a store and a blob store. The tenant is the token's
/// `org_id` claim (401 without it); another org's ids answer 404, like ids that do not exist.
///
/// | route | answer |
/// |---|---|
/// | `POST /v1/documents` | 202 `AcceptedBody` (document + `ingest` job committed), 200 for bytes the org already has (no new job); 400 malformed, 413 too large, 415 unsupported type, 422 unreadable content, bad title or metadata |
/// | `GET /v1/documents?limit=&cursor=&status=&counts=` | 200 `DocumentListBody`; `limit` 1-100 (default 20); `status` one of pending, ready, failed, deleted (without it, deleted documents are left out); `counts=true` adds the org's document count per status |
/// | `GET /v1/documents/{id}` | 200 `DocumentDetailBody`; a soft-deleted document still answers (status `deleted`) until the worker's `delete` job purges it, then 404 |
/// | `GET /v1/documents/{id}/versions` | 200 `VersionListBody` |
/// | `DELETE /v1/documents/{id}` | 202 `AcceptedBody` (gone from search at once, `delete` job queued); 200 when already deleted |
/// | `GET /v1/jobs/{id}` | 200 `JobBody` |
///
/// Methods throw `APIError` for what they decide themselves and the store's `StoreError`
/// unmapped (the handler maps it with the shared `ErrorMapping`).
package struct DocumentsAPI: Sendable {
    package let store: any Store
    package let uploads: UploadService
    package let configuration: UploadConfiguration

    package static let defaultPageSize = 20
    package static let maxPageSize = 100

    package init(store: any Store, blobs: any BlobStore, configuration: UploadConfiguration) {
        self.store = store
        self.uploads = UploadService(store: store, blobs: blobs)
        self.configuration = configuration
    }

    // MARK: Routes

    /// `POST /v1/documents`.
    package func createDocument(_ request: APIGatewayV2Request, hooks: RequestHooks) async throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let input = try UploadInput.from(request, maxBytes: configuration.maxUploadBytes)
        let outcome = try uploads.upload(org: org, input)
        for w in outcome.warnings { hooks.warn(w, ["document_id": outcome.document.id]) }
        if let job = outcome.job {
            await notify(job, org: org, hooks: hooks)
        }
        hooks.uploaded(outcome.document.bytes, outcome.document.mimeType, !outcome.created)
        let body = AcceptedBody(document: outcome.document, jobId: outcome.job?.id, created: outcome.created)
        return try Self.json(body, status: outcome.created ? 202 : 200, headers: ["location": "/v1/documents/\(outcome.document.id)"])
    }

    /// `GET /v1/documents`.
    package func listDocuments(_ request: APIGatewayV2Request) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let (limit, cursor) = try Self.paging(request)
        let status = try Self.statusFilter(request, DocumentStatus.self)
        var counts: [DocumentStatus: Int]?
        if let raw = request.query("counts") {
            switch raw.lowercased() {
            case "true", "1": counts = try store.documentCounts(org: org)
            case "false", "0", "": break
            default: throw APIError.unprocessable("counts must be true or false, not `\(raw)`.", details: ["field": "counts"])
            }
        }
        let page = try store.listDocuments(org: org, status: status, limit: limit, cursor: cursor)
        return try Self.json(DocumentListBody(page, counts: counts))
    }

    /// `GET /v1/jobs?status=&limit=&cursor=`: the org's jobs, newest first.
    package func listJobs(_ request: APIGatewayV2Request) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let (limit, cursor) = try Self.paging(request)
        let status = try Self.statusFilter(request, JobStatus.self)
        return try Self.json(JobListBody(try store.listJobs(org: org, status: status, limit: limit, cursor: cursor)))
    }

    /// `limit` (1-100, default 20) and `cursor` (opaque, from the previous page).
    static func paging(_ request: APIGatewayV2Request) throws(APIError) -> (limit: Int, cursor: String?) {
        var limit = Self.defaultPageSize
        if let raw = request.query("limit") {
            guard let n = Int(raw.trimmingCharacters(in: .whitespaces)), (1...Self.maxPageSize).contains(n) else {
                throw APIError.unprocessable("limit must be a whole number from 1 to \(Self.maxPageSize), not `\(raw)`.",
                                             details: ["field": "limit"])
            }
            limit = n
        }
        var cursor: String?
        if let raw = request.query("cursor"), !raw.isEmpty {
            guard raw.utf8.count <= 512, raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIError.unprocessable("cursor is not one this API returned.", details: ["field": "cursor"])
            }
            cursor = raw
        }
        return (limit, cursor)
    }

    /// `status`, one of the type's values (case-insensitive); absent or empty is no filter.
    static func statusFilter<S: RawRepresentable & CaseIterable>(_ request: APIGatewayV2Request, _: S.Type) throws(APIError) -> S?
    where S.RawValue == String {
        guard let raw = request.query("status"), !raw.isEmpty else { return nil }
        guard let s = S(rawValue: raw.lowercased()) else {
            throw APIError.unprocessable("status must be one of \(S.allCases.map(\.rawValue).joined(separator: ", ")), not `\(raw)`.",
                                         details: ["field": "status"])
        }
        return s
    }

    /// `GET /v1/documents/{id}`.
    package func getDocument(_ request: APIGatewayV2Request) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let id = try Self.id(request)
        guard let detail = try store.documentDetail(org: org, id: id) else { throw Self.noDocument(id) }
        return try Self.json(DocumentDetailBody(detail))
    }

    /// `GET /v1/documents/{id}/versions`.
    package func listVersions(_ request: APIGatewayV2Request) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let id = try Self.id(request)
        guard try store.document(org: org, id: id) != nil else { throw Self.noDocument(id) }
        return try Self.json(VersionListBody(documentId: id, versions: try store.versions(org: org, documentId: id)))
    }

    /// `DELETE /v1/documents/{id}`.
    package func deleteDocument(_ request: APIGatewayV2Request, hooks: RequestHooks) async throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let id = try Self.id(request)
        let job = NewJob(orgId: org, type: .delete, documentId: id, idempotencyKey: "delete:\(id)")
        if let deleted = try store.softDeleteDocument(org: org, id: id, job: job) {
            if let queued = deleted.job { await notify(queued, org: org, hooks: hooks) }
            return try Self.json(AcceptedBody(document: deleted.document, jobId: deleted.job?.id, created: true), status: 202)
        }
        // Already deleted (a retried DELETE): the same state, nothing new queued.
        guard let existing = try store.document(org: org, id: id) else { throw Self.noDocument(id) }
        return try Self.json(AcceptedBody(document: existing, jobId: nil, created: false), status: 200)
    }

    /// `GET /v1/jobs/{id}`.
    package func getJob(_ request: APIGatewayV2Request) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let id = try Self.id(request, what: "job")
        guard let job = try store.job(org: org, id: id) else { throw APIError.notFound("No job \(id).") }
        return try Self.json(JobBody(job))
    }

    // MARK: Helpers

    /// Asks the worker for the job now. A failure is reported and swallowed: the job is
    /// committed, and the worker's per-minute queue drain will run it anyway.
    func notify(_ job: Job, org: OrgID, hooks: RequestHooks) async {
        do {
            try await hooks.notifyWorker(WorkerRequest(jobId: job.id, orgId: org))
        } catch {
            hooks.warn("could not invoke the worker; the queue drain will pick the job up",
                       ["job_id": job.id, "function": configuration.reembedFunction, "error": "\(error)"])
        }
    }

    /// The `{id}` path parameter. Ids are ours (UUIDs); anything that cannot be one (too long,
    /// odd characters, a NUL) is simply not found, without asking the store.
    package static func id(_ request: APIGatewayV2Request, what: String = "document") throws(APIError) -> String {
        let raw = request.pathParameter("id") ?? ""
        guard (1...128).contains(raw.utf8.count),
              raw.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        else {
            throw APIError.notFound("No such \(what).")
        }
        return raw
    }

    package static func noDocument(_ id: String) -> APIError { APIError.notFound("No document \(id).") }

    /// Keys sorted, so the same state always reads the same (diffs, caches, eyes).
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Throws rather than answering a 500 itself, so the route's error handling adds the request id.
    package static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [String: String] = [:]) throws(APIError) -> APIGatewayV2Response {
        guard let data = try? encoder.encode(value) else { throw APIError.internalError("The response could not be encoded.") }
        var h = headers
        h["content-type"] = "application/json"
        return APIGatewayV2Response(statusCode: status, headers: h, body: String(decoding: data, as: UTF8.self))
    }
}
