import DocumentStore
import Embeddings
import Foundation
import Ingestion
import JSON

/// Shadow builds: a candidate model's vectors (`EMBEDDING_SHADOW_MODEL`) added to the chunks of
/// each ready version, beside the live model's, never served unless a canary org is (README,
/// "Shadow, canary, promotion"). They reuse the candidate's vectors of unchanged text by its
/// hash, as re-embedding does, and a promotion later reuses them all: the candidate's new
/// versions cost no model call.
package enum ShadowBuild {
    /// The job parameter naming the candidate model: a `reembed` job with it is a shadow build.
    package static let parameter = "shadow_model"

    /// The job that adds `model`'s vectors to `document`'s ready version (one live per document
    /// and model, by its idempotency key).
    package static func job(org: OrgID, document: String, model: String) -> NewJob {
        NewJob(orgId: org, type: .reembed, documentId: document, idempotencyKey: "shadow:\(document):\(model)",
               params: [parameter: .string(model)])
    }
}

extension IndexingPipeline {
    func shadow(_ job: Job, model: String, owner: String) async throws -> Outcome {
        guard let id = job.documentId else { throw JobFailure("a shadow job without a document", retryable: false) }
        guard let candidate = shadowEmbedder, candidate.modelId == model else {
            return .skipped("this worker's shadow model is \(shadowEmbedder?.modelId ?? "none"), not \(model) (EMBEDDING_SHADOW_MODEL)")
        }
        let org = job.orgId
        guard let detail = try store.documentDetail(org: org, id: id), detail.document.deletedAt == nil,
              let ready = detail.readyVersion else {
            return .skipped("document \(id) has no ready version to shadow")
        }
        let chunks = try store.chunks(org: org, versionId: ready.id)
        // The text each chunk's live vector was made from (title context + chunk), so the
        // candidate embeds the same input and the content hash keys its reuse.
        let texts = chunks.map { c in
            TextChunk(index: c.index, text: c.content, charStart: c.charStart, charEnd: c.charEnd, tokenCount: c.tokenCount)
                .embeddingText(title: detail.document.title)
        }
        var vectors = try store.reusableVectors(org: org, model: model, contentSha256s: Array(Set(chunks.map(\.contentSha256))))
        var summary = IndexingSummary(versionId: ready.id, chunks: chunks.count)
        summary.reused = chunks.filter { vectors[$0.contentSha256] != nil }.count
        var missing: [(key: String, text: String)] = []
        for (c, t) in zip(chunks, texts) where vectors[c.contentSha256] == nil && !missing.contains(where: { $0.key == c.contentSha256 }) {
            missing.append((c.contentSha256, t))
        }
        for start in stride(from: 0, to: missing.count, by: configuration.embedBatch) {
            let batch = missing[start..<min(start + configuration.embedBatch, missing.count)]
            _ = try store.heartbeat(jobId: job.id, owner: owner, lease: configuration.lease)
            let out = try await candidate.embed(batch.map(\.text), role: .passage)
            guard out.count == batch.count else {
                throw JobFailure("the shadow model returned \(out.count) vectors for \(batch.count) texts", retryable: true)
            }
            for (m, e) in zip(batch, out) { vectors[m.key] = e.vector }
            summary.embedded += batch.count
        }
        try store.insertShadowVectors(org: org, versionId: ready.id, model: model,
                                      chunks.compactMap { c in vectors[c.contentSha256].map { (c.id, $0) } })
        return .indexed(summary)
    }
}
