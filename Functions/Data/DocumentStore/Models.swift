import Foundation
import JSON

/// The document lifecycle as users see it: `pending` until the first version is ready, `ready`
/// while a version is searchable (also while a newer one is being built), `failed` when no
/// version could be built, `deleted` once soft-deleted (gone from search at once).
package enum DocumentStatus: String, Codable, Sendable, CaseIterable {
    case pending, ready, failed, deleted
}

package struct Document: Codable, Sendable, Equatable {
    package var id: String
    package var orgId: OrgID
    package var title: String
    package var filename: String
    package var mimeType: String
    package var bytes: Int
    package var sha256: String
    package var blobURI: String
    package var metadata: JSONObject
    package var status: DocumentStatus
    package var createdAt: Date
    package var updatedAt: Date
    package var deletedAt: Date?
    /// The `ready` version search reads, if any.
    package var readyVersionId: String?

    package init(id: String, orgId: OrgID, title: String, filename: String, mimeType: String, bytes: Int, sha256: String, blobURI: String, metadata: JSONObject, status: DocumentStatus, createdAt: Date, updatedAt: Date, deletedAt: Date? = nil, readyVersionId: String? = nil) {
        self.id = id
        self.orgId = orgId
        self.title = title
        self.filename = filename
        self.mimeType = mimeType
        self.bytes = bytes
        self.sha256 = sha256
        self.blobURI = blobURI
        self.metadata = metadata
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
        self.readyVersionId = readyVersionId
    }
}

package struct NewDocument: Sendable {
    package var orgId: OrgID
    package var title: String
    package var filename: String
    package var mimeType: String
    package var bytes: Int
    package var sha256: String
    package var blobURI: String
    package var metadata: JSONObject

    package init(orgId: OrgID, title: String, filename: String, mimeType: String, bytes: Int, sha256: String,
                blobURI: String, metadata: JSONObject = [:]) {
        self.orgId = orgId
        self.title = title
        self.filename = filename
        self.mimeType = mimeType
        self.bytes = bytes
        self.sha256 = sha256
        self.blobURI = blobURI
        self.metadata = metadata
    }
}

/// A document with the figures `GET /v1/documents/{id}` shows.
package struct DocumentDetail: Codable, Sendable, Equatable {
    package var document: Document
    package var readyVersion: DocVersion?
    package var versionCount: Int
    package var chunkCount: Int

    package init(document: Document, readyVersion: DocVersion? = nil, versionCount: Int, chunkCount: Int) {
        self.document = document
        self.readyVersion = readyVersion
        self.versionCount = versionCount
        self.chunkCount = chunkCount
    }
}

package enum VersionState: String, Codable, Sendable, CaseIterable {
    case indexing, ready, failed, superseded
}

/// One indexing of a document: its chunks and vectors under one model and chunker.
package struct DocVersion: Codable, Sendable, Equatable {
    package var id: String
    package var orgId: OrgID
    package var documentId: String
    package var embedModel: String
    package var dim: Int
    package var chunkSize: Int
    package var chunkOverlap: Int
    package var chunkerVersion: String
    package var sourceSha256: String
    package var state: VersionState
    package var error: String?
    package var createdAt: Date
    package var readyAt: Date?

    package init(id: String, orgId: OrgID, documentId: String, embedModel: String, dim: Int, chunkSize: Int, chunkOverlap: Int, chunkerVersion: String, sourceSha256: String, state: VersionState, error: String? = nil, createdAt: Date, readyAt: Date? = nil) {
        self.id = id
        self.orgId = orgId
        self.documentId = documentId
        self.embedModel = embedModel
        self.dim = dim
        self.chunkSize = chunkSize
        self.chunkOverlap = chunkOverlap
        self.chunkerVersion = chunkerVersion
        self.sourceSha256 = sourceSha256
        self.state = state
        self.error = error
        self.createdAt = createdAt
        self.readyAt = readyAt
    }
}

package struct NewVersion: Sendable {
    package var documentId: String
    package var embedModel: String
    package var dim: Int
    package var chunkSize: Int
    package var chunkOverlap: Int
    package var chunkerVersion: String
    package var sourceSha256: String

    package init(documentId: String, embedModel: String, dim: Int, chunkSize: Int, chunkOverlap: Int,
                chunkerVersion: String, sourceSha256: String) {
        self.documentId = documentId
        self.embedModel = embedModel
        self.dim = dim
        self.chunkSize = chunkSize
        self.chunkOverlap = chunkOverlap
        self.chunkerVersion = chunkerVersion
        self.sourceSha256 = sourceSha256
    }
}

/// A chunk to store with its vector (under the version's model).
package struct NewChunk: Sendable {
    package var index: Int
    package var content: String
    package var contentSha256: String
    package var tokenCount: Int
    package var charStart: Int
    package var charEnd: Int
    package var vector: [Float]

    package init(index: Int, content: String, contentSha256: String, tokenCount: Int, charStart: Int, charEnd: Int, vector: [Float]) {
        self.index = index
        self.content = content
        self.contentSha256 = contentSha256
        self.tokenCount = tokenCount
        self.charStart = charStart
        self.charEnd = charEnd
        self.vector = vector
    }
}

package struct Chunk: Codable, Sendable, Equatable {
    package var id: String
    package var orgId: OrgID
    package var documentId: String
    package var versionId: String
    package var index: Int
    package var content: String
    package var contentSha256: String
    package var tokenCount: Int
    package var charStart: Int
    package var charEnd: Int

    package init(id: String, orgId: OrgID, documentId: String, versionId: String, index: Int, content: String, contentSha256: String, tokenCount: Int, charStart: Int, charEnd: Int) {
        self.id = id
        self.orgId = orgId
        self.documentId = documentId
        self.versionId = versionId
        self.index = index
        self.content = content
        self.contentSha256 = contentSha256
        self.tokenCount = tokenCount
        self.charStart = charStart
        self.charEnd = charEnd
    }
}

package enum JobType: String, Codable, Sendable, CaseIterable {
    case ingest, reembed, delete
}

package enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, dead

    /// Queued or running: an idempotency key maps to at most one live job.
    package var isLive: Bool { self == .queued || self == .running }
}

package struct Job: Codable, Sendable, Equatable {
    package var id: String
    package var orgId: OrgID
    package var type: JobType
    package var documentId: String?
    package var versionId: String?
    package var idempotencyKey: String?
    package var params: JSONObject
    package var status: JobStatus
    package var attempts: Int
    package var maxAttempts: Int
    package var runAfter: Date
    package var leaseOwner: String?
    package var leaseExpiresAt: Date?
    package var error: String?
    package var durationMs: Int?
    package var createdAt: Date
    package var updatedAt: Date
    package var startedAt: Date?
    package var finishedAt: Date?

    package init(id: String, orgId: OrgID, type: JobType, documentId: String? = nil, versionId: String? = nil, idempotencyKey: String? = nil, params: JSONObject, status: JobStatus, attempts: Int, maxAttempts: Int, runAfter: Date, leaseOwner: String? = nil, leaseExpiresAt: Date? = nil, error: String? = nil, durationMs: Int? = nil, createdAt: Date, updatedAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil) {
        self.id = id
        self.orgId = orgId
        self.type = type
        self.documentId = documentId
        self.versionId = versionId
        self.idempotencyKey = idempotencyKey
        self.params = params
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAfter = runAfter
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.error = error
        self.durationMs = durationMs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

package struct NewJob: Sendable {
    package var orgId: OrgID
    package var type: JobType
    package var documentId: String?
    package var versionId: String?
    package var idempotencyKey: String?
    package var params: JSONObject
    package var maxAttempts: Int
    package var runAfter: Date?

    package init(orgId: OrgID, type: JobType, documentId: String? = nil, versionId: String? = nil, idempotencyKey: String? = nil,
                params: JSONObject = [:], maxAttempts: Int = 5, runAfter: Date? = nil) {
        self.orgId = orgId
        self.type = type
        self.documentId = documentId
        self.versionId = versionId
        self.idempotencyKey = idempotencyKey
        self.params = params
        self.maxAttempts = maxAttempts
        self.runAfter = runAfter
    }
}

/// Exponential backoff between job attempts: `base * 2^(attempt-1)`, capped.
package struct Backoff: Sendable, Equatable {
    package var base: Double
    package var cap: Double

    package init(base: Double = 10, cap: Double = 900) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after the `attempt`-th failure (1-based).
    package func delay(afterAttempt attempt: Int) -> Double {
        min(cap, base * pow(2, Double(max(0, attempt - 1))))
    }
}

/// One page of a listing; `nextCursor` is opaque and nil on the last page.
package struct Page<Item: Sendable & Codable>: Sendable, Codable {
    package var items: [Item]
    package var nextCursor: String?

    package init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A condition on one metadata key: equality with a value, or membership in a list (`$in`).
package enum MetadataCondition: Sendable, Equatable {
    case equals(JSONValue)
    case isIn([JSONValue])
}

/// Narrows a search to some documents. Empty means no restriction.
package struct SearchFilter: Sendable, Equatable {
    package var documentIds: [String]?
    package var metadata: [String: MetadataCondition]
    package var createdAfter: Date?
    package var createdBefore: Date?

    package init(documentIds: [String]? = nil, metadata: [String: MetadataCondition] = [:],
                createdAfter: Date? = nil, createdBefore: Date? = nil) {
        self.documentIds = documentIds
        self.metadata = metadata
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }

    package var isEmpty: Bool { documentIds == nil && metadata.isEmpty && createdAfter == nil && createdBefore == nil }

    /// Whether a document passes, for stores that filter in memory and for tests.
    package func matches(_ d: Document) -> Bool {
        matches(id: d.id, createdAt: d.createdAt, metadata: d.metadata)
    }

    /// Dates are exclusive bounds.
    package func matches(id: String, createdAt: Date, metadata documentMetadata: JSONObject) -> Bool {
        if let ids = documentIds, !ids.contains(id) { return false }
        if let after = createdAfter, createdAt <= after { return false }
        if let before = createdBefore, createdAt >= before { return false }
        for (key, condition) in metadata {
            guard let value = documentMetadata[key] else { return false }
            switch condition {
            case .equals(let v): if value != v { return false }
            case .isIn(let vs): if !vs.contains(value) { return false }
            }
        }
        return true
    }
}

/// One search hit: which chunk of which document, and how well it matched (higher is better:
/// cosine similarity for dense, the store's text rank for keyword).
package struct ScoredChunk: Sendable, Equatable, Codable {
    package var chunkId: String
    package var documentId: String
    package var versionId: String
    package var score: Float

    package init(chunkId: String, documentId: String, versionId: String, score: Float) {
        self.chunkId = chunkId
        self.documentId = documentId
        self.versionId = versionId
        self.score = score
    }
}

/// Where a store's schema stands.
package struct MigrationStatus: Sendable, Equatable, Codable {
    package var applied: [String]
    package var pending: [String]
    package var isCurrent: Bool { pending.isEmpty }

    package init(applied: [String], pending: [String]) {
        self.applied = applied
        self.pending = pending
    }
}

// MARK: Embedding usage

/// Tokens and cost one provider spent for one org on one UTC day, added to what the day already
/// holds (`Store.recordEmbeddingUsage`). Counted in the store so every warm process and every
/// instance sees the same budget.
package struct EmbeddingUsageIncrement: Sendable, Equatable {
    package var orgId: OrgID
    /// `YYYY-MM-DD`, UTC.
    package var day: String
    package var provider: String
    package var model: String
    package var tokens: Int
    package var costUSD: Double
    package var calls: Int

    package init(orgId: OrgID, day: String, provider: String, model: String, tokens: Int, costUSD: Double, calls: Int = 1) {
        self.orgId = orgId
        self.day = day
        self.provider = provider
        self.model = model
        self.tokens = tokens
        self.costUSD = costUSD
        self.calls = calls
    }
}

/// One row of `GET /v1/usage` and of the budget sums: a day, a provider and a model.
package struct EmbeddingUsageRow: Sendable, Equatable {
    package var day: String
    package var provider: String
    package var model: String
    package var tokens: Int
    package var costUSD: Double
    package var calls: Int

    package init(day: String, provider: String, model: String, tokens: Int, costUSD: Double, calls: Int) {
        self.day = day
        self.provider = provider
        self.model = model
        self.tokens = tokens
        self.costUSD = costUSD
        self.calls = calls
    }
}

// MARK: Shadow model

/// One sampled query run against a candidate model's vectors beside the live ones.
package struct ShadowComparison: Sendable, Equatable {
    package var orgId: OrgID
    package var model: String
    /// Share of the live top 10 the candidate's top 10 also holds.
    package var overlap: Double
    /// Spearman's rho over the chunks both top tens hold (nil with fewer than two).
    package var rankCorrelation: Double?
    package var liveMs: Double
    package var shadowMs: Double

    package init(orgId: OrgID, model: String, overlap: Double, rankCorrelation: Double?, liveMs: Double, shadowMs: Double) {
        self.orgId = orgId
        self.model = model
        self.overlap = overlap
        self.rankCorrelation = rankCorrelation
        self.liveMs = liveMs
        self.shadowMs = shadowMs
    }
}

/// How many of an org's ready versions have a candidate model's vector for every chunk.
package struct ShadowCoverage: Sendable, Equatable {
    package var versions: Int
    package var covered: Int

    package init(versions: Int, covered: Int) {
        self.versions = versions
        self.covered = covered
    }

    package var complete: Bool { versions > 0 && covered == versions }
    package var share: Double { versions == 0 ? 0 : Double(covered) / Double(versions) }
}
