import CVectorKernels
import DocumentStore
import Foundation
import GRDB
import HeapModule
import JSON
import NIOConcurrencyHelpers

/// The ready vectors of one org under one model, as one contiguous matrix of unit rows, valid
/// for one search generation. A warm process answers every dense query from it until a flip or
/// a delete bumps the generation; reading 100k vectors back from SQLite costs far more than
/// scanning them.
final class VectorCache: @unchecked Sendable {
    struct Entry {
        var generation: Int64
        var dim: Int
        var chunkIds: [String]
        var versionIds: [String]
        /// Per row, an index into `documentIds`.
        var documentIndex: [Int32]
        var documentIds: [String]
        /// Per document, what filters look at; valid for the same generation (a document only
        /// becomes searchable through a flip, which bumps it).
        var documentCreatedAt: [Date] = []
        var documentMetadata: [JSONObject] = []
        /// Unit rows, float32: exact scores.
        var matrix: [Float]
        /// The same rows quantized to int8 (symmetric, one scale per row): a quarter of the
        /// bytes for the first pass over large sets, which is bound by memory bandwidth.
        var quantized: [Int8] = []
        var scales: [Float] = []
        /// Per row, the sum of its int8 values (the VNNI kernel's correction term).
        var rowSums: [Int32] = []

        mutating func quantize() {
            let rows = chunkIds.count
            quantized = [Int8](repeating: 0, count: rows * dim)
            scales = [Float](repeating: 0, count: rows)
            rowSums = [Int32](repeating: 0, count: rows)
            for r in 0..<rows {
                var peak: Float = 0
                for i in 0..<dim { peak = max(peak, abs(matrix[r * dim + i])) }
                let scale = peak > 0 ? peak / 127 : 1
                scales[r] = scale
                var sum: Int32 = 0
                for i in 0..<dim {
                    let v = Int8((matrix[r * dim + i] / scale).rounded())
                    quantized[r * dim + i] = v
                    sum += Int32(v)
                }
                rowSums[r] = sum
            }
        }
    }

    private let lock = NIOLock()
    private var entries: [String: Entry] = [:]

    func get(_ key: String, generation: Int64) -> Entry? {
        lock.withLock { entries[key].flatMap { $0.generation == generation ? $0 : nil } }
    }

    func put(_ key: String, _ entry: Entry) {
        lock.withLock {
            // Keep memory bounded: entries of other generations are dead weight.
            entries = entries.filter { $0.value.generation == entry.generation }
            entries[key] = entry
        }
    }
}

extension SQLiteStore {
    package func denseSearch(org: OrgID, model: String, query: [Float], k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        try StoreValidation.text(model, field: "model")
        try filter.validateText()
        guard k > 0 else { return [] }
        guard !query.isEmpty else { throw .invalidInput(field: "query", reason: "the vector is empty") }
        guard query.allSatisfy(\.isFinite) else { throw .invalidInput(field: "query", reason: "the vector holds NaN or infinity") }
        let entry = try read { db -> VectorCache.Entry in
            let generation = try Self.searchGeneration(db)
            let key = org.rawValue + "\u{0}" + model
            if let cached = vectorCache.get(key, generation: generation) { return cached }
            let e = try Self.loadVectors(db, org: org, model: model, generation: generation, exactScanRows: exactScanRows)
            vectorCache.put(key, e)
            return e
        }
        guard !entry.chunkIds.isEmpty else { return [] }
        guard query.count == entry.dim else {
            throw .invalidInput(field: "query", reason: "\(model) vectors have \(entry.dim) dimensions, the query \(query.count)")
        }
        let q = Vectors.normalized(query)
        // Filters are decided per document from the cached metadata: no query, no JSON parsing.
        let allowed: [Bool]? = filter.isEmpty ? nil : entry.documentIds.indices.map { i in
            filter.matches(id: entry.documentIds[i], createdAt: entry.documentCreatedAt[i], metadata: entry.documentMetadata[i])
        }
        let top = Self.scan(entry, query: q, k: k, allowedDocuments: allowed)
        return top.map { (score, row) in
            ScoredChunk(chunkId: entry.chunkIds[row], documentId: entry.documentIds[Int(entry.documentIndex[row])],
                        versionId: entry.versionIds[row], score: score)
        }
    }

    /// Sets up to `exactScanRows` rows (20,000 by default) are scored exactly in float32. Larger ones take an int8
    /// first pass and rescore the best `max(20k, 200)` candidates in float32: the answer equals
    /// the exact one unless quantization error (well under 1 % of a score) pushes a true top-k
    /// row below a few hundred others, which the benchmark's recall@10 checks.
    static func scan(_ entry: VectorCache.Entry, query q: [Float], k: Int, allowedDocuments allowed: [Bool]?) -> [(Float, Int)] {
        let rows = entry.chunkIds.count, dim = entry.dim
        if entry.quantized.isEmpty {
            var scores = [Float](repeating: 0, count: rows)
            q.withUnsafeBufferPointer { qp in
                entry.matrix.withUnsafeBufferPointer { m in
                    scores.withUnsafeMutableBufferPointer { vk_dot_f32_rows(qp.baseAddress!, m.baseAddress!, rows, Int32(dim), $0.baseAddress!) }
                }
            }
            var top = TopK(k: k)
            for r in 0..<rows where allowed?[Int(entry.documentIndex[r])] ?? true { top.insert(score: scores[r], row: r) }
            return top.sorted()
        }
        let peak = q.reduce(Float(0)) { max($0, abs($1)) }
        let qScale = peak > 0 ? peak / 127 : 1
        let q8 = q.map { Int8(($0 / qScale).rounded()) }
        var raw = [Int32](repeating: 0, count: rows)
        q8.withUnsafeBufferPointer { qp in
            entry.quantized.withUnsafeBufferPointer { m in
                entry.rowSums.withUnsafeBufferPointer { sums in
                    raw.withUnsafeMutableBufferPointer {
                        vk_dot_i8_rows(qp.baseAddress!, m.baseAddress!, sums.baseAddress!, rows, Int32(dim), $0.baseAddress!)
                    }
                }
            }
        }
        var candidates = TopK(k: max(k * 20, 200))
        // Unchecked buffers: this loop visits every row, and bounds checks doubled its cost.
        raw.withUnsafeBufferPointer { raw in
            entry.scales.withUnsafeBufferPointer { scales in
                if let allowed {
                    entry.documentIndex.withUnsafeBufferPointer { documentIndex in
                        for r in 0..<rows where allowed[Int(documentIndex[r])] {
                            candidates.insert(score: Float(raw[r]) * scales[r] * qScale, row: r)
                        }
                    }
                } else {
                    for r in 0..<rows { candidates.insert(score: Float(raw[r]) * scales[r] * qScale, row: r) }
                }
            }
        }
        var top = TopK(k: k)
        q.withUnsafeBufferPointer { qp in
            entry.matrix.withUnsafeBufferPointer { m in
                for (_, r) in candidates.sorted() {
                    top.insert(score: SIMDDot.dot(qp.baseAddress!, m.baseAddress! + r * dim, dim), row: r)
                }
            }
        }
        return top.sorted()
    }

    static func loadVectors(_ db: Database, org: OrgID, model: String, generation: Int64, exactScanRows: Int) throws -> VectorCache.Entry {
        var entry = VectorCache.Entry(generation: generation, dim: 0, chunkIds: [], versionIds: [], documentIndex: [], documentIds: [], matrix: [])
        var docIndex: [String: Int32] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT c.id, c.document_id, c.version_id, e.dim, e.vector, d.created_at, d.metadata
            FROM doc_versions v
            JOIN documents d ON d.id = v.document_id AND d.deleted_at IS NULL
            JOIN doc_chunks c ON c.version_id = v.id
            JOIN chunk_embeddings e ON e.chunk_id = c.id AND e.embed_model = ?
            WHERE v.org_id = ? AND v.state = 'ready'
            """, arguments: [model, org])
        while let row = try rows.next() {
            let dim: Int = row[3]
            if entry.dim == 0 { entry.dim = dim }
            guard dim == entry.dim else { continue }
            let doc: String = row[1]
            let di: Int32
            if let known = docIndex[doc] { di = known } else {
                di = Int32(entry.documentIds.count)
                docIndex[doc] = di
                entry.documentIds.append(doc)
                entry.documentCreatedAt.append(date(row[5] as Int64))
                entry.documentMetadata.append(StoreValidation.decodeObject(row[6]))
            }
            entry.chunkIds.append(row[0])
            entry.versionIds.append(row[2])
            entry.documentIndex.append(di)
            let start = entry.matrix.count
            let blob = row[4] as Data
            guard blob.count == dim * 4 else { continue }
            entry.matrix.append(contentsOf: blob.withUnsafeBytes { Vectors.floats($0) })
            // Unit rows: the scan's dot product is the cosine similarity.
            var norm: Float = 0
            for i in start..<(start + dim) { norm += entry.matrix[i] * entry.matrix[i] }
            norm = norm.squareRoot()
            if norm > 0 { for i in start..<(start + dim) { entry.matrix[i] /= norm } }
        }
        if entry.chunkIds.count > exactScanRows { entry.quantize() }
        return entry
    }

    /// Live documents of the org that pass the filter.
    static func allowedDocuments(_ db: Database, org: OrgID, filter: SearchFilter) throws -> Set<String> {
        var sql = "SELECT id, created_at, metadata FROM documents WHERE org_id = ? AND deleted_at IS NULL"
        var args: [any DatabaseValueConvertible] = [org]
        if let ids = filter.documentIds {
            sql += " AND id IN (SELECT value FROM json_each(?))"
            args.append(StoreValidation.encodeStrings(ids))
        }
        var out = Set<String>()
        for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
            let id: String = row[0]
            if filter.matches(id: id, createdAt: date(row[1] as Int64), metadata: StoreValidation.decodeObject(row[2])) { out.insert(id) }
        }
        return out
    }

    package func keywordSearch(org: OrgID, query: String, k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        try StoreValidation.text(query, field: "query")
        try filter.validateText()
        let folded = Array(TextFolding.terms(query).prefix(64))
        guard k > 0, !folded.isEmpty else { return [] }
        return try read { db in
            // Without the terms bm25 gives no weight, the order of every chunk matching another
            // term is the same; when those are fewer than k, the full query adds the chunks that
            // match only the common terms (which rank below them there too).
            let weighted = try termStatistics.weighted(db, folded)
            if weighted.count < folded.count {
                let hits = try Self.keyword(db, org: org, terms: weighted, k: k, filter: filter)
                if hits.count >= k { return hits }
            }
            return try Self.keyword(db, org: org, terms: folded, k: k, filter: filter)
        }
    }

    static func keyword(_ db: Database, org: OrgID, terms: [String], k: Int, filter: SearchFilter) throws -> [ScoredChunk] {
        // Any term may match; bm25 ranks chunks with more and rarer terms first.
        let match = terms.map { "\"\($0)\"" }.joined(separator: " OR ")
        if filter.isEmpty { return try keywordByDepth(db, org: org, match: match, k: k) }
        // A filter may keep only a few of the matches anywhere in the ranking: rank only the
        // rows that pass it.
        let allowed = try allowedDocuments(db, org: org, filter: filter)
        let sql = """
            SELECT c.id, c.document_id, c.version_id, bm25(chunk_fts) AS rank
            FROM chunk_fts
            JOIN doc_chunks c ON c.rowid = chunk_fts.rowid
            JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
            JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
            WHERE chunk_fts MATCH ? AND c.org_id = ? AND c.document_id IN (SELECT value FROM json_each(?))
            ORDER BY rank LIMIT ?
            """
        return try Row.fetchAll(db, sql: sql, arguments: [match, org, StoreValidation.encodeStrings(Array(allowed)), k]).map { row in
            // bm25() is lower-is-better and negative; flip it so higher is better.
            ScoredChunk(chunkId: row[0], documentId: row[1], versionId: row[2], score: Float(-(row[3] as Double)))
        }
    }

    /// Unfiltered keyword search in two steps: FTS5 ranks its matches alone (bm25 over the
    /// postings, no row reads), then only the best `depth` are looked up and checked for the org,
    /// a ready version and a live document. Joining every match first costs a row read each
    /// (30-60 ms for a common word at 100k chunks); this reads a few hundred. When the checks
    /// leave fewer than k (another org's or an old version's chunks rank high), the depth grows
    /// eightfold until k pass or every match has been seen, so the answer is the same as the
    /// one-step query's. (`+org_id`: looked up by rowid, not by walking the org's index.)
    static func keywordByDepth(_ db: Database, org: OrgID, match: String, k: Int) throws -> [ScoredChunk] {
        var depth = max(k * 4, 200)
        while true {
            let ranked = try Row.fetchAll(db, sql: "SELECT rowid, bm25(chunk_fts) FROM chunk_fts WHERE chunk_fts MATCH ? ORDER BY 2 LIMIT ?",
                                          arguments: [match, depth])
            var rank: [Int64: Double] = [:]
            rank.reserveCapacity(ranked.count)
            for row in ranked { rank[row[0]] = row[1] }
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.rowid, c.id, c.document_id, c.version_id
                FROM doc_chunks c
                JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL
                WHERE c.rowid IN (SELECT value FROM json_each(?)) AND +c.org_id = ?
                """, arguments: ["[" + ranked.map { String($0[0] as Int64) }.joined(separator: ",") + "]", org])
            if rows.count >= k || ranked.count < depth {
                // Ties broken by rowid, as FTS5 orders them.
                let hits = rows.map { row in (rank: rank[row[0] as Int64] ?? 0, rowid: row[0] as Int64,
                                              chunk: ScoredChunk(chunkId: row[1], documentId: row[2], versionId: row[3], score: 0)) }
                    .sorted { ($0.rank, $0.rowid) < ($1.rank, $1.rowid) }
                    .prefix(k)
                // bm25() is lower-is-better and negative; flip it so higher is better.
                return hits.map { h in var c = h.chunk; c.score = Float(-h.rank); return c }
            }
            depth *= 8
        }
    }
}

/// Small per-key answers valid for one search generation (`SQLiteStore.searchGeneration`).
/// Answers read under an older generation than the newest seen are neither served nor kept.
final class GenerationCache<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NIOLock()
    private let limit: Int
    private var generation: Int64 = -1
    private var values: [Key: Value] = [:]

    /// - Parameter limit: entries kept before the cache starts over (a process serves many orgs).
    init(limit: Int = 10_000) { self.limit = limit }

    func get(_ key: Key, generation: Int64) -> Value? {
        lock.withLock { self.generation == generation ? values[key] : nil }
    }

    /// The known answers among `keys`, in one lock.
    func get(_ keys: some Sequence<Key>, generation: Int64) -> [Key: Value] {
        lock.withLock {
            guard self.generation == generation else { return [:] }
            var found: [Key: Value] = [:]
            for key in keys { if let v = values[key] { found[key] = v } }
            return found
        }
    }

    func put(_ key: Key, _ value: Value, generation: Int64) { put([key: value], generation: generation) }

    func put(_ answers: [Key: Value], generation: Int64) {
        lock.withLock {
            if generation > self.generation {
                self.generation = generation
                values = [:]
            }
            guard generation == self.generation else { return }
            if values.count + answers.count > limit { values = [:] }
            values.merge(answers) { _, new in new }
        }
    }
}

/// Document counts of query terms in the keyword index, cached for one search generation.
///
/// FTS5's bm25 clamps the IDF of a term found in half the rows or more to ~0 (1e-6), so such a
/// term ("the", "of", "và" in a real corpus) changes no ranking, yet an OR query over it makes
/// FTS5 rank every row it is in, which is most of the query's time (30-60 ms at 100k chunks).
/// Leaving those terms out gives the same order for every chunk that matches another term.
final class TermStatistics: Sendable {
    enum Key: Hashable {
        /// An upper bound on the index's rows.
        case rows
        /// The rows holding a term.
        case term(String)
    }
    private let counts = GenerationCache<Key, Int>(limit: 50_000)

    /// `terms` without the ones in at least half of the index's rows, unless that is all of them.
    func weighted(_ db: Database, _ terms: [String]) throws -> [String] {
        let generation = try SQLiteStore.searchGeneration(db)
        let cached = counts.get([.rows] + terms.map { .term($0) }, generation: generation)
        var fetched: [Key: Int] = [:]
        // An upper bound on the index's rows (chunk_fts rowids are doc_chunks'): errs towards
        // keeping a term, never towards dropping one FTS5 still weighs.
        let rows: Int
        if let known = cached[.rows] {
            rows = known
        } else {
            rows = try Int.fetchOne(db, sql: "SELECT max(rowid) FROM doc_chunks") ?? 0
            fetched[.rows] = rows
        }
        let missing = Array(Set(terms.filter { cached[.term($0)] == nil }))
        if !missing.isEmpty {
            for t in missing { fetched[.term(t)] = 0 }
            // fts5vocab counts a term's documents by walking its postings: worth caching.
            let found = try Row.fetchAll(db, sql: "SELECT term, doc FROM chunk_fts_vocabulary WHERE term IN (SELECT value FROM json_each(?))",
                                         arguments: [StoreValidation.encodeStrings(missing)])
            for row in found { fetched[.term(row[0] as String)] = row[1] as Int }
        }
        if !fetched.isEmpty { counts.put(fetched, generation: generation) }
        let weighted = terms.filter { 2 * (cached[.term($0)] ?? fetched[.term($0)] ?? 0) < rows }
        return weighted.isEmpty ? terms : weighted
    }
}

/// The k best (score, row) pairs seen, on swift-collections' heap: a row that beats the worst
/// kept costs log k (the first pass keeps up to 1,000 candidates of 100k rows, where a sorted
/// array's shifting cost milliseconds per query).
struct TopK {
    /// Ordered worse first: a lower score, or the same score from a later row (so among equal
    /// scores the earlier row is kept, as a stable scan would).
    struct Entry: Comparable {
        let score: Float
        let row: Int
        static func < (a: Entry, b: Entry) -> Bool { a.score < b.score || (a.score == b.score && a.row > b.row) }
    }

    let k: Int
    private var heap = Heap<Entry>()

    init(k: Int) { self.k = k }

    @inline(__always)
    mutating func insert(score: Float, row: Int) {
        let entry = Entry(score: score, row: row)
        if heap.count < k {
            heap.insert(entry)
        } else if let worst = heap.min, worst < entry {
            heap.replaceMin(with: entry)
        }
    }

    /// Best first.
    func sorted() -> [(Float, Int)] { heap.unordered.sorted { $1 < $0 }.map { ($0.score, $0.row) } }
}

enum SIMDDot {
    /// Four independent 8-wide accumulators keep the FMA units busy.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
            s2 += ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD8<Float>.self)
            s3 += ra.loadUnaligned(fromByteOffset: (i + 24) * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: (i + 24) * 4, as: SIMD8<Float>.self)
            i += 32
        }
        while i + 8 <= n {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }
}
