import Foundation
import JSON

/// The document lifecycle as users see it: `pending` until the first version is ready, `ready`
/// while a version is searchable (also while a newer one is being built), `failed` when no
/// version could be built, `deleted` once soft-deleted (gone from search at once).
public enum DocumentStatus: String, Codable, Sendable, CaseIterable {
    case pending, ready, failed, deleted
}

public struct Document: Codable, Sendable, Equatable {
    public var id: String
    public var orgId: OrgID
    public var title: String
    public var filename: String
    public var mimeType: String
    public var bytes: Int
    public var sha256: String
    public var blobURI: String
    public var metadata: JSONObject
    public var status: DocumentStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?
    /// The `ready` version search reads, if any.
    public var readyVersionId: String?

    public init(id: String, orgId: OrgID, title: String, filename: String, mimeType: String, bytes: Int, sha256: String, blobURI: String, metadata: JSONObject, status: DocumentStatus, createdAt: Date, updatedAt: Date, deletedAt: Date? = nil, readyVersionId: String? = nil) {
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

public struct NewDocument: Sendable {
    public var orgId: OrgID
    public var title: String
    public var filename: String
    public var mimeType: String
    public var bytes: Int
    public var sha256: String
    public var blobURI: String
    public var metadata: JSONObject

    public init(orgId: OrgID, title: String, filename: String, mimeType: String, bytes: Int, sha256: String,
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
public struct DocumentDetail: Codable, Sendable, Equatable {
    public var document: Document
    public var readyVersion: DocVersion?
    public var versionCount: Int
    public var chunkCount: Int

    public init(document: Document, readyVersion: DocVersion? = nil, versionCount: Int, chunkCount: Int) {
        self.document = document
        self.readyVersion = readyVersion
        self.versionCount = versionCount
        self.chunkCount = chunkCount
    }
}

public enum VersionState: String, Codable, Sendable, CaseIterable {
    case indexing, ready, failed, superseded
}

/// One indexing of a document: its chunks and vectors under one model and chunker.
public struct DocVersion: Codable, Sendable, Equatable {
    public var id: String
    public var orgId: OrgID
    public var documentId: String
    public var embedModel: String
    public var dim: Int
    public var chunkSize: Int
    public var chunkOverlap: Int
    public var chunkerVersion: String
    public var sourceSha256: String
    public var state: VersionState
    public var error: String?
    public var createdAt: Date
    public var readyAt: Date?

    public init(id: String, orgId: OrgID, documentId: String, embedModel: String, dim: Int, chunkSize: Int, chunkOverlap: Int, chunkerVersion: String, sourceSha256: String, state: VersionState, error: String? = nil, createdAt: Date, readyAt: Date? = nil) {
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

public struct NewVersion: Sendable {
    public var documentId: String
    public var embedModel: String
    public var dim: Int
    public var chunkSize: Int
    public var chunkOverlap: Int
    public var chunkerVersion: String
    public var sourceSha256: String

    public init(documentId: String, embedModel: String, dim: Int, chunkSize: Int, chunkOverlap: Int,
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
public struct NewChunk: Sendable {
    public var index: Int
    public var content: String
    public var contentSha256: String
    public var tokenCount: Int
    public var charStart: Int
    public var charEnd: Int
    public var vector: [Float]

    public init(index: Int, content: String, contentSha256: String, tokenCount: Int, charStart: Int, charEnd: Int, vector: [Float]) {
        self.index = index
        self.content = content
        self.contentSha256 = contentSha256
        self.tokenCount = tokenCount
        self.charStart = charStart
        self.charEnd = charEnd
        self.vector = vector
    }
}

public struct Chunk: Codable, Sendable, Equatable {
    public var id: String
    public var orgId: OrgID
    public var documentId: String
    public var versionId: String
    public var index: Int
    public var content: String
    public var contentSha256: String
    public var tokenCount: Int
    public var charStart: Int
    public var charEnd: Int

    public init(id: String, orgId: OrgID, documentId: String, versionId: String, index: Int, content: String, contentSha256: String, tokenCount: Int, charStart: Int, charEnd: Int) {
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

public enum JobType: String, Codable, Sendable, CaseIterable {
    case ingest, reembed, delete
}

public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, succeeded, failed, dead

    /// Queued or running: an idempotency key maps to at most one live job.
    public var isLive: Bool { self == .queued || self == .running }
}

public struct Job: Codable, Sendable, Equatable {
    public var id: String
    public var orgId: OrgID
    public var type: JobType
    public var documentId: String?
    public var versionId: String?
    public var idempotencyKey: String?
    public var params: JSONObject
    public var status: JobStatus
    public var attempts: Int
    public var maxAttempts: Int
    public var runAfter: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var error: String?
    public var durationMs: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(id: String, orgId: OrgID, type: JobType, documentId: String? = nil, versionId: String? = nil, idempotencyKey: String? = nil, params: JSONObject, status: JobStatus, attempts: Int, maxAttempts: Int, runAfter: Date, leaseOwner: String? = nil, leaseExpiresAt: Date? = nil, error: String? = nil, durationMs: Int? = nil, createdAt: Date, updatedAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil) {
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

public struct NewJob: Sendable {
    public var orgId: OrgID
    public var type: JobType
    public var documentId: String?
    public var versionId: String?
    public var idempotencyKey: String?
    public var params: JSONObject
    public var maxAttempts: Int
    public var runAfter: Date?

    public init(orgId: OrgID, type: JobType, documentId: String? = nil, versionId: String? = nil, idempotencyKey: String? = nil,
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
public struct Backoff: Sendable, Equatable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 10, cap: Double = 900) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after the `attempt`-th failure (1-based).
    public func delay(afterAttempt attempt: Int) -> Double {
        min(cap, base * pow(2, Double(max(0, attempt - 1))))
    }
}

/// One page of a listing; `nextCursor` is opaque and nil on the last page.
public struct Page<Item: Sendable & Codable>: Sendable, Codable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// A condition on one metadata key: equality with a value, or membership in a list (`$in`).
public enum MetadataCondition: Sendable, Equatable {
    case equals(JSONValue)
    case isIn([JSONValue])
}

/// Narrows a search to some documents. Empty means no restriction.
public struct SearchFilter: Sendable, Equatable {
    public var documentIds: [String]?
    public var metadata: [String: MetadataCondition]
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init(documentIds: [String]? = nil, metadata: [String: MetadataCondition] = [:],
                createdAfter: Date? = nil, createdBefore: Date? = nil) {
        self.documentIds = documentIds
        self.metadata = metadata
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }

    public var isEmpty: Bool { documentIds == nil && metadata.isEmpty && createdAfter == nil && createdBefore == nil }

    /// Whether a document passes, for stores that filter in memory and for tests.
    public func matches(_ d: Document) -> Bool {
        matches(id: d.id, createdAt: d.createdAt, metadata: d.metadata)
    }

    /// Dates are exclusive bounds.
    public func matches(id: String, createdAt: Date, metadata documentMetadata: JSONObject) -> Bool {
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
public struct ScoredChunk: Sendable, Equatable, Codable {
    public var chunkId: String
    public var documentId: String
    public var versionId: String
    public var score: Float

    public init(chunkId: String, documentId: String, versionId: String, score: Float) {
        self.chunkId = chunkId
        self.documentId = documentId
        self.versionId = versionId
        self.score = score
    }
}

/// Where a store's schema stands.
public struct MigrationStatus: Sendable, Equatable, Codable {
    public var applied: [String]
    public var pending: [String]
    public var isCurrent: Bool { pending.isEmpty }

    public init(applied: [String], pending: [String]) {
        self.applied = applied
        self.pending = pending
    }
}
