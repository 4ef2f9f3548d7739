import DocumentStore
import Ingestion
import LambdaEvents

/// Decides, for one document, whether a re-embed is needed and queues it: shared by the
/// re-embed API (one document, or a whole org) and the nightly stale scan, so all three agree
/// on "up to date" and on the job's idempotency key.
package struct ReembedPlanner: Sendable {
    package let store: any Store
    /// The model this deployment embeds with (`EMBEDDING_MODEL`).
    package let model: String
    package let configuration: WorkerConfiguration

    package init(store: any Store, model: String, configuration: WorkerConfiguration) {
        self.store = store
        self.model = model
        self.configuration = configuration
    }

    package enum Decision: Sendable {
        /// The ready version was built exactly as asked; nothing queued.
        case upToDate(DocVersion)
        /// A job for it: new (`created`) or the live one the same request queued before.
        case queued(Job, created: Bool)
    }

    /// 422 for a model this deployment cannot embed with: the worker has one provider, and
    /// vectors of another model could never be searched with this deployment's queries.
    package func checkModel(_ params: ReembedParameters) throws(APIError) {
        if let asked = params.model, asked != model {
            throw APIError.invalidField("model", "This deployment embeds with `\(model)`; it cannot build `\(asked)` vectors. "
                                        + "Set EMBEDDING_MODEL (and its provider) to change models, then re-embed.")
        }
    }

    /// The document's ready version, which `plan` compares against.
    package func readyVersion(org: OrgID, of document: Document) throws -> DocVersion? {
        try document.readyVersionId.flatMap { try store.version(org: org, id: $0) }
    }

    package func plan(org: OrgID, document: Document, params: ReembedParameters) throws -> Decision {
        try plan(org: org, document: document, ready: readyVersion(org: org, of: document), params: params)
    }

    /// With the ready version already in hand (the org-wide re-embed reads it first).
    package func plan(org: OrgID, document: Document, ready: DocVersion?, params: ReembedParameters) throws -> Decision {
        let chunking = try params.chunking(current: ready, defaults: configuration.chunking)
        let target = VersionTarget(model: params.model ?? model, chunking: chunking)
        if let ready, !params.force, target.matches(ready, sourceSha256: document.sha256) {
            return .upToDate(ready)
        }
        var resolved = params
        resolved.model = target.model
        resolved.chunkSize = chunking.chunkSize
        resolved.chunkOverlap = chunking.overlap
        let (job, created) = try store.enqueue(NewJob(
            orgId: org, type: .reembed, documentId: document.id, idempotencyKey: target.jobKey(documentId: document.id, force: params.force),
            params: resolved.params, maxAttempts: configuration.maxAttempts))
        return .queued(job, created: created)
    }
}
