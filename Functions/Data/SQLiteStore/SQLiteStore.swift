import DocumentStore
import Foundation
import GRDB
import JSON

/// The embedded store: one SQLite file in WAL mode, shared by every handler process the
/// emulator runs (each with its own connection pool). Writers take the lock up front
/// (`BEGIN IMMEDIATE`) and wait up to `busyTimeout` for it, so concurrent processes queue
/// rather than fail; readers never block writers.
package final class SQLiteStore: Store, @unchecked Sendable {
    package let kind = "sqlite"
    package let searchesRunElsewhere = false
    package let path: String
    let pool: DatabasePool
    let migrationsDirectory: String?
    /// The current ready vectors per (org, model), reused while the search generation holds.
    let vectorCache = VectorCache()
    let termStatistics = TermStatistics()
    /// `readyModels` per org, for one search generation (every flip and delete bumps it).
    let readyModelsCache = GenerationCache<OrgID, [String: Int]>()
    /// Above this many vectors, dense search takes an int8 first pass (see `scan`).
    let exactScanRows: Int

    /// - Parameter path: the database file (created with its folder when missing).
    package init(path: String, busyTimeout: Double = 10, migrationsDirectory: String? = nil, exactScanRows: Int = 20_000) throws(StoreError) {
        self.path = path
        self.exactScanRows = exactScanRows
        self.migrationsDirectory = migrationsDirectory
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.foreignKeysEnabled = true
        config.prepareDatabase { db in
            // FULL: every commit is fsynced, so an upload answered 202 survives a power cut.
            // (NORMAL, SQLite's usual WAL choice, may lose the last commits.)
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Reads straight from the mapped file instead of a pread and a copy per page: the
            // keyword arm touches hundreds of FTS and chunk pages, and measured a third of its time
            // in those copies. Writes still go through the WAL, so durability is unchanged.
            try db.execute(sql: "PRAGMA mmap_size = \(Self.mmapSize)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.map(error)
        }
    }

    /// SQLite clamps this to its compile-time limit (2 GB by default).
    static let mmapSize: Int64 = 1 << 31

    /// `sqlite:///abs/path`, `sqlite://relative/path` or `sqlite:relative`.
    package convenience init(url: String, migrationsDirectory: String? = nil) throws(StoreError) {
        try self.init(path: Self.path(fromURL: url), migrationsDirectory: migrationsDirectory)
    }

    package static func path(fromURL url: String) throws(StoreError) -> String {
        for prefix in ["sqlite://", "sqlite:"] where url.hasPrefix(prefix) {
            let p = String(url.dropFirst(prefix.count))
            guard !p.isEmpty else { break }
            return p
        }
        throw .invalidInput(field: "DATABASE_URL", reason: "expected sqlite:///path/to/file, got \(url)")
    }

    // MARK: Plumbing

    static func map(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return .unavailable("the database stayed locked: \(e.message ?? "\(e)")")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_FULL, .SQLITE_IOERR:
                return .unavailable(e.message ?? "\(e)")
            case .SQLITE_CONSTRAINT: return .conflict(e.message ?? "\(e)")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .unavailable("the database file is corrupt: \(e.message ?? "\(e)")")
            default:
                if (e.message ?? "").contains("no such table") { return .schema("\(e.message ?? ""): run the migrations") }
                return .database(e.message ?? "\(e)")
            }
        }
        return .database("\(error)")
    }

    /// A write transaction that takes the write lock at once.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw Self.map(error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw Self.map(error)
        }
    }

    static func ms(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
    static func date(_ ms: Int64?) -> Date? { ms.map { date($0) } }

    // MARK: Schema

    package func migrate() throws(StoreError) {
        let migrations = try Migrations.load(dialect: "sqlite", directory: migrationsDirectory)
        // One exclusive writer: two processes starting together apply each migration once.
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
            let applied = Set(try String.fetchAll(db, sql: "SELECT id FROM schema_migrations"))
            for m in migrations where !applied.contains(m.id) {
                try db.execute(sql: m.sql)
                try db.execute(sql: "INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)", arguments: [m.id, Self.ms(Date())])
            }
        }
    }

    package func migrationStatus() throws(StoreError) -> MigrationStatus {
        let migrations = try Migrations.load(dialect: "sqlite", directory: migrationsDirectory)
        let applied: [String] = try read { db in
            guard try db.tableExists("schema_migrations") else { return [] }
            return try String.fetchAll(db, sql: "SELECT id FROM schema_migrations ORDER BY id")
        }
        return MigrationStatus(applied: applied, pending: migrations.map(\.id).filter { !applied.contains($0) })
    }

    package func ping() throws(StoreError) {
        _ = try read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: The query-vector cache's second level

    package func sharedCacheEntries(ids: [String]) throws(StoreError) -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let list = StoreValidation.encodeStrings(ids)
        let now = Self.ms(Date())
        return try read { db in
            var out: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, entry FROM query_vector_cache WHERE id IN (SELECT value FROM json_each(?)) AND expires_at > ?",
                                        arguments: [list, now]) {
                let data: Data = row["entry"]
                out[row["id"]] = [UInt8](data)
            }
            return out
        }
    }

    package func putSharedCacheEntries(_ entries: [(id: String, bytes: [UInt8])], expiresAt: Date) throws(StoreError) {
        guard !entries.isEmpty else { return }
        let expires = Self.ms(expiresAt), now = Self.ms(Date())
        try write { db in
            for e in entries {
                try db.execute(sql: """
                    INSERT INTO query_vector_cache (id, entry, expires_at) VALUES (?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET entry = excluded.entry, expires_at = excluded.expires_at
                    """, arguments: [e.id, Data(e.bytes), expires])
            }
            // Expired entries leave a few at a time with each write: the table stays the size of
            // the live ones without a sweeper.
            try db.execute(sql: "DELETE FROM query_vector_cache WHERE id IN (SELECT id FROM query_vector_cache WHERE expires_at <= ? LIMIT 64)",
                           arguments: [now])
        }
    }

    // MARK: Documents

    static let documentColumns = """
        d.id, d.org_id, d.title, d.filename, d.mime_type, d.bytes, d.sha256, d.blob_uri, d.metadata, d.status,
        d.created_at, d.updated_at, d.deleted_at,
        (SELECT v.id FROM doc_versions v WHERE v.document_id = d.id AND v.state = 'ready') AS ready_version_id
        """

    static func document(_ row: Row) -> Document {
        Document(
            id: row["id"], orgId: row["org_id"], title: row["title"], filename: row["filename"], mimeType: row["mime_type"],
            bytes: row["bytes"], sha256: row["sha256"], blobURI: row["blob_uri"],
            metadata: StoreValidation.decodeObject(row["metadata"]),
            status: DocumentStatus(rawValue: row["status"]) ?? .pending,
            createdAt: date(row["created_at"] as Int64), updatedAt: date(row["updated_at"] as Int64),
            deletedAt: date(row["deleted_at"] as Int64?), readyVersionId: row["ready_version_id"])
    }

    package func createDocument(_ new: NewDocument, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?, created: Bool) {
        try new.validateText()
        let metadata = try StoreValidation.metadata(new.metadata)
        if let job, job.orgId != new.orgId { throw .invalidInput(field: "job.org_id", reason: "must be the document's org") }
        return try write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = ? AND d.sha256 = ? AND d.deleted_at IS NULL",
                                               arguments: [new.orgId, new.sha256]) {
                return (Self.document(existing), nil, false)
            }
            let id = StoreValidation.newId()
            let now = Self.ms(Date())
            try db.execute(sql: """
                INSERT INTO documents (id, org_id, title, filename, mime_type, bytes, sha256, blob_uri, metadata, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
                """, arguments: [id, new.orgId, new.title, new.filename, new.mimeType, new.bytes, new.sha256, new.blobURI, metadata, now, now])
            var created: Job?
            if var job {
                job.documentId = job.documentId ?? id
                created = try Self.insertJob(db, job).job
            }
            let doc = try Row.fetchOne(db, sql: "SELECT \(Self.documentColumns) FROM documents d WHERE d.id = ?", arguments: [id])!
            return (Self.document(doc), created, true)
        }
    }

    package func document(org: OrgID, id: String) throws(StoreError) -> Document? {
        try StoreValidation.text(id, field: "id")
        return try read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = ? AND d.id = ?", arguments: [org, id])
                .map(Self.document)
        }
    }

    package func documentDetail(org: OrgID, id: String) throws(StoreError) -> DocumentDetail? {
        try StoreValidation.text(id, field: "id")
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = ? AND d.id = ?",
                                             arguments: [org, id]) else { return nil }
            let doc = Self.document(row)
            let versionCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM doc_versions WHERE org_id = ? AND document_id = ?", arguments: [org, id]) ?? 0
            var ready: DocVersion?
            var chunkCount = 0
            if let vid = doc.readyVersionId {
                ready = try Row.fetchOne(db, sql: "SELECT * FROM doc_versions WHERE id = ?", arguments: [vid]).map(Self.version)
                chunkCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM doc_chunks WHERE version_id = ?", arguments: [vid]) ?? 0
            }
            return DocumentDetail(document: doc, readyVersion: ready, versionCount: versionCount, chunkCount: chunkCount)
        }
    }

    package func listDocuments(org: OrgID, status: DocumentStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Document> {
        try StoreValidation.text(cursor, field: "cursor")
        let limit = max(1, min(limit, 1000))
        var sql = "SELECT \(Self.documentColumns) FROM documents d WHERE d.org_id = ?"
        var args: [any DatabaseValueConvertible] = [org]
        if let status {
            sql += " AND d.status = ?"
            args.append(status.rawValue)
        } else {
            sql += " AND d.deleted_at IS NULL"
        }
        if let cursor {
            let (ms, id) = try PageCursor.decode(cursor)
            sql += " AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))"
            args += [ms, ms, id]
        }
        sql += " ORDER BY d.created_at DESC, d.id DESC LIMIT ?"
        args.append(limit + 1)
        let docs = try read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.document) }
        let page = Array(docs.prefix(limit))
        let next = docs.count > limit ? page.last.map { PageCursor.encode(ms: Self.ms($0.createdAt), id: $0.id) } : nil
        return Page(items: page, nextCursor: next)
    }

    package func documentCounts(org: OrgID) throws(StoreError) -> [DocumentStatus: Int] {
        try read { db in
            var out: [DocumentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) AS n FROM documents WHERE org_id = ? GROUP BY status", arguments: [org]) {
                if let s = DocumentStatus(rawValue: row["status"]) { out[s] = row["n"] }
            }
            return out
        }
    }

    package func softDeleteDocument(org: OrgID, id: String, job: NewJob?) throws(StoreError) -> (document: Document, job: Job?)? {
        try StoreValidation.text(id, field: "id")
        return try write { db in
            let now = Self.ms(Date())
            try db.execute(sql: "UPDATE documents SET status = 'deleted', deleted_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
                           arguments: [now, now, org, id])
            guard db.changesCount == 1 else { return nil }
            try Self.bumpGeneration(db)
            var created: Job?
            if var job {
                job.orgId = org
                job.documentId = id
                created = try Self.insertJob(db, job).job
            }
            let doc = try Row.fetchOne(db, sql: "SELECT \(Self.documentColumns) FROM documents d WHERE d.id = ?", arguments: [id])!
            return (Self.document(doc), created)
        }
    }

    package func hardDeleteDocument(org: OrgID, id: String) throws(StoreError) -> Bool {
        try StoreValidation.text(id, field: "id")
        return try write { db in
            // Vectors and chunks go by cascade; FTS rows by trigger.
            try db.execute(sql: "DELETE FROM documents WHERE org_id = ? AND id = ?", arguments: [org, id])
            let deleted = db.changesCount == 1
            if deleted { try Self.bumpGeneration(db) }
            return deleted
        }
    }

    package func staleDocuments(embedModel: String, chunkerVersion: String, limit: Int) throws(StoreError) -> [Document] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.documentColumns) FROM documents d
                JOIN doc_versions v ON v.document_id = d.id AND v.state = 'ready'
                WHERE d.deleted_at IS NULL AND (v.embed_model <> ? OR v.chunker_version <> ?)
                  AND NOT EXISTS (SELECT 1 FROM doc_versions n WHERE n.document_id = d.id AND n.state = 'indexing')
                ORDER BY d.created_at LIMIT ?
                """, arguments: [embedModel, chunkerVersion, max(1, limit)]).map(Self.document)
        }
    }

    // MARK: Versions

    static func version(_ row: Row) -> DocVersion {
        DocVersion(
            id: row["id"], orgId: row["org_id"], documentId: row["document_id"], embedModel: row["embed_model"], dim: row["dim"],
            chunkSize: row["chunk_size"], chunkOverlap: row["chunk_overlap"], chunkerVersion: row["chunker_version"],
            sourceSha256: row["source_sha256"], state: VersionState(rawValue: row["state"]) ?? .failed, error: row["error"],
            createdAt: date(row["created_at"] as Int64), readyAt: date(row["ready_at"] as Int64?))
    }

    package func createVersion(org: OrgID, _ v: NewVersion) throws(StoreError) -> DocVersion {
        try StoreValidation.dimension(v.dim)
        guard !v.embedModel.isEmpty else { throw .invalidInput(field: "embed_model", reason: "is empty") }
        return try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM documents WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
                                    arguments: [org, v.documentId]) == true else {
                throw StoreError.notFound("document \(v.documentId)")
            }
            if let other = try Int.fetchOne(db, sql: """
                SELECT dim FROM doc_versions WHERE embed_model = ? AND dim <> ? AND state IN ('indexing', 'ready') LIMIT 1
                """, arguments: [v.embedModel, v.dim]) {
                throw StoreError.conflict(StoreValidation.dimensionConflict(model: v.embedModel, stored: other, new: v.dim))
            }
            let id = StoreValidation.newId()
            try db.execute(sql: """
                INSERT INTO doc_versions (id, org_id, document_id, embed_model, dim, chunk_size, chunk_overlap, chunker_version, source_sha256, state, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'indexing', ?)
                """, arguments: [id, org, v.documentId, v.embedModel, v.dim, v.chunkSize, v.chunkOverlap, v.chunkerVersion, v.sourceSha256, Self.ms(Date())])
            return Self.version(try Row.fetchOne(db, sql: "SELECT * FROM doc_versions WHERE id = ?", arguments: [id])!)
        }
    }

    package func version(org: OrgID, id: String) throws(StoreError) -> DocVersion? {
        try StoreValidation.text(id, field: "id")
        return try read { db in try Row.fetchOne(db, sql: "SELECT * FROM doc_versions WHERE org_id = ? AND id = ?", arguments: [org, id]).map(Self.version) }
    }

    package func versions(org: OrgID, documentId: String) throws(StoreError) -> [DocVersion] {
        try StoreValidation.text(documentId, field: "document_id")
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM doc_versions WHERE org_id = ? AND document_id = ? ORDER BY created_at DESC, id DESC",
                             arguments: [org, documentId]).map(Self.version)
        }
    }

    package func markVersionFailed(org: OrgID, id: String, error: String, retiring: Bool) throws(StoreError) {
        try StoreValidation.text(id, field: "id")
        return try write { db in
            try db.execute(sql: "UPDATE doc_versions SET state = 'failed', error = ? WHERE org_id = ? AND id = ? AND state = 'indexing'",
                           arguments: [String(error.prefix(4000)), org, id])
            guard db.changesCount == 1 else {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM doc_versions WHERE org_id = ? AND id = ?", arguments: [org, id]) == true else {
                    throw StoreError.notFound("version \(id)")
                }
                throw StoreError.conflict("version \(id) is not indexing")
            }
            // A document with nothing searchable says so; one with an older ready version stays ready.
            guard !retiring else { return }
            try db.execute(sql: """
                UPDATE documents SET status = 'failed', updated_at = ?
                WHERE id = (SELECT document_id FROM doc_versions WHERE id = ?) AND status = 'pending'
                """, arguments: [Self.ms(Date()), id])
        }
    }

    package func publishVersion(org: OrgID, id: String) throws(StoreError) -> DocVersion {
        try StoreValidation.text(id, field: "id")
        return try write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT v.*, d.deleted_at AS doc_deleted FROM doc_versions v JOIN documents d ON d.id = v.document_id
                WHERE v.org_id = ? AND v.id = ?
                """, arguments: [org, id]) else { throw StoreError.notFound("version \(id)") }
            let v = Self.version(row)
            guard v.state == .indexing else { throw StoreError.conflict("version \(id) is \(v.state.rawValue), not indexing") }
            guard (row["doc_deleted"] as Int64?) == nil else { throw StoreError.conflict("document \(v.documentId) is deleted") }
            let now = Self.ms(Date())
            try db.execute(sql: "UPDATE doc_versions SET state = 'superseded', superseded_at = ? WHERE document_id = ? AND state = 'ready'",
                           arguments: [Self.ms(Date()), v.documentId])
            try db.execute(sql: "UPDATE doc_versions SET state = 'ready', ready_at = ?, error = NULL WHERE id = ?", arguments: [now, id])
            try db.execute(sql: "UPDATE documents SET status = 'ready', updated_at = ? WHERE id = ?", arguments: [now, v.documentId])
            try Self.bumpGeneration(db)
            return Self.version(try Row.fetchOne(db, sql: "SELECT * FROM doc_versions WHERE id = ?", arguments: [id])!)
        }
    }

    static func bumpGeneration(_ db: Database) throws {
        try db.execute(sql: "UPDATE store_state SET value = value + 1 WHERE key = 'search_generation'")
    }

    /// The search generation this read sees: what the per-process caches are valid for.
    static func searchGeneration(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM store_state WHERE key = 'search_generation'") ?? 0
    }

    // MARK: Chunks

    static func chunk(_ row: Row) -> Chunk {
        Chunk(id: row["id"], orgId: row["org_id"], documentId: row["document_id"], versionId: row["version_id"], index: row["chunk_index"],
              content: row["content"], contentSha256: row["content_sha256"], tokenCount: row["token_count"],
              charStart: row["char_start"], charEnd: row["char_end"])
    }

    package func insertChunks(org: OrgID, versionId: String, _ chunks: [NewChunk]) throws(StoreError) {
        try StoreValidation.text(versionId, field: "version_id")
        guard let v = try version(org: org, id: versionId) else { throw .notFound("version \(versionId)") }
        guard v.state == .indexing else { throw .conflict("version \(versionId) is \(v.state.rawValue); chunks go into an indexing version") }
        for (i, c) in chunks.enumerated() { try StoreValidation.vector(c.vector, dim: v.dim, field: "chunks[\(i)].vector") }
        // Batches keep each write transaction short, so other processes' writes interleave.
        for batch in stride(from: 0, to: chunks.count, by: 500).map({ Array(chunks[$0..<min($0 + 500, chunks.count)]) }) {
            try write { db in
                let chunkInsert = try db.cachedStatement(sql: """
                    INSERT INTO doc_chunks (id, org_id, document_id, version_id, chunk_index, content, content_sha256, token_count, char_start, char_end)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let ftsInsert = try db.cachedStatement(sql: "INSERT INTO chunk_fts (rowid, folded) VALUES (?, ?)")
                let vectorInsert = try db.cachedStatement(sql: "INSERT INTO chunk_embeddings (chunk_id, org_id, embed_model, dim, vector) VALUES (?, ?, ?, ?, ?)")
                for c in batch {
                    let id = StoreValidation.newId()
                    try chunkInsert.execute(arguments: [id, org, v.documentId, versionId, c.index, c.content, c.contentSha256, c.tokenCount, c.charStart, c.charEnd])
                    try ftsInsert.execute(arguments: [db.lastInsertedRowID, TextFolding.fold(c.content)])
                    try vectorInsert.execute(arguments: [id, org, v.embedModel, v.dim, Data(Vectors.blob(c.vector))])
                }
            }
        }
    }

    package func chunks(org: OrgID, versionId: String) throws(StoreError) -> [Chunk] {
        try StoreValidation.text(versionId, field: "version_id")
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM doc_chunks WHERE org_id = ? AND version_id = ? ORDER BY chunk_index", arguments: [org, versionId]).map(Self.chunk)
        }
    }

    package func chunks(org: OrgID, ids: [String]) throws(StoreError) -> [Chunk] {
        try StoreValidation.texts(ids, field: "ids")
        guard !ids.isEmpty else { return [] }
        return try read { db in
            // `+org_id`: without it SQLite walks the (org_id, content_sha256) index, every chunk of
            // the org (150-270 ms at 100k chunks, per search), instead of looking the ids up.
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM doc_chunks WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ?",
                                        arguments: [StoreValidation.encodeStrings(ids), org]).map(Self.chunk)
            let byId = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return ids.compactMap { byId[$0] }
        }
    }

    package func documentTitles(org: OrgID, ids: [String]) throws(StoreError) -> [String: String] {
        try StoreValidation.texts(ids, field: "ids")
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var titles: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, title FROM documents WHERE id IN (SELECT value FROM json_each(?)) AND +org_id = ? AND deleted_at IS NULL",
                                        arguments: [StoreValidation.encodeStrings(ids), org]) {
                titles[row["id"]] = row["title"]
            }
            return titles
        }
    }

    package func reusableVectors(org: OrgID, model: String, contentSha256s: [String]) throws(StoreError) -> [String: [Float]] {
        guard !contentSha256s.isEmpty else { return [:] }
        return try read { db in
            var out: [String: [Float]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.content_sha256, e.vector FROM doc_chunks c JOIN chunk_embeddings e ON e.chunk_id = c.id AND e.embed_model = ?
                WHERE c.org_id = ? AND c.content_sha256 IN (SELECT value FROM json_each(?))
                """, arguments: [model, org, StoreValidation.encodeStrings(contentSha256s)])
            while let row = try rows.next() {
                let sha: String = row[0]
                if out[sha] != nil { continue }
                let data: Data = row[1]
                out[sha] = data.withUnsafeBytes { Vectors.floats($0) }
            }
            return out
        }
    }

    package func storedDimensions(model: String) throws(StoreError) -> [Int] {
        try read { db in
            try Int.fetchAll(db, sql: "SELECT DISTINCT dim FROM doc_versions WHERE embed_model = ? AND state IN ('indexing', 'ready') ORDER BY dim",
                             arguments: [model])
        }
    }

    package func readyModels(org: OrgID) throws(StoreError) -> [String: Int] {
        try read { db in
            let generation = try Self.searchGeneration(db)
            if let known = readyModelsCache.get(org, generation: generation) { return known }
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT DISTINCT v.embed_model, v.dim FROM doc_versions v JOIN documents d ON d.id = v.document_id
                WHERE v.org_id = ? AND v.state = 'ready' AND d.deleted_at IS NULL
                """, arguments: [org]) {
                out[row[0]] = row[1]
            }
            readyModelsCache.put(org, out, generation: generation)
            return out
        }
    }

    // MARK: Jobs

    static func job(_ row: Row) -> Job {
        Job(id: row["id"], orgId: row["org_id"], type: JobType(rawValue: row["type"]) ?? .ingest, documentId: row["document_id"],
            versionId: row["version_id"], idempotencyKey: row["idempotency_key"], params: StoreValidation.decodeObject(row["params"]),
            status: JobStatus(rawValue: row["status"]) ?? .failed, attempts: row["attempts"], maxAttempts: row["max_attempts"],
            runAfter: date(row["run_after"] as Int64), leaseOwner: row["lease_owner"], leaseExpiresAt: date(row["lease_expires_at"] as Int64?),
            error: row["error"], durationMs: row["duration_ms"], createdAt: date(row["created_at"] as Int64),
            updatedAt: date(row["updated_at"] as Int64), startedAt: date(row["started_at"] as Int64?), finishedAt: date(row["finished_at"] as Int64?))
    }

    static func insertJob(_ db: Database, _ new: NewJob) throws -> (job: Job, created: Bool) {
        if let key = new.idempotencyKey,
           let live = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE org_id = ? AND idempotency_key = ? AND status IN ('queued', 'running')",
                                       arguments: [new.orgId, key]) {
            return (job(live), false)
        }
        let params = try StoreValidation.metadata(new.params)
        guard new.maxAttempts > 0 else { throw StoreError.invalidInput(field: "max_attempts", reason: "must be at least 1") }
        let id = StoreValidation.newId()
        let now = ms(Date())
        try db.execute(sql: """
            INSERT INTO jobs (id, org_id, type, document_id, version_id, idempotency_key, params, status, attempts, max_attempts, run_after, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)
            """, arguments: [id, new.orgId, new.type.rawValue, new.documentId, new.versionId, new.idempotencyKey, params, new.maxAttempts,
                             new.runAfter.map(ms) ?? now, now, now])
        return (job(try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])!), true)
    }

    package func enqueue(_ new: NewJob) throws(StoreError) -> (job: Job, created: Bool) {
        return try write { db in try Self.insertJob(db, new) }
    }

    package func job(org: OrgID, id: String) throws(StoreError) -> Job? {
        try StoreValidation.text(id, field: "id")
        return try read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE org_id = ? AND id = ?", arguments: [org, id]).map(Self.job) }
    }

    package func listJobs(org: OrgID, status: JobStatus?, limit: Int, cursor: String?) throws(StoreError) -> Page<Job> {
        try StoreValidation.text(cursor, field: "cursor")
        let limit = max(1, min(limit, 1000))
        var sql = "SELECT * FROM jobs WHERE org_id = ?"
        var args: [any DatabaseValueConvertible] = [org]
        if let status {
            sql += " AND status = ?"
            args.append(status.rawValue)
        }
        if let cursor {
            let (ms, id) = try PageCursor.decode(cursor)
            sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            args += [ms, ms, id]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(limit + 1)
        let jobs = try read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.job) }
        let page = Array(jobs.prefix(limit))
        let next = jobs.count > limit ? page.last.map { PageCursor.encode(ms: Self.ms($0.createdAt), id: $0.id) } : nil
        return Page(items: page, nextCursor: next)
    }

    package func claimJobs(owner: String, limit: Int, lease: Double, types: [JobType]?) throws(StoreError) -> [Job] {
        guard limit > 0 else { return [] }
        let typeList = StoreValidation.encodeStrings((types ?? JobType.allCases).map(\.rawValue))
        return try write { db in
            let now = Self.ms(Date())
            // The write lock is held: no other claimer can pick the same rows.
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM jobs
                WHERE type IN (SELECT value FROM json_each(?))
                  AND ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_expires_at < ?))
                ORDER BY run_after, created_at LIMIT ?
                """, arguments: [typeList, now, now, limit])
            var out: [Job] = []
            for id in ids {
                try db.execute(sql: """
                    UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                        started_at = COALESCE(started_at, ?), updated_at = ?
                    WHERE id = ?
                    """, arguments: [owner, now + Int64(lease * 1000), now, now, id])
                out.append(Self.job(try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id])!))
            }
            return out
        }
    }

    package func heartbeat(jobId: String, owner: String, lease: Double) throws(StoreError) -> Bool {
        try write { db in
            let now = Self.ms(Date())
            try db.execute(sql: """
                UPDATE jobs SET lease_expires_at = ?, updated_at = ?
                WHERE id = ? AND status = 'running' AND lease_owner = ? AND lease_expires_at >= ?
                """, arguments: [now + Int64(lease * 1000), now, jobId, owner, now])
            return db.changesCount == 1
        }
    }

    package func attachVersion(jobId: String, owner: String, versionId: String) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE jobs SET version_id = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?",
                           arguments: [versionId, Self.ms(Date()), jobId, owner])
            return db.changesCount == 1
        }
    }

    package func completeJob(jobId: String, owner: String, durationMs: Int) throws(StoreError) {
        try write { db in
            let now = Self.ms(Date())
            try db.execute(sql: """
                UPDATE jobs SET status = 'succeeded', lease_owner = NULL, lease_expires_at = NULL, error = NULL,
                    duration_ms = ?, finished_at = ?, updated_at = ?
                WHERE id = ? AND status = 'running' AND lease_owner = ?
                """, arguments: [durationMs, now, now, jobId, owner])
            guard db.changesCount == 1 else { throw StoreError.leaseLost(jobId: jobId) }
        }
    }

    package func failJob(jobId: String, owner: String, error: String, retryable: Bool, backoff: Backoff) throws(StoreError) -> Job {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?",
                                             arguments: [jobId, owner]) else { throw StoreError.leaseLost(jobId: jobId) }
            let j = Self.job(row)
            let now = Self.ms(Date())
            let dead = !retryable || j.attempts >= j.maxAttempts
            if dead {
                try db.execute(sql: """
                    UPDATE jobs SET status = 'dead', error = ?, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [String(error.prefix(4000)), now, now, jobId])
            } else {
                let delay = Int64(backoff.delay(afterAttempt: j.attempts) * 1000)
                try db.execute(sql: """
                    UPDATE jobs SET status = 'queued', error = ?, lease_owner = NULL, lease_expires_at = NULL, run_after = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [String(error.prefix(4000)), now + delay, now, jobId])
            }
            return Self.job(try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobId])!)
        }
    }
    package func deferJob(jobId: String, owner: String, until: Date, reason: String) throws(StoreError) -> Job {
        try write { db in
            guard try Row.fetchOne(db, sql: "SELECT id FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?",
                                   arguments: [jobId, owner]) != nil else { throw StoreError.leaseLost(jobId: jobId) }
            let now = Self.ms(Date())
            try db.execute(sql: """
                UPDATE jobs SET status = 'queued', error = ?, lease_owner = NULL, lease_expires_at = NULL, run_after = ?,
                    attempts = MAX(attempts - 1, 0), updated_at = ?
                WHERE id = ?
                """, arguments: [String(reason.prefix(4000)), Self.ms(until), now, jobId])
            return Self.job(try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobId])!)
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
        try write { db in
            let known = Set(try String.fetchAll(db, sql: "SELECT id FROM doc_chunks WHERE version_id = ?", arguments: [versionId]))
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO chunk_embeddings (chunk_id, org_id, embed_model, dim, vector) VALUES (?, ?, ?, ?, ?)")
            for x in vectors {
                guard known.contains(x.chunkId) else { throw StoreError.invalidInput(field: "chunk_id", reason: "\(x.chunkId) is not a chunk of version \(versionId)") }
                try insert.execute(arguments: [x.chunkId, org, model, dim, Data(Vectors.blob(x.vector))])
            }
            try Self.bumpGeneration(db)
        }
    }

    /// Ready versions of live documents, and whether each has `model`'s vector for every chunk.
    static let shadowCoverageSQL = """
        SELECT v.org_id, v.document_id, NOT EXISTS (
            SELECT 1 FROM doc_chunks c WHERE c.version_id = v.id
            AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = c.id AND e.embed_model = ?)) AS covered
        FROM doc_versions v JOIN documents d ON d.id = v.document_id AND d.deleted_at IS NULL
        WHERE v.state = 'ready'
        """

    package func shadowCoverage(org: OrgID, model: String) throws(StoreError) -> ShadowCoverage {
        try read { db in
            let rows = try Row.fetchAll(db, sql: Self.shadowCoverageSQL + " AND v.org_id = ?", arguments: [model, org])
            return ShadowCoverage(versions: rows.count, covered: rows.filter { $0["covered"] as Bool }.count)
        }
    }

    package func shadowGaps(model: String, limit: Int) throws(StoreError) -> [(org: OrgID, documentId: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM (\(Self.shadowCoverageSQL)) WHERE NOT covered LIMIT ?", arguments: [model, limit])
                .map { (OrgID(stored: $0["org_id"]), $0["document_id"]) }
        }
    }

    package func recordShadowComparison(_ x: ShadowComparison) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO shadow_comparisons (org_id, model, at, overlap, rank_correlation, live_ms, shadow_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [x.orgId, x.model, Self.ms(Date()), x.overlap, x.rankCorrelation, x.liveMs, x.shadowMs])
        }
    }

    package func shadowComparisons(model: String, org: OrgID?, limit: Int) throws(StoreError) -> [ShadowComparison] {
        try read { db in
            let rows = if let org {
                try Row.fetchAll(db, sql: "SELECT * FROM shadow_comparisons WHERE model = ? AND org_id = ? ORDER BY id DESC LIMIT ?", arguments: [model, org, limit])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM shadow_comparisons WHERE model = ? ORDER BY id DESC LIMIT ?", arguments: [model, limit])
            }
            return rows.map { ShadowComparison(orgId: OrgID(stored: $0["org_id"]), model: $0["model"], overlap: $0["overlap"],
                                               rankCorrelation: $0["rank_correlation"], liveMs: $0["live_ms"], shadowMs: $0["shadow_ms"]) }
        }
    }

    package func purgeSupersededVersions(before: Date, limit: Int) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: """
                DELETE FROM doc_versions WHERE id IN (
                    SELECT id FROM doc_versions WHERE state = 'superseded' AND superseded_at < ? ORDER BY superseded_at LIMIT ?)
                """, arguments: [Self.ms(before), limit])
            return db.changesCount
        }
    }

    // MARK: Embedding usage

    package func recordEmbeddingUsage(_ u: EmbeddingUsageIncrement) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO embedding_usage (org_id, day, provider, model, tokens, cost_usd, calls) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (org_id, day, provider, model) DO UPDATE SET tokens = tokens + excluded.tokens,
                    cost_usd = cost_usd + excluded.cost_usd, calls = calls + excluded.calls
                """, arguments: [u.orgId, u.day, u.provider, u.model, u.tokens, u.costUSD, u.calls])
        }
    }

    package func embeddingUsage(org: OrgID?, fromDay: String, toDay: String) throws(StoreError) -> [EmbeddingUsageRow] {
        try read { db in
            let rows: [Row]
            let sums = "SELECT day, provider, model, SUM(tokens) AS tokens, SUM(cost_usd) AS cost, SUM(calls) AS calls FROM embedding_usage"
            let tail = "GROUP BY day, provider, model ORDER BY day, provider, model"
            if let org {
                rows = try Row.fetchAll(db, sql: "\(sums) WHERE org_id = ? AND day BETWEEN ? AND ? \(tail)", arguments: [org, fromDay, toDay])
            } else {
                rows = try Row.fetchAll(db, sql: "\(sums) WHERE day BETWEEN ? AND ? \(tail)", arguments: [fromDay, toDay])
            }
            return rows.map { EmbeddingUsageRow(day: $0["day"], provider: $0["provider"], model: $0["model"],
                                                tokens: $0["tokens"], costUSD: $0["cost"], calls: $0["calls"]) }
        }
    }
}

extension StoreValidation {
    /// A JSON array of strings, for `IN (SELECT value FROM json_each(?))` with one bound value.
    static func encodeStrings(_ s: [String]) -> String {
        (try? JSONValue.array(s.map { .string($0) }).encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
