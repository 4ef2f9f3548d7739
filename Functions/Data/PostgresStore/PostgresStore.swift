import DocumentStore
import Foundation
import JSON
import PostgresClient
import Synchronization

/// The store at scale: Postgres 16 + pgvector through libpq. A warm process keeps its connections
/// across invocations (one, plus a second while two calls overlap, as hybrid search's arms do;
/// libpq reconnects after a server restart); every value is a bound
/// parameter. Dense search uses a partial HNSW index per model with an exact fallback when a
/// filtered approximate scan comes back short; keyword search uses a GIN-indexed `tsvector`.
package final class PostgresStore: Store, @unchecked Sendable {
    package let kind = "postgres"
    package let searchesRunElsewhere = true
    let connections: PostgresConnectionPool
    let migrationsDirectory: String?
    /// A schema of its own (tests; several stores in one database), else the URL's search path.
    let schema: String?
    /// A fixed `hnsw.ef_search`; nil: sized from k and the org's share of the index (`DensePlan`).
    let hnswEfSearch: Int?
    private let indexedModels = NSLock()
    private nonisolated(unsafe) var modelsWithIndex: Set<String> = []
    /// Ready vectors per (org, model), vectors per model, ready chunks per org; refreshed every
    /// minute: they choose between the exact scan and the index and size ef_search, and give
    /// keyword ranking its collection size.
    let counts = TimedCounts()
    /// The vector size of each (org, model) seen with ready vectors.
    let dimensions = Mutex<[String: Int]>([:])
    /// Each large org's keyword sample as lexeme counts, for a minute (`keywordStats`).
    let samples = KeywordSamples()
    /// At or below this many candidate vectors an exact scan beats the approximate index
    /// (which walks every org's vectors and filters after).
    let exactScanRows: Int

    /// Bounds of the keyword ranking's work (`keywordSearch`).
    let keywordRanking: KeywordRanking

    /// - Parameter maxConnections: connections this process may hold (at least 1). Two let
    ///   hybrid search run its keyword and dense queries at once.
    package convenience init(url: String, schema: String? = nil, migrationsDirectory: String? = nil, hnswEfSearch: Int? = nil,
                            exactScanRows: Int = 20_000, maxConnections: Int = 2) throws(StoreError) {
        try self.init(url: url, schema: schema, migrationsDirectory: migrationsDirectory, hnswEfSearch: hnswEfSearch,
                      exactScanRows: exactScanRows, keywordRanking: KeywordRanking(), maxConnections: maxConnections)
    }

    init(url: String, schema: String?, migrationsDirectory: String?, hnswEfSearch: Int?, exactScanRows: Int,
         keywordRanking: KeywordRanking, maxConnections: Int = 2) throws(StoreError) {
        self.keywordRanking = keywordRanking
        self.schema = schema
        self.exactScanRows = exactScanRows
        self.hnswEfSearch = hnswEfSearch
        self.migrationsDirectory = migrationsDirectory
        if let schema, !Self.isIdentifier(schema) { throw .invalidInput(field: "schema", reason: "must be [a-z0-9_]+") }
        do {
            // `public` stays on the path: pgvector's type lives there. Session setup runs again
            // after every reconnect, so a restarted server cannot drop the schema silently.
            connections = try PostgresConnectionPool(url: url, sessionSetup: schema.map {
                ["CREATE SCHEMA IF NOT EXISTS \($0)", "SET search_path TO \($0), public"]
            } ?? [], maxConnections: maxConnections)
        } catch let e as StoreError {
            throw e
        } catch {
            throw Self.map(error)
        }
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 60 && s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
    }

    static func map(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        guard let e = error as? PostgresError else { return .database("\(error)") }
        if e.isConnectionFailure { return .unavailable(e.message) }
        switch e.sqlState ?? "" {
        case "23505", "23503", "23514": return .conflict(e.message)
        case "42P01", "42703": return .schema("\(e.message): run the migrations")
        case "22P02", "22023", "22000": return .invalidInput(field: "value", reason: e.message)
        case let s where s.hasPrefix("08") || s.hasPrefix("57P"): return .unavailable(e.message)
        default: return .database(e.description)
        }
    }

    /// Runs `body` in a transaction, mapping every failure to a `StoreError`.
    func tx<T>(_ body: (PostgresConnection) throws -> T) throws(StoreError) -> T {
        do {
            return try connections.withConnection { try $0.transaction(body) }
        } catch {
            throw Self.map(error)
        }
    }

    func run<T>(_ body: (PostgresConnection) throws -> T) throws(StoreError) -> T {
        do {
            return try connections.withConnection(body)
        } catch {
            throw Self.map(error)
        }
    }

    // MARK: Row mapping

    static let documentColumns = """
        d.id, d.org_id, d.title, d.filename, d.mime_type, d.bytes, d.sha256, d.blob_uri, d.metadata::text AS metadata, d.status,
        d.created_at, d.updated_at, d.deleted_at,
        (SELECT v.id FROM doc_versions v WHERE v.document_id = d.id AND v.state = 'ready') AS ready_version_id
        """

    static func optString(_ row: PostgresRow, _ c: String) throws -> String? { try row.isNull(c) ? nil : row.string(c) }
    static func optDate(_ row: PostgresRow, _ c: String) throws -> Date? { try row.isNull(c) ? nil : row.date(c) }
    static func optInt(_ row: PostgresRow, _ c: String) throws -> Int? { try row.isNull(c) ? nil : Int(row.int(c)) }

    static func document(_ r: PostgresRow) throws -> Document {
        Document(
            id: try r.string("id"), orgId: OrgID(stored: try r.string("org_id")), title: try r.string("title"), filename: try r.string("filename"),
            mimeType: try r.string("mime_type"), bytes: Int(try r.int("bytes")), sha256: try r.string("sha256"),
            blobURI: try r.string("blob_uri"), metadata: StoreValidation.decodeObject(try r.string("metadata")),
            status: DocumentStatus(rawValue: try r.string("status")) ?? .pending, createdAt: try r.date("created_at"),
            updatedAt: try r.date("updated_at"), deletedAt: try optDate(r, "deleted_at"), readyVersionId: try optString(r, "ready_version_id"))
    }

    static func version(_ r: PostgresRow) throws -> DocVersion {
        DocVersion(
            id: try r.string("id"), orgId: OrgID(stored: try r.string("org_id")), documentId: try r.string("document_id"),
            embedModel: try r.string("embed_model"), dim: Int(try r.int("dim")), chunkSize: Int(try r.int("chunk_size")),
            chunkOverlap: Int(try r.int("chunk_overlap")), chunkerVersion: try r.string("chunker_version"),
            sourceSha256: try r.string("source_sha256"), state: VersionState(rawValue: try r.string("state")) ?? .failed,
            error: try optString(r, "error"), createdAt: try r.date("created_at"), readyAt: try optDate(r, "ready_at"))
    }

    static func chunk(_ r: PostgresRow) throws -> Chunk {
        Chunk(id: try r.string("id"), orgId: OrgID(stored: try r.string("org_id")), documentId: try r.string("document_id"),
              versionId: try r.string("version_id"), index: Int(try r.int("chunk_index")), content: try r.string("content"),
              contentSha256: try r.string("content_sha256"), tokenCount: Int(try r.int("token_count")),
              charStart: Int(try r.int("char_start")), charEnd: Int(try r.int("char_end")))
    }

    static func job(_ r: PostgresRow) throws -> Job {
        Job(id: try r.string("id"), orgId: OrgID(stored: try r.string("org_id")), type: JobType(rawValue: try r.string("type")) ?? .ingest,
            documentId: try optString(r, "document_id"), versionId: try optString(r, "version_id"),
            idempotencyKey: try optString(r, "idempotency_key"), params: StoreValidation.decodeObject(try r.string("params")),
            status: JobStatus(rawValue: try r.string("status")) ?? .failed, attempts: Int(try r.int("attempts")),
            maxAttempts: Int(try r.int("max_attempts")), runAfter: try r.date("run_after"), leaseOwner: try optString(r, "lease_owner"),
            leaseExpiresAt: try optDate(r, "lease_expires_at"), error: try optString(r, "error"), durationMs: try optInt(r, "duration_ms"),
            createdAt: try r.date("created_at"), updatedAt: try r.date("updated_at"), startedAt: try optDate(r, "started_at"),
            finishedAt: try optDate(r, "finished_at"))
    }

    static let jobColumns = """
        id, org_id, type, document_id, version_id, idempotency_key, params::text AS params, status, attempts, max_attempts, run_after,
        lease_owner, lease_expires_at, error, duration_ms, created_at, updated_at, started_at, finished_at
        """

    /// The server's clock, to the millisecond (both stores page with millisecond cursors).
    static let now = "date_trunc('milliseconds', clock_timestamp())"

    static func jsonStrings(_ s: [String]) -> PostgresValue {
        .jsonb((try? JSONValue.array(s.map { .string($0) }).encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "[]")
    }

    // MARK: Schema

    package func migrate() throws(StoreError) {
        let migrations = try Migrations.load(dialect: "postgres", directory: migrationsDirectory)
        let lockKey = "rag-migrations:\(schema ?? "default")"
        try run { c in
            // Session-level advisory lock: a second process starting now waits, then finds
            // everything applied.
            try c.query("SELECT pg_advisory_lock(hashtext($1))", [.text(lockKey)])
            defer { _ = try? c.query("SELECT pg_advisory_unlock(hashtext($1))", [.text(lockKey)]) }
            try c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
            let applied = Set(try c.query("SELECT id FROM schema_migrations").map { try $0.string("id") })
            for m in migrations where !applied.contains(m.id) {
                try c.transaction { c in
                    try c.executeScript(m.sql)
                    try c.execute("INSERT INTO schema_migrations (id) VALUES ($1)", [.text(m.id)])
                }
            }
        }
    }

    package func migrationStatus() throws(StoreError) -> MigrationStatus {
        let migrations = try Migrations.load(dialect: "postgres", directory: migrationsDirectory)
        let applied: [String] = try run { c in
            let exists = try c.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")[0].bool("present")
            guard exists else { return [] }
            return try c.query("SELECT id FROM schema_migrations ORDER BY id").map { try $0.string("id") }
        }
        return MigrationStatus(applied: applied, pending: migrations.map(\.id).filter { !applied.contains($0) })
    }

    package func ping() throws(StoreError) {
        _ = try run { c in try c.query("SELECT 1") }
    }

    // MARK: The query-vector cache's second level

    package func sharedCacheEntries(ids: [String]) throws(StoreError) -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        return try run { c in
            var out: [String: [UInt8]] = [:]
            for row in try c.query("""
                SELECT id, entry FROM query_vector_cache
                WHERE id IN (SELECT jsonb_array_elements_text($1)) AND expires_at > clock_timestamp()
                """, [Self.jsonStrings(ids)]) {
                out[try row.string("id")] = [UInt8](try row.bytes("entry"))
            }
            return out
        }
    }

    package func putSharedCacheEntries(_ entries: [(id: String, bytes: [UInt8])], expiresAt: Date) throws(StoreError) {
        guard !entries.isEmpty else { return }
        try run { c in
            for e in entries {
                try c.execute("""
                    INSERT INTO query_vector_cache (id, entry, expires_at) VALUES ($1, $2, $3)
                    ON CONFLICT (id) DO UPDATE SET entry = EXCLUDED.entry, expires_at = EXCLUDED.expires_at
                    """, [.text(e.id), .bytea(e.bytes), .timestamptz(expiresAt)])
            }
            // Expired entries leave a few at a time with each write (no sweeper needed).
            try c.execute("DELETE FROM query_vector_cache WHERE id IN (SELECT id FROM query_vector_cache WHERE expires_at <= clock_timestamp() LIMIT 64)", [])
        }
    }

    // MARK: Documents

    package func createDocument(_ new: NewDocument, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?, created: Bool) {
        try new.validateText()
        let metadata = try StoreValidation.metadata(new.metadata)
        if let job, job.orgId != new.orgId { throw .invalidInput(field: "job.org_id", reason: "must be the document's org") }
        let id = StoreValidation.newId()
        return try tx { c in
            // ON CONFLICT against the live-hash index: two uploads racing make one document.
            let inserted = try c.query("""
                INSERT INTO documents (id, org_id, title, filename, mime_type, bytes, sha256, blob_uri, metadata, status, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 'pending', \(Self.now), \(Self.now))
                ON CONFLICT (org_id, sha256) WHERE deleted_at IS NULL DO NOTHING
                RETURNING id
                """, [.text(id), .text(new.orgId), .text(new.title), .text(new.filename), .text(new.mimeType), .int(new.bytes),
                      .text(new.sha256), .text(new.blobURI), .text(metadata)])
            if inserted.isEmpty {
                let existing = try c.query("SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = $1 AND d.sha256 = $2 AND d.deleted_at IS NULL",
                                           [.text(new.orgId), .text(new.sha256)])
                guard let row = existing.first else { throw StoreError.conflict("the document changed while it was being created; retry") }
                return (try Self.document(row), nil, false)
            }
            var created: Job?
            if var job {
                job.documentId = job.documentId ?? id
                created = try Self.insertJob(c, job).job
            }
            let doc = try Self.document(c.query("SELECT \(Self.documentColumns) FROM documents d WHERE d.id = $1", [.text(id)])[0])
            return (doc, created, true)
        }
    }

    package func document(org: OrgID, id: String) throws(StoreError) -> Document? {
        try StoreValidation.text(id, field: "id")
        return try run { c in
            try c.query("SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = $1 AND d.id = $2", [.text(org), .text(id)])
                .first.map(Self.document)
        }
    }

    package func documentDetail(org: OrgID, id: String) throws(StoreError) -> DocumentDetail? {
        try StoreValidation.text(id, field: "id")
        return try tx { c in
            guard let row = try c.query("SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = $1 AND d.id = $2",
                                        [.text(org), .text(id)]).first else { return nil }
            let doc = try Self.document(row)
            let versionCount = Int(try c.query("SELECT count(*) AS n FROM doc_versions WHERE org_id = $1 AND document_id = $2",
                                               [.text(org), .text(id)])[0].int("n"))
            var ready: DocVersion?
            var chunkCount = 0
            if let vid = doc.readyVersionId {
                ready = try c.query("SELECT * FROM doc_versions WHERE id = $1", [.text(vid)]).first.map(Self.version)
                chunkCount = Int(try c.query("SELECT count(*) AS n FROM doc_chunks WHERE version_id = $1", [.text(vid)])[0].int("n"))
            }
            return DocumentDetail(document: doc, readyVersion: ready, versionCount: versionCount, chunkCount: chunkCount)
        }
    }

    package func listDocuments(org: OrgID, status: DocumentStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Document> {
        try StoreValidation.text(cursor, field: "cursor")
        let limit = max(1, min(limit, 1000))
        var sql = "SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = $1"
        var params: [PostgresValue] = [.text(org)]
        if let status {
            params.append(.text(status.rawValue))
            sql += " AND d.status = $\(params.count)"
        } else {
            sql += " AND d.deleted_at IS NULL"
        }
        if let cursor {
            let (ms, id) = try PageCursor.decode(cursor)
            params += [.int(ms), .text(id)]
            let t = "('epoch'::timestamptz + $\(params.count - 1) * interval '1 millisecond')"
            sql += " AND (d.created_at < \(t) OR (d.created_at = \(t) AND d.id < $\(params.count)))"
        }
        params.append(.int(limit + 1))
        sql += " ORDER BY d.created_at DESC, d.id DESC LIMIT $\(params.count)"
        let docs = try run { c in try c.query(sql, params).map(Self.document) }
        let page = Array(docs.prefix(limit))
        let next = docs.count > limit ? page.last.map { PageCursor.encode(ms: Int64(($0.createdAt.timeIntervalSince1970 * 1000).rounded()), id: $0.id) } : nil
        return Page(items: page, nextCursor: next)
    }

    package func documentCounts(org: OrgID) throws(StoreError) -> [DocumentStatus: Int] {
        try run { c in
            var out: [DocumentStatus: Int] = [:]
            for row in try c.query("SELECT status, count(*) AS n FROM documents WHERE org_id = $1 GROUP BY status", [.text(org)]) {
                if let s = DocumentStatus(rawValue: try row.string("status")) { out[s] = Int(try row.int("n")) }
            }
            return out
        }
    }

    package func softDeleteDocument(org: OrgID, id: String, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?)? {
        try StoreValidation.text(id, field: "id")
        return try tx { c in
            let n = try c.execute("""
                UPDATE documents SET status = 'deleted', deleted_at = \(Self.now), updated_at = \(Self.now)
                WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
                """, [.text(org), .text(id)])
            guard n == 1 else { return nil }
            var created: Job?
            if var job {
                job.orgId = org
                job.documentId = id
                created = try Self.insertJob(c, job).job
            }
            let doc = try Self.document(c.query("SELECT \(Self.documentColumns) FROM documents d WHERE d.id = $1", [.text(id)])[0])
            return (doc, created)
        }
    }

    package func hardDeleteDocument(org: OrgID, id: String) throws(StoreError) -> Bool {
        try StoreValidation.text(id, field: "id")
        return try run { c in try c.execute("DELETE FROM documents WHERE org_id = $1 AND id = $2", [.text(org), .text(id)]) == 1 }
    }

    package func staleDocuments(embedModel: String, chunkerVersion: String, limit: Int) throws(StoreError) -> [Document] {
        try run { c in
            try c.query("""
                SELECT \(Self.documentColumns) FROM documents d
                JOIN doc_versions v ON v.document_id = d.id AND v.state = 'ready'
                WHERE d.deleted_at IS NULL AND (v.embed_model <> $1 OR v.chunker_version <> $2)
                  AND NOT EXISTS (SELECT 1 FROM doc_versions n WHERE n.document_id = d.id AND n.state = 'indexing')
                ORDER BY d.created_at LIMIT $3
                """, [.text(embedModel), .text(chunkerVersion), .int(max(1, limit))]).map(Self.document)
        }
    }

    // MARK: Versions

    package func createVersion(org: OrgID, _ v: NewVersion) throws(StoreError) -> DocVersion {
        try StoreValidation.dimension(v.dim)
        guard !v.embedModel.isEmpty, v.embedModel.utf8.count <= 200 else {
            throw .invalidInput(field: "embed_model", reason: "must be 1-200 bytes")
        }
        let id = StoreValidation.newId()
        let version = try tx { c in
            // Locks the document row: a concurrent soft delete waits, then sees this version.
            guard try !c.query("SELECT 1 FROM documents WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
                               [.text(org), .text(v.documentId)]).isEmpty else {
                throw StoreError.notFound("document \(v.documentId)")
            }
            if let other = try c.query("""
                SELECT dim FROM doc_versions WHERE embed_model = $1 AND dim <> $2 AND state IN ('indexing', 'ready') LIMIT 1
                """, [.text(v.embedModel), .int(v.dim)]).first {
                throw StoreError.conflict(StoreValidation.dimensionConflict(model: v.embedModel, stored: Int(try other.int("dim")), new: v.dim))
            }
            return try Self.version(c.query("""
                INSERT INTO doc_versions (id, org_id, document_id, embed_model, dim, chunk_size, chunk_overlap, chunker_version, source_sha256, state, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'indexing', \(Self.now))
                RETURNING *
                """, [.text(id), .text(org), .text(v.documentId), .text(v.embedModel), .int(v.dim), .int(v.chunkSize),
                      .int(v.chunkOverlap), .text(v.chunkerVersion), .text(v.sourceSha256)])[0])
        }
        try ensureVectorIndex(model: v.embedModel, dim: v.dim)
        return version
    }

    /// A partial expression HNSW index for one model (its own dimension), made once. DDL cannot
    /// take bound parameters, so the model name is embedded as a quoted literal (quotes doubled).
    func ensureVectorIndex(model: String, dim: Int) throws(StoreError) {
        // pgvector's HNSW takes at most 2,000 dimensions (text-embedding-3-large has 3,072):
        // such models are searched by the exact scan alone.
        guard dim <= 2000 else { return }
        let key = "\(model)\u{0}\(dim)"
        if indexedModels.withLock({ modelsWithIndex.contains(key) }) { return }
        var hash: UInt64 = 1469598103934665603
        for b in key.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        let name = "chunk_embeddings_hnsw_\(String(hash, radix: 16))"
        let literal = "'" + model.replacingOccurrences(of: "'", with: "''") + "'"
        // ef_construction 128 (pgvector's default is 64): on the benchmark's 384-d vectors the
        // default graph left 2-3 % of true neighbours unreachable at any ef_search (recall@10
        // 0.97-0.98 even at 1,000); 128 reaches 0.999 at ef_search 200 for about a fifth
        // more time per inserted vector. An index made before keeps its graph: the name is
        // unchanged, so this only applies to new models (REINDEX to rebuild an old one).
        try run { c in
            try c.execute("""
                CREATE INDEX IF NOT EXISTS \(name) ON chunk_embeddings
                USING hnsw ((embedding::vector(\(dim))) vector_cosine_ops) WITH (m = 16, ef_construction = 128)
                WHERE embed_model = \(literal) AND dim = \(dim)
                """)
        }
        indexedModels.withLock { _ = modelsWithIndex.insert(key) }
    }

    package func version(org: OrgID, id: String) throws(StoreError) -> DocVersion? {
        try StoreValidation.text(id, field: "id")
        return try run { c in try c.query("SELECT * FROM doc_versions WHERE org_id = $1 AND id = $2", [.text(org), .text(id)]).first.map(Self.version) }
    }

    package func versions(org: OrgID, documentId: String) throws(StoreError) -> [DocVersion] {
        try StoreValidation.text(documentId, field: "document_id")
        return try run { c in
            try c.query("SELECT * FROM doc_versions WHERE org_id = $1 AND document_id = $2 ORDER BY created_at DESC, id DESC",
                        [.text(org), .text(documentId)]).map(Self.version)
        }
    }

    package func markVersionFailed(org: OrgID, id: String, error: String, retiring: Bool) throws(StoreError) {
        try StoreValidation.text(id, field: "id")
        return try tx { c in
            let n = try c.execute("UPDATE doc_versions SET state = 'failed', error = $1 WHERE org_id = $2 AND id = $3 AND state = 'indexing'",
                                  [.text(String(error.prefix(4000))), .text(org), .text(id)])
            guard n == 1 else {
                guard try !c.query("SELECT 1 FROM doc_versions WHERE org_id = $1 AND id = $2", [.text(org), .text(id)]).isEmpty else {
                    throw StoreError.notFound("version \(id)")
                }
                throw StoreError.conflict("version \(id) is not indexing")
            }
            guard !retiring else { return }
            try c.execute("""
                UPDATE documents SET status = 'failed', updated_at = \(Self.now)
                WHERE id = (SELECT document_id FROM doc_versions WHERE id = $1) AND status = 'pending'
                """, [.text(id)])
        }
    }

    package func publishVersion(org: OrgID, id: String) throws(StoreError) -> DocVersion {
        try StoreValidation.text(id, field: "id")
        return try tx { c in
            // Lock the document first: concurrent flips of one document serialise here.
            guard let row = try c.query("""
                SELECT v.*, d.deleted_at IS NOT NULL AS doc_deleted FROM doc_versions v JOIN documents d ON d.id = v.document_id
                WHERE v.org_id = $1 AND v.id = $2 FOR UPDATE OF d, v
                """, [.text(org), .text(id)]).first else { throw StoreError.notFound("version \(id)") }
            let v = try Self.version(row)
            guard v.state == .indexing else { throw StoreError.conflict("version \(id) is \(v.state.rawValue), not indexing") }
            guard try !row.bool("doc_deleted") else { throw StoreError.conflict("document \(v.documentId) is deleted") }
            try c.execute("UPDATE doc_versions SET state = 'superseded', superseded_at = \(Self.now) WHERE document_id = $1 AND state = 'ready'", [.text(v.documentId)])
            let ready = try Self.version(c.query("UPDATE doc_versions SET state = 'ready', ready_at = \(Self.now), error = NULL WHERE id = $1 RETURNING *",
                                                 [.text(id)])[0])
            try c.execute("UPDATE documents SET status = 'ready', updated_at = \(Self.now) WHERE id = $1", [.text(v.documentId)])
            return ready
        }
    }

    // MARK: Chunks

    package func insertChunks(org: OrgID, versionId: String, _ chunks: [NewChunk]) throws(StoreError) {
        try StoreValidation.text(versionId, field: "version_id")
        guard let v = try version(org: org, id: versionId) else { throw .notFound("version \(versionId)") }
        guard v.state == .indexing else { throw .conflict("version \(versionId) is \(v.state.rawValue); chunks go into an indexing version") }
        for (i, c) in chunks.enumerated() { try StoreValidation.vector(c.vector, dim: v.dim, field: "chunks[\(i)].vector") }
        // Multi-row INSERTs of up to 200 chunks: one round trip per batch, not per row.
        for start in stride(from: 0, to: chunks.count, by: 200) {
            let batch = chunks[start..<min(start + 200, chunks.count)]
            try tx { c in
                var chunkRows: [String] = [], embRows: [String] = []
                var cp: [PostgresValue] = [], ep: [PostgresValue] = []
                for chunk in batch {
                    let id = StoreValidation.newId()
                    let base = cp.count
                    let placeholders = (1...10).map { "$\(base + $0)" } + ["to_tsvector('simple', $\(base + 11))"]
                    chunkRows.append("(" + placeholders.joined(separator: ", ") + ")")
                    cp += [.text(id), .text(org), .text(v.documentId), .text(versionId), .int(chunk.index), .text(chunk.content),
                           .text(chunk.contentSha256), .int(chunk.tokenCount), .int(chunk.charStart), .int(chunk.charEnd),
                           .text(TextFolding.fold(chunk.content))]
                    let eb = ep.count
                    embRows.append("($\(eb + 1), $\(eb + 2), $\(eb + 3), $\(eb + 4), $\(eb + 5), $\(eb + 6)::vector)")
                    ep += [.text(id), .text(org), .text(versionId), .text(v.embedModel), .int(v.dim), .vector(chunk.vector)]
                }
                try c.execute("""
                    INSERT INTO doc_chunks (id, org_id, document_id, version_id, chunk_index, content, content_sha256, token_count, char_start, char_end, folded_tsv)
                    VALUES \(chunkRows.joined(separator: ", "))
                    """, cp)
                try c.execute("INSERT INTO chunk_embeddings (chunk_id, org_id, version_id, embed_model, dim, embedding) VALUES \(embRows.joined(separator: ", "))", ep)
            }
        }
    }

    package func chunks(org: OrgID, versionId: String) throws(StoreError) -> [Chunk] {
        try StoreValidation.text(versionId, field: "version_id")
        return try run { c in
            try c.query("SELECT * FROM doc_chunks WHERE org_id = $1 AND version_id = $2 ORDER BY chunk_index", [.text(org), .text(versionId)])
                .map(Self.chunk)
        }
    }

    package func chunks(org: OrgID, ids: [String]) throws(StoreError) -> [Chunk] {
        try StoreValidation.texts(ids, field: "ids")
        guard !ids.isEmpty else { return [] }
        let rows = try run { c in
            try c.query("SELECT * FROM doc_chunks WHERE org_id = $1 AND id IN (SELECT jsonb_array_elements_text($2))",
                        [.text(org), Self.jsonStrings(ids)]).map(Self.chunk)
        }
        let byId = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return ids.compactMap { byId[$0] }
    }

    package func documentTitles(org: OrgID, ids: [String]) throws(StoreError) -> [String: String] {
        try StoreValidation.texts(ids, field: "ids")
        guard !ids.isEmpty else { return [:] }
        return try run { c in
            var titles: [String: String] = [:]
            for row in try c.query("SELECT id, title FROM documents WHERE org_id = $1 AND deleted_at IS NULL AND id IN (SELECT jsonb_array_elements_text($2))",
                                   [.text(org), Self.jsonStrings(ids)]) {
                titles[try row.string("id")] = try row.string("title")
            }
            return titles
        }
    }

    package func reusableVectors(org: OrgID, model: String, contentSha256s: [String]) throws(StoreError) -> [String: [Float]] {
        guard !contentSha256s.isEmpty else { return [:] }
        return try run { c in
            var out: [String: [Float]] = [:]
            for row in try c.query("""
                SELECT DISTINCT ON (c.content_sha256) c.content_sha256, e.embedding::text AS embedding
                FROM doc_chunks c JOIN chunk_embeddings e ON e.chunk_id = c.id AND e.embed_model = $1
                WHERE c.org_id = $2 AND c.content_sha256 IN (SELECT jsonb_array_elements_text($3))
                """, [.text(model), .text(org), Self.jsonStrings(contentSha256s)]) {
                out[try row.string("content_sha256")] = try row.floats("embedding")
            }
            return out
        }
    }

    package func storedDimensions(model: String) throws(StoreError) -> [Int] {
        try run { c in
            try c.query("SELECT DISTINCT dim FROM doc_versions WHERE embed_model = $1 AND state IN ('indexing', 'ready') ORDER BY dim",
                        [.text(model)]).map { Int(try $0.int("dim")) }
        }
    }

    package func readyModels(org: OrgID) throws(StoreError) -> [String: Int] {
        try run { c in
            var out: [String: Int] = [:]
            for row in try c.query("""
                SELECT DISTINCT v.embed_model, v.dim FROM doc_versions v JOIN documents d ON d.id = v.document_id
                WHERE v.org_id = $1 AND v.state = 'ready' AND d.deleted_at IS NULL
                """, [.text(org)]) {
                out[try row.string("embed_model")] = Int(try row.int("dim"))
            }
            return out
        }
    }

    // MARK: Jobs

    static func insertJob(_ c: PostgresConnection, _ new: NewJob) throws -> (job: Job, created: Bool) {
        guard new.maxAttempts > 0 else { throw StoreError.invalidInput(field: "max_attempts", reason: "must be at least 1") }
        let params = try StoreValidation.metadata(new.params)
        let id = StoreValidation.newId()
        let runAfter: String
        var values: [PostgresValue] = [.text(id), .text(new.orgId), .text(new.type.rawValue), new.documentId.map { .text($0) } ?? .null,
                                       new.versionId.map { .text($0) } ?? .null, new.idempotencyKey.map { .text($0) } ?? .null,
                                       .text(params), .int(new.maxAttempts)]
        if let after = new.runAfter {
            values.append(.timestamptz(after))
            runAfter = "$\(values.count)"
        } else {
            runAfter = now
        }
        // The live-key index decides races: the loser reads the winner's job.
        let inserted = try c.query("""
            INSERT INTO jobs (id, org_id, type, document_id, version_id, idempotency_key, params, status, attempts, max_attempts, run_after, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'queued', 0, $8, \(runAfter), \(now), \(now))
            ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL AND status IN ('queued', 'running') DO NOTHING
            RETURNING \(jobColumns)
            """, values)
        if let row = inserted.first { return (try job(row), true) }
        guard let key = new.idempotencyKey,
              let live = try c.query("SELECT \(jobColumns) FROM jobs WHERE org_id = $1 AND idempotency_key = $2 AND status IN ('queued', 'running')",
                                     [.text(new.orgId), .text(key)]).first else {
            throw StoreError.conflict("the job's idempotency key changed hands while enqueuing; retry")
        }
        return (try job(live), false)
    }

    package func enqueue(_ new: NewJob) throws(StoreError) -> (job: Job, created: Bool) {
        return try tx { c in try Self.insertJob(c, new) }
    }

    package func job(org: OrgID, id: String) throws(StoreError) -> Job? {
        try StoreValidation.text(id, field: "id")
        return try run { c in try c.query("SELECT \(Self.jobColumns) FROM jobs WHERE org_id = $1 AND id = $2", [.text(org), .text(id)]).first.map(Self.job) }
    }

    package func listJobs(org: OrgID, status: JobStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Job> {
        try StoreValidation.text(cursor, field: "cursor")
        let limit = max(1, min(limit, 1000))
        var sql = "SELECT \(Self.jobColumns) FROM jobs WHERE org_id = $1"
        var params: [PostgresValue] = [.text(org)]
        if let status {
            params.append(.text(status.rawValue))
            sql += " AND status = $\(params.count)"
        }
        if let cursor {
            let (ms, id) = try PageCursor.decode(cursor)
            params += [.int(ms), .text(id)]
            let t = "('epoch'::timestamptz + $\(params.count - 1) * interval '1 millisecond')"
            sql += " AND (created_at < \(t) OR (created_at = \(t) AND id < $\(params.count)))"
        }
        params.append(.int(limit + 1))
        sql += " ORDER BY created_at DESC, id DESC LIMIT $\(params.count)"
        let jobs = try run { c in try c.query(sql, params).map(Self.job) }
        let page = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? page.last.map { PageCursor.encode(ms: Int64(($0.createdAt.timeIntervalSince1970 * 1000).rounded()), id: $0.id) } : nil
        return Page(items: page, nextCursor: next)
    }

    package func claimJobs(owner: String, limit: Int, lease: Double, types: [JobType]?) throws(StoreError) -> [Job] {
        guard limit > 0 else { return [] }
        return try tx { c in
            // SKIP LOCKED: concurrent claimers take different rows instead of queueing on the same ones.
            try c.query("""
                UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1,
                    lease_expires_at = clock_timestamp() + $2 * interval '1 second',
                    started_at = COALESCE(started_at, \(Self.now)), updated_at = \(Self.now)
                WHERE id IN (
                    SELECT id FROM jobs
                    WHERE type IN (SELECT jsonb_array_elements_text($3))
                      AND ((status = 'queued' AND run_after <= clock_timestamp())
                        OR (status = 'running' AND lease_expires_at < clock_timestamp()))
                    ORDER BY run_after, created_at
                    LIMIT $4
                    FOR UPDATE SKIP LOCKED)
                RETURNING \(Self.jobColumns)
                """, [.text(owner), .double(lease), Self.jsonStrings((types ?? JobType.allCases).map(\.rawValue)), .int(limit)])
                .map(Self.job).sorted { ($0.runAfter, $0.createdAt) < ($1.runAfter, $1.createdAt) }
        }
    }

    package func heartbeat(jobId: String, owner: String, lease: Double) throws(StoreError) -> Bool {
        try run { c in
            try c.execute("""
                UPDATE jobs SET lease_expires_at = clock_timestamp() + $1 * interval '1 second', updated_at = \(Self.now)
                WHERE id = $2 AND status = 'running' AND lease_owner = $3 AND lease_expires_at >= clock_timestamp()
                """, [.double(lease), .text(jobId), .text(owner)]) == 1
        }
    }

    package func attachVersion(jobId: String, owner: String, versionId: String) throws(StoreError) -> Bool {
        try run { c in
            try c.execute("""
                UPDATE jobs SET version_id = $1, updated_at = \(Self.now)
                WHERE id = $2 AND status = 'running' AND lease_owner = $3
                """, [.text(versionId), .text(jobId), .text(owner)]) == 1
        }
    }

    package func completeJob(jobId: String, owner: String, durationMs: Int) throws(StoreError) {
        let n = try run { c in
            try c.execute("""
                UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, error = NULL,
                    duration_ms = $1, finished_at = \(Self.now), updated_at = \(Self.now)
                WHERE id = $2 AND status = 'running' AND lease_owner = $3
                """, [.int(durationMs), .text(jobId), .text(owner)])
        }
        guard n == 1 else { throw .leaseLost(jobId: jobId) }
    }

    package func failJob(jobId: String, owner: String, error: String, retryable: Bool, backoff: Backoff) throws(StoreError) -> Job {
        try tx { c in
            guard let row = try c.query("SELECT \(Self.jobColumns) FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR UPDATE",
                                        [.text(jobId), .text(owner)]).first else { throw StoreError.leaseLost(jobId: jobId) }
            let j = try Self.job(row)
            let message = PostgresValue.text(String(error.prefix(4000)))
            if !retryable || j.attempts >= j.maxAttempts {
                return try Self.job(c.query("""
                    UPDATE jobs SET status = 'dead', error = $1, lease_owner = NULL, lease_expires_at = NULL, finished_at = \(Self.now), updated_at = \(Self.now)
                    WHERE id = $2 RETURNING \(Self.jobColumns)
                    """, [message, .text(jobId)])[0])
            }
            return try Self.job(c.query("""
                UPDATE jobs SET status = 'queued', error = $1, lease_owner = NULL, lease_expires_at = NULL,
                    run_after = clock_timestamp() + $2 * interval '1 second', updated_at = \(Self.now)
                WHERE id = $3 RETURNING \(Self.jobColumns)
                """, [message, .double(backoff.delay(afterAttempt: j.attempts)), .text(jobId)])[0])
        }
    }
    package func deferJob(jobId: String, owner: String, until: Date, reason: String) throws(StoreError) -> Job {
        try tx { c in
            guard try c.query("SELECT id FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR UPDATE",
                              [.text(jobId), .text(owner)]).first != nil else { throw StoreError.leaseLost(jobId: jobId) }
            return try Self.job(c.query("""
                UPDATE jobs SET status = 'queued', error = $1, lease_owner = NULL, lease_expires_at = NULL, run_after = $2,
                    attempts = GREATEST(attempts - 1, 0), updated_at = \(Self.now)
                WHERE id = $3 RETURNING \(Self.jobColumns)
                """, [.text(String(reason.prefix(4000))), .timestamptz(until), .text(jobId)])[0])
        }
    }

    // MARK: Shadow model

    package func insertShadowVectors(org: OrgID, versionId: String, model: String, _ vectors: [(chunkId: String, vector: [Float])]) throws(StoreError) {
        try StoreValidation.text(versionId, field: "version_id")
        try StoreValidation.text(model, field: "model")
        guard let v = try version(org: org, id: versionId) else { throw .notFound("version \(versionId)") }
        guard v.state == .ready else { throw .conflict("version \(versionId) is \(v.state.rawValue); shadow vectors go to a ready version") }
        guard let dim = vectors.first?.vector.count else { return }
        for (i, x) in vectors.enumerated() { try StoreValidation.vector(x.vector, dim: dim, field: "vectors[\(i)]") }
        for start in stride(from: 0, to: vectors.count, by: 200) {
            let batch = vectors[start..<min(start + 200, vectors.count)]
            try tx { c in
                let known = Set(try c.query("SELECT id FROM doc_chunks WHERE version_id = $1", [.text(versionId)]).map { try $0.string("id") })
                var rows: [String] = [], p: [PostgresValue] = []
                for x in batch {
                    guard known.contains(x.chunkId) else { throw StoreError.invalidInput(field: "chunk_id", reason: "\(x.chunkId) is not a chunk of version \(versionId)") }
                    let b = p.count
                    rows.append("($\(b + 1), $\(b + 2), $\(b + 3), $\(b + 4), $\(b + 5), $\(b + 6)::vector)")
                    p += [.text(x.chunkId), .text(org), .text(versionId), .text(model), .int(dim), .vector(x.vector)]
                }
                try c.execute("INSERT INTO chunk_embeddings (chunk_id, org_id, version_id, embed_model, dim, embedding) VALUES \(rows.joined(separator: ", ")) ON CONFLICT DO NOTHING", p)
            }
        }
    }

    static let shadowCoverageSQL = """
        SELECT v.org_id, v.document_id, NOT EXISTS (
            SELECT 1 FROM doc_chunks c WHERE c.version_id = v.id
            AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.embed_model = $1)) AS covered
        FROM doc_versions v JOIN documents d ON d.id = v.document_id AND d.deleted_at IS NULL
        WHERE v.state = 'ready'
        """

    package func shadowCoverage(org: OrgID, model: String) throws(StoreError) -> ShadowCoverage {
        try run { c in
            let rows = try c.query(Self.shadowCoverageSQL + " AND v.org_id = $2", [.text(model), .text(org)])
            return ShadowCoverage(versions: rows.count, covered: try rows.filter { try $0.bool("covered") }.count)
        }
    }

    package func shadowGaps(model: String, limit: Int) throws(StoreError) -> [(org: OrgID, documentId: String)] {
        try run { c in
            try c.query("SELECT * FROM (\(Self.shadowCoverageSQL)) s WHERE NOT covered LIMIT $2", [.text(model), .int(limit)])
                .map { (OrgID(stored: try $0.string("org_id")), try $0.string("document_id")) }
        }
    }

    package func recordShadowComparison(_ x: ShadowComparison) throws(StoreError) {
        try run { c in
            try c.execute("""
                INSERT INTO shadow_comparisons (org_id, model, overlap, rank_correlation, live_ms, shadow_ms) VALUES ($1, $2, $3, $4, $5, $6)
                """, [.text(x.orgId), .text(x.model), .double(x.overlap), x.rankCorrelation.map { .double($0) } ?? .null,
                      .double(x.liveMs), .double(x.shadowMs)])
        }
    }

    package func shadowComparisons(model: String, org: OrgID?, limit: Int) throws(StoreError) -> [ShadowComparison] {
        try run { c in
            let rows = if let org {
                try c.query("SELECT * FROM shadow_comparisons WHERE model = $1 AND org_id = $2 ORDER BY id DESC LIMIT $3", [.text(model), .text(org), .int(limit)])
            } else {
                try c.query("SELECT * FROM shadow_comparisons WHERE model = $1 ORDER BY id DESC LIMIT $2", [.text(model), .int(limit)])
            }
            return try rows.map { r throws(PostgresError) in
                ShadowComparison(orgId: OrgID(stored: try r.string("org_id")), model: try r.string("model"), overlap: try r.double("overlap"),
                                 rankCorrelation: try r.isNull("rank_correlation") ? nil : try r.double("rank_correlation"),
                                 liveMs: try r.double("live_ms"), shadowMs: try r.double("shadow_ms"))
            }
        }
    }

    package func purgeSupersededVersions(before: Date, limit: Int) throws(StoreError) -> Int {
        try run { c in
            try c.execute("""
                DELETE FROM doc_versions WHERE id IN (
                    SELECT id FROM doc_versions WHERE state = 'superseded' AND superseded_at < $1 ORDER BY superseded_at LIMIT $2)
                """, [.timestamptz(before), .int(limit)])
        }
    }

    // MARK: Embedding usage

    package func recordEmbeddingUsage(_ u: EmbeddingUsageIncrement) throws(StoreError) {
        try run { c in
            try c.execute("""
                INSERT INTO embedding_usage (org_id, day, provider, model, tokens, cost_usd, calls) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (org_id, day, provider, model) DO UPDATE SET tokens = embedding_usage.tokens + EXCLUDED.tokens,
                    cost_usd = embedding_usage.cost_usd + EXCLUDED.cost_usd, calls = embedding_usage.calls + EXCLUDED.calls
                """, [.text(u.orgId), .text(u.day), .text(u.provider), .text(u.model), .int(u.tokens), .double(u.costUSD), .int(u.calls)])
        }
    }

    package func embeddingUsage(org: OrgID?, fromDay: String, toDay: String) throws(StoreError) -> [EmbeddingUsageRow] {
        try run { c in
            let sums = "SELECT day, provider, model, SUM(tokens)::bigint AS tokens, SUM(cost_usd)::float8 AS cost, SUM(calls)::bigint AS calls FROM embedding_usage"
            let tail = "GROUP BY day, provider, model ORDER BY day, provider, model"
            let rows = if let org {
                try c.query("\(sums) WHERE org_id = $1 AND day BETWEEN $2 AND $3 \(tail)", [.text(org), .text(fromDay), .text(toDay)])
            } else {
                try c.query("\(sums) WHERE day BETWEEN $1 AND $2 \(tail)", [.text(fromDay), .text(toDay)])
            }
            return try rows.map { r throws(PostgresError) in
                EmbeddingUsageRow(day: try r.string("day"), provider: try r.string("provider"), model: try r.string("model"),
                                  tokens: Int(try r.int("tokens")), costUSD: try r.double("cost"), calls: Int(try r.int("calls")))
            }
        }
    }
}

extension PostgresValue {
    /// A tenant travels as its text.
    package static func text(_ org: OrgID) -> PostgresValue { .text(org.rawValue) }
}
