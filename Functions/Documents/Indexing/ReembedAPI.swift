import Documents
import DocumentStore
import Foundation
import Ingestion
import JSON
import LambdaEvents
import RequestTenancy
import Tenancy

/// The re-embed routes of the `reembed` function. The tenant is the `org_id` claim; another
/// org's document is a 404.
///
/// | route | answer |
/// |---|---|
/// | `POST /v1/documents/{id}/reembed` | body optional: `{model?, chunk_size?, chunk_overlap?, force?}`. 202 `{document_id, job_id, status, created, job}` with the job (`created: false` when the same request's job is still live); 200 `{status: "up_to_date", version_id}` when the ready version already matches, unless `force`; 404 unknown or deleted; 422 a model this deployment cannot embed with, sizes out of range |
/// | `POST /v1/reembed` | body optional: the same fields plus `scope`: `stale` (default: documents not on the target model or on older chunking rules) or `all` (every live document brought to the target model and chunking; with `force`, rebuilt even when already so). 202 `{queued, already_queued, up_to_date, pending, job_ids}` |
///
/// Documents still being ingested for the first time (`pending`) are left to their ingest job.
package struct ReembedAPI: Sendable {
    package let planner: ReembedPlanner

    package init(planner: ReembedPlanner) { self.planner = planner }

    /// The jobs a request queued, so the handler can ask the worker for them at once.
    package struct Result: Sendable {
        package var response: APIGatewayV2Response
        package var queued: [Job]
    }

    package func reembedDocument(_ request: APIGatewayV2Request) throws -> Result {
        let org = try request.orgID()
        let id = try DocumentsAPI.id(request)
        let params = try ReembedParameters.parse(try Self.optionalBody(request))
        try planner.checkModel(params)
        guard let doc = try planner.store.document(org: org, id: id), doc.deletedAt == nil else { throw DocumentsAPI.noDocument(id) }
        let ready = try planner.readyVersion(org: org, of: doc)
        try checkChunking(params, ready: ready)
        switch try planner.plan(org: org, document: doc, ready: ready, params: params) {
        case .upToDate(let v):
            return Result(response: try DocumentsAPI.json(UpToDateBody(documentId: id, versionId: v.id, model: v.embedModel)), queued: [])
        case .queued(let job, let created):
            return Result(response: try DocumentsAPI.json(QueuedBody(documentId: id, job: job, created: created), status: 202,
                                                      headers: ["location": "/v1/jobs/\(job.id)"]),
                          queued: created ? [job] : [])
        }
    }

    package func reembedAll(_ request: APIGatewayV2Request) throws -> Result {
        let org = try request.orgID()
        let body = try Self.optionalBody(request)
        let params = try ReembedParameters.parse(body, extraFields: ["scope"])
        try planner.checkModel(params)
        var all = false
        if let scope = body?["scope"], scope != .null {
            guard let s = scope.stringValue, s == "all" || s == "stale" else {
                throw APIError.invalidField("scope", "`scope` must be `stale` or `all`.")
            }
            all = s == "all"
        }
        var summary = ReembedAllBody()
        // Two passes: every document's chunking is checked before any job is queued, so a request
        // refused for one document (an overlap its chunk size cannot take) leaves nothing behind.
        var work: [(Document, DocVersion?)] = []
        var cursor: String?
        repeat {
            let page = try planner.store.listDocuments(org: org, status: nil, limit: 100, cursor: cursor)
            for doc in page.items where doc.deletedAt == nil {
                guard doc.readyVersionId != nil || doc.status == .failed else {
                    summary.pending += 1
                    continue
                }
                let ready = try planner.readyVersion(org: org, of: doc)
                if !all, let ready, ready.embedModel == (params.model ?? planner.model), ready.chunkerVersion == Chunker.version {
                    summary.upToDate += 1
                    continue
                }
                try checkChunking(params, ready: ready, documentId: doc.id)
                work.append((doc, ready))
            }
            cursor = page.nextCursor
        } while cursor != nil
        var queued: [Job] = []
        for (doc, ready) in work {
            switch try planner.plan(org: org, document: doc, ready: ready, params: params) {
            case .upToDate: summary.upToDate += 1
            case .queued(let job, let created):
                if created { summary.queued += 1; queued.append(job) } else { summary.alreadyQueued += 1 }
                if summary.jobIds.count < 100 { summary.jobIds.append(job.id) }
            }
        }
        return Result(response: try DocumentsAPI.json(summary, status: 202), queued: queued)
    }

    /// The chunking a job would use for this document must exist: an overlap given without a
    /// size is checked against the document's own size (a 422, where it was a 500).
    func checkChunking(_ params: ReembedParameters, ready: DocVersion?, documentId: String? = nil) throws(APIError) {
        do { _ = try params.chunking(current: ready, defaults: planner.configuration.chunking) } catch {
            let which = documentId.map { " (document \($0))" } ?? ""
            throw APIError.invalidField("chunk_overlap", "\(error)\(which); give chunk_size too, or a smaller chunk_overlap.")
        }
    }

    /// No body, an empty one, or JSON.
    static func optionalBody(_ request: APIGatewayV2Request) throws(APIError) -> JSONValue? {
        guard let body = request.body, !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return try request.jsonBody()
    }
}

struct UpToDateBody: Encodable {
    var documentId: String
    var versionId: String
    var model: String
    enum CodingKeys: String, CodingKey { case documentId = "document_id", versionId = "version_id", model, status, jobId = "job_id" }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(documentId, forKey: .documentId)
        try c.encode(versionId, forKey: .versionId)
        try c.encode(model, forKey: .model)
        try c.encode("up_to_date", forKey: .status)
        try c.encodeNil(forKey: .jobId)
    }
}

struct QueuedBody: Encodable {
    var documentId: String
    var job: Job
    var created: Bool
    enum CodingKeys: String, CodingKey { case documentId = "document_id", jobId = "job_id", status, created, job }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(documentId, forKey: .documentId)
        try c.encode(job.id, forKey: .jobId)
        try c.encode(job.status.rawValue, forKey: .status)
        try c.encode(created, forKey: .created)
        try c.encode(JobBody(job), forKey: .job)
    }
}

struct ReembedAllBody: Encodable {
    var queued = 0
    var alreadyQueued = 0
    var upToDate = 0
    var pending = 0
    /// The first 100 jobs' ids.
    var jobIds: [String] = []
    enum CodingKeys: String, CodingKey {
        case queued, pending
        case alreadyQueued = "already_queued", upToDate = "up_to_date", jobIds = "job_ids"
    }
}
