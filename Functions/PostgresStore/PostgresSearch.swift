import DocumentStore
import Foundation
import LambdaEvents
import PostgresClient

extension PostgresStore {
    /// Live documents of the org that pass the filter, decided in Swift with the same rule the
    /// SQLite store uses, so both stores filter identically.
    func allowedDocuments(_ c: PostgresConnection, org: OrgID, filter: SearchFilter) throws -> [String] {
        try documentsPassing(c, org: org, filter: filter).allowed
    }

    /// The allowed documents and how many live documents were considered (for selectivity).
    func documentsPassing(_ c: PostgresConnection, org: OrgID, filter: SearchFilter) throws -> (allowed: [String], considered: Int) {
        var sql = "SELECT id, created_at, metadata::text AS metadata FROM documents WHERE org_id = $1 AND deleted_at IS NULL"
        var params: [PostgresValue] = [.text(org)]
        if let ids = filter.documentIds {
            params.append(Self.jsonStrings(ids))
            sql += " AND id IN (SELECT jsonb_array_elements_text($2))"
        }
        let rows = try c.query(sql, params)
        let allowed = try rows.compactMap { row in
            let id = try row.string("id")
            return filter.matches(id: id, createdAt: try row.date("created_at"), metadata: StoreValidation.decodeObject(try row.string("metadata")))
                ? id : nil
        }
        return (allowed, rows.count)
    }

    public func denseSearch(org: OrgID, model: String, query: [Float], k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        guard k > 0 else { return [] }
        guard !query.isEmpty else { throw .invalidInput(field: "query", reason: "the vector is empty") }
        guard query.allSatisfy(\.isFinite) else { throw .invalidInput(field: "query", reason: "the vector holds NaN or infinity") }
        return try tx { c in
            guard let dimRow = try c.query("""
                SELECT v.dim FROM doc_versions v WHERE v.org_id = $1 AND v.embed_model = $2 AND v.state = 'ready' LIMIT 1
                """, [.text(org), .text(model)]).first else { return [] }
            let dim = Int(try dimRow.int("dim"))
            guard dim == query.count else {
                throw StoreError.invalidInput(field: "query", reason: "\(model) vectors have \(dim) dimensions, the query \(query.count)")
            }
            var allowed: [String]?
            var candidates = try counts.count("vectors\u{0}\(org)\u{0}\(model)") {
                Int(try c.query("""
                    SELECT count(*) AS n FROM chunk_embeddings e JOIN doc_versions v ON v.id = e.version_id AND v.state = 'ready'
                    WHERE e.org_id = $1 AND e.embed_model = $2
                    """, [.text(org), .text(model)])[0].int("n"))
            }
            if !filter.isEmpty {
                let passing = try documentsPassing(c, org: org, filter: filter)
                if passing.allowed.isEmpty { return [] }
                allowed = passing.allowed
                if filter.documentIds == nil, passing.considered > 0 {
                    candidates = candidates * passing.allowed.count / passing.considered
                } else {
                    candidates = min(candidates, passing.allowed.count * 1000)
                }
            }
            // Every vector of the model, all orgs and versions: the index walks them all.
            let indexed = candidates <= exactScanRows || hnswEfSearch != nil ? candidates : try counts.count("indexed\u{0}\(model)\u{0}\(dim)") {
                Int(try c.query("SELECT count(*) AS n FROM chunk_embeddings WHERE embed_model = $1 AND dim = $2",
                                [.text(model), .int(dim)])[0].int("n"))
            }
            let plan = DensePlan.choose(candidates: candidates, indexed: indexed, k: k, exactScanRows: exactScanRows, efSearch: hnswEfSearch)
            guard case .index(let efSearch) = plan else {
                return try Self.nearest(c, org: org, model: model, dim: dim, query: query, k: k, allowed: allowed, exact: true)
            }
            try c.execute("SELECT set_config('hnsw.ef_search', $1, true)", [.text(String(efSearch))])
            let results = try Self.nearest(c, org: org, model: model, dim: dim, query: query, k: k, allowed: allowed, exact: false)
            guard results.count < k else { return results }
            // Short: the approximate scan's candidates ran out after filtering (a small org, a
            // narrow filter). The exact scan over the same rows returns every match there is.
            return try Self.nearest(c, org: org, model: model, dim: dim, query: query, k: k, allowed: allowed, exact: true)
        }
    }

    /// `dim` is an Int and `exact` a Bool: the only things interpolated; every value is bound.
    /// Vectors join the org's ready versions directly (few rows, hashed), not doc_chunks.
    static func nearest(_ c: PostgresConnection, org: OrgID, model: String, dim: Int, query: [Float], k: Int,
                        allowed: [String]?, exact: Bool) throws -> [ScoredChunk] {
        var params: [PostgresValue] = [.vector(query), .text(model), .text(org), .int(k)]
        var filterSQL = ""
        if let allowed {
            params.append(jsonStrings(allowed))
            filterSQL = " AND v.document_id IN (SELECT jsonb_array_elements_text($5))"
        }
        // The index needs its predicate on the vectors' own columns; the exact pass reaches the
        // vectors only through the org's ready versions (by version_id), which keeps the
        // planner from intersecting every version with all of the org's rows.
        let sql: String
        if exact {
            // No cast (a copy of every row): the rows of these versions all have `dim`. The
            // distance is computed once per row in the fenced subquery (OFFSET 0); written in
            // both the select list and ORDER BY it was computed twice, about a quarter of the
            // scan's time. Ordering by the subquery's column also keeps the planner off the index.
            sql = """
                SELECT chunk_id, document_id, version_id, 1 - distance AS score FROM (
                    SELECT e.chunk_id, v.document_id, e.version_id, (e.embedding <=> $1::vector) AS distance
                    FROM chunk_embeddings e
                    JOIN doc_versions v ON v.id = e.version_id AND v.state = 'ready' AND v.org_id = $3
                    JOIN documents d ON d.id = v.document_id AND d.deleted_at IS NULL
                    WHERE v.embed_model = $2 AND v.dim = \(dim)\(filterSQL)
                    OFFSET 0) s
                ORDER BY distance, chunk_id
                LIMIT $4
                """
        } else {
            // The index matches `embedding::vector(dim) <=> ...` under `embed_model = ... AND dim = ...`.
            let distance = "(e.embedding::vector(\(dim)) <=> $1::vector(\(dim)))"
            sql = """
                SELECT e.chunk_id, v.document_id, e.version_id, 1 - \(distance) AS score
                FROM chunk_embeddings e
                JOIN doc_versions v ON v.id = e.version_id AND v.state = 'ready' AND v.org_id = $3
                JOIN documents d ON d.id = v.document_id AND d.deleted_at IS NULL
                WHERE e.embed_model = $2 AND e.dim = \(dim) AND e.org_id = $3\(filterSQL)
                ORDER BY \(distance)
                LIMIT $4
                """
        }
        return try c.query(sql, params).map { row in
            ScoredChunk(chunkId: try row.string("chunk_id"), documentId: try row.string("document_id"),
                        versionId: try row.string("version_id"), score: Float(try row.double("score")))
        }
    }

    public func keywordSearch(org: OrgID, query: String, k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        let terms = TextFolding.terms(query)
        guard k > 0, !terms.isEmpty else { return [] }
        // Any term may match (`|`); ts_rank_cd ranks chunks with more and closer terms first.
        // Terms are letters and digits only, and the query text is still bound, not spliced.
        let tsquery = terms.prefix(64).joined(separator: " | ")
        return try tx { c in
            var params: [PostgresValue] = [.text(tsquery), .text(org), .int(k)]
            var filterSQL = ""
            if !filter.isEmpty {
                params.append(Self.jsonStrings(try allowedDocuments(c, org: org, filter: filter)))
                filterSQL = " AND c.document_id IN (SELECT jsonb_array_elements_text($4))"
            }
            return try c.query("""
                SELECT c.id, c.document_id, c.version_id, ts_rank_cd(c.folded_tsv, q) AS score
                FROM doc_chunks c
                JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL,
                     to_tsquery('simple', $1) q
                WHERE c.folded_tsv @@ q AND c.org_id = $2\(filterSQL)
                ORDER BY score DESC, c.id
                LIMIT $3
                """, params).map { row in
                ScoredChunk(chunkId: try row.string("id"), documentId: try row.string("document_id"),
                            versionId: try row.string("version_id"), score: Float(try row.double("score")))
            }
        }
    }
}

/// How a dense query runs: the exact scan, or the HNSW index with this `hnsw.ef_search`.
enum DensePlan: Equatable {
    case exact
    case index(efSearch: Int)

    /// pgvector (0.6) takes `hnsw.ef_search` up to 1,000.
    static let maxEfSearch = 1000

    /// - Parameters:
    ///   - candidates: the vectors the query may return: the org's ready vectors of the model,
    ///     narrowed by the filter's share of its documents.
    ///   - indexed: every vector the model's index holds (all orgs, all versions). The index
    ///     returns the `ef_search` nearest of those, and the org, version and filter conditions
    ///     apply after it, so only about `candidates / indexed` of them are usable.
    ///   - efSearch: a fixed `ef_search` (tuning, tests): the index whenever the set is large.
    static func choose(candidates: Int, indexed: Int, k: Int, exactScanRows: Int, efSearch: Int?) -> DensePlan {
        // Few candidates (a small org, a narrow filter): the exact scan is cheap and exact.
        if candidates <= exactScanRows { return .exact }
        if let efSearch { return .index(efSearch: efSearch) }
        let share = Double(candidates) / Double(max(indexed, candidates, 1))
        // Ten usable neighbours per result: recall@10 0.999 on the benchmark's 100k-chunk org
        // (half of the index) with ef_search 200, 0.987 with 100 (ef_construction 128).
        let wanted = (Double(k) * 10 / share).rounded(.up)
        // Fewer than two usable neighbours per result even at the largest ef_search: the index
        // would mostly come back short and fall back to the exact scan anyway.
        if wanted > Double(maxEfSearch * 5) { return .exact }
        return .index(efSearch: Int(min(Double(maxEfSearch), max(100, wanted))))
    }
}

/// Counts that steer plans (ready vectors per org and model, vectors per model), each refreshed
/// after a minute. A stale count costs speed, never correctness.
final class TimedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: (Int, Date)] = [:]

    func count(_ key: String, fetch: () throws -> Int) throws -> Int {
        if let (n, at) = lock.withLock({ counts[key] }), Date().timeIntervalSince(at) < 60 { return n }
        let n = try fetch()
        lock.withLock { counts[key] = (n, Date()) }
        return n
    }
}
