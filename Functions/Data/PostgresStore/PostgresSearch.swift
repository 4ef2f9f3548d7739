import DocumentStore
import Foundation
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

    package func denseSearch(org: OrgID, model: String, query: [Float], k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        try StoreValidation.text(model, field: "model")
        try filter.validateText()
        guard k > 0 else { return [] }
        guard !query.isEmpty else { throw .invalidInput(field: "query", reason: "the vector is empty") }
        guard query.allSatisfy(\.isFinite) else { throw .invalidInput(field: "query", reason: "the vector holds NaN or infinity") }
        // No transaction: a warm query is one round trip (the dimension is remembered, ef_search
        // stays set on the session), where BEGIN, lookup, set_config and COMMIT made it five.
        return try run { c in
            let dimensionKey = org.rawValue + "\u{0}" + model
            let dim: Int
            if let known = dimensions.withLock({ $0[dimensionKey] }) {
                dim = known
            } else {
                // From the vectors, not the versions: a candidate model's (shadow) vectors sit on
                // versions of the live model.
                guard let dimRow = try c.query("""
                    SELECT e.dim FROM chunk_embeddings e JOIN doc_versions v ON v.id = e.version_id AND v.state = 'ready'
                    WHERE e.org_id = $1 AND e.embed_model = $2 LIMIT 1
                    """, [.text(org), .text(model)]).first else { return [] }
                dim = Int(try dimRow.int("dim"))
                // A model id names one vector size (other sizes get ids of their own), so this holds for good.
                dimensions.withLock { if $0.count >= 10_000 { $0 = [:] }; $0[dimensionKey] = dim }
            }
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
            try c.setParameter("hnsw.ef_search", String(efSearch))
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
                    WHERE e.embed_model = $2 AND e.dim = \(dim)\(filterSQL)
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

    package func keywordSearch(org: OrgID, query: String, k: Int, filter: SearchFilter) throws(StoreError) -> [ScoredChunk] {
        try StoreValidation.text(query, field: "query")
        try filter.validateText()
        var seen = Set<String>()
        let terms = Array(TextFolding.terms(query).filter { seen.insert($0).inserted }.prefix(keywordRanking.maxTerms))
        guard k > 0, !terms.isEmpty else { return [] }
        return try tx { c in
            var allowed: [String]?
            if !filter.isEmpty {
                let passing = try allowedDocuments(c, org: org, filter: filter)
                if passing.isEmpty { return [] }
                allowed = passing
            }
            let stats = try keywordStats(c, org: org, terms: terms)
            // The rarest terms, while the chunks holding them stay within the budget, choose the
            // candidates; a chunk holding none of them is a candidate only if it holds two of the
            // other terms where those seldom meet. That bounds the rows read and ranked (a few
            // thousand, however common or many the query's words), and the chunks it leaves out
            // hold only commoner terms, which score little. Every term counts in every score.
            let budget = keywordRanking.candidateBudget
            var chosen: [Int] = []
            var total = 0
            for i in terms.indices.sorted(by: { (stats.estimates[$0], $0) < (stats.estimates[$1], $1) }) {
                guard min(total + stats.estimates[i], stats.chunks) <= budget else { break }
                total += stats.estimates[i]
                chosen.append(i)
            }
            let others = terms.indices.filter { !chosen.contains($0) }
            var pairs: [(String, Double)] = []
            for (x, a) in others.enumerated() {
                for b in others[(x + 1)...] {
                    pairs.append(("(\(terms[a]) & \(terms[b]))", Double(stats.estimates[a]) * Double(stats.estimates[b]) / Double(max(1, stats.chunks))))
                }
            }
            var together = 0.0
            let seldomPairs = pairs.sorted { $0.1 < $1.1 }.prefix { pair in
                together += pair.1
                return together <= Double(budget)
            }.map(\.0)
            // Chosen terms' frequencies are counted exactly while ranking (every chunk holding
            // them is a candidate); the others' come from the sample.
            var frequencies: [Int?] = terms.indices.map { stats.exact || !chosen.contains($0) ? stats.estimates[$0] : nil }
            // An org holding a quarter or more of all chunks: the planner likes to intersect the
            // term postings with the org's index entries, which reads all of them (a quarter of
            // the query's time at 100k chunks) to skip the few other orgs' matches. Written so
            // no index serves it, the org condition is checked on the rows the postings bring.
            let tableChunks = try counts.count("table chunks") {
                Int(try c.query("SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = 'doc_chunks'::regclass")[0].int("n"))
            }
            let orgCondition = tableChunks > 0 && stats.chunks * 4 >= tableChunks ? "(c.org_id = $2) IS TRUE" : "c.org_id = $2"
            var hits: [ScoredChunk] = []
            if !chosen.isEmpty || !seldomPairs.isEmpty {
                let match = (chosen.sorted().map { terms[$0] } + seldomPairs).joined(separator: " | ")
                (hits, frequencies) = try Self.rankKeyword(c, org: org, match: match, terms: terms, frequencies: frequencies, stats: stats,
                                                           k: k, cap: keywordRanking.candidateCap, allowed: allowed, orgCondition: orgCondition)
            }
            guard hits.count < k, !others.isEmpty else { return hits }
            // Fewer than k chunks hold a chosen term (a query of common words, a narrow filter),
            // and all of those are in `hits`: the other terms may match now, in the first chunks
            // of the org's content-hash index that hold one (a pseudo-random few thousand; by
            // the postings, a common term's scan started among other orgs' rows and read tens
            // of thousands of them), so the query stays cheap and is still filled when that many
            // chunks match. Every term's frequency is known by now: both passes score alike.
            let (more, _) = try Self.rankKeyword(c, org: org, match: others.map { terms[$0] }.joined(separator: " | "), terms: terms,
                                                 frequencies: frequencies, stats: stats, k: k, cap: max(k, keywordRanking.fallbackCap),
                                                 allowed: allowed, orgCondition: "c.org_id = $2", inHashOrder: true)
            var byId = Dictionary(hits.map { ($0.chunkId, $0) }, uniquingKeysWith: { a, _ in a })
            for hit in more where byId[hit.chunkId] == nil { byId[hit.chunkId] = hit }
            return Array(byId.values.sorted { ($0.score, $1.chunkId) > ($1.score, $0.chunkId) }.prefix(k))
        }
    }

    /// The collection statistics BM25 needs, from a sample of the org's ready chunks in
    /// content-hash order (a pseudo-random sample that an index reads in order): how many
    /// chunks there are, their average length, and how many hold each term. An org no larger
    /// than the sample is read whole, so its figures are exact; a larger one takes its chunk
    /// count from a per-minute cache and scales the sample's term counts to it.
    ///
    /// A large org's sample is read once a minute as the number of its chunks holding each
    /// lexeme (`KeywordSamples`), so a query looks its terms up in memory: testing each term on
    /// the sample in SQL was most of a keyword query (8 terms: 7-9 ms). A term is one lexeme
    /// (letters and digits), so "the chunk's tsvector holds it" is what `@@` tests.
    func keywordStats(_ c: PostgresConnection, org: OrgID, terms: [String]) throws -> KeywordStats {
        let sampleChunks = keywordRanking.sampleChunks
        if let sample = samples.fresh(org: org) {
            return try keywordStats(c, org: org, sampled: sample.sampled, sampleChunks: sampleChunks, averageLength: sample.averageLength,
                                    counts: terms.map { sample.chunksHolding[$0] ?? 0 })
        }
        if samples.isSmall(org: org) {
            // The whole org is the sample: count the query's terms in SQL, exactly, every time.
            var params: [PostgresValue] = [.text(org), .int(sampleChunks)]
            var from: [String] = []
            var hits: [String] = []
            for (i, term) in terms.enumerated() {
                params.append(.text(term))
                from.append(", to_tsquery('simple', $\(params.count)) q\(i)")
                hits.append(", count(*) FILTER (WHERE s.tsv @@ q\(i)) AS h\(i)")
            }
            let row = try c.query("""
                SELECT count(*) AS sampled, coalesce(avg(s.len), 0)::float8 AS avglen\(hits.joined())
                FROM (SELECT c.folded_tsv AS tsv, c.token_count AS len FROM doc_chunks c JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                      WHERE c.org_id = $1 ORDER BY c.content_sha256 LIMIT $2) s\(from.joined())
                """, params)[0]
            let sampled = Int(try row.int("sampled"))
            if sampled >= sampleChunks { samples.forget(org: org) } // grown: read its sample next time
            return try keywordStats(c, org: org, sampled: sampled, sampleChunks: sampleChunks, averageLength: try row.double("avglen"),
                                    counts: try terms.indices.map { Int(try row.int("h\($0)")) })
        }
        // Read the sample as lexeme counts: the first row (lexeme null) carries the totals.
        var sample = KeywordSamples.Sample(sampled: 0, averageLength: 0, chunksHolding: [:], at: Date())
        for row in try c.query("""
            WITH s AS (SELECT c.folded_tsv AS tsv, c.token_count AS len FROM doc_chunks c JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                       WHERE c.org_id = $1 ORDER BY c.content_sha256 LIMIT $2)
            SELECT NULL::text AS lexeme, count(*) AS n, coalesce(avg(s.len), 0)::float8 AS avglen FROM s
            UNION ALL
            SELECT l.lexeme, count(*) AS n, 0::float8 AS avglen FROM s, unnest(tsvector_to_array(s.tsv)) AS l(lexeme) GROUP BY l.lexeme
            """, [.text(org), .int(sampleChunks)]) {
            if try row.isNull("lexeme") {
                sample.sampled = Int(try row.int("n"))
                sample.averageLength = try row.double("avglen")
            } else {
                sample.chunksHolding[try row.string("lexeme")] = Int(try row.int("n"))
            }
        }
        samples.store(org: org, size: sampleChunks, sample)
        return try keywordStats(c, org: org, sampled: sample.sampled, sampleChunks: sampleChunks, averageLength: sample.averageLength,
                                counts: terms.map { sample.chunksHolding[$0] ?? 0 })
    }

    private func keywordStats(_ c: PostgresConnection, org: OrgID, sampled: Int, sampleChunks: Int, averageLength avgLength: Double,
                              counts: [Int]) throws -> KeywordStats {
        if sampled < sampleChunks {
            return KeywordStats(chunks: sampled, averageLength: avgLength, estimates: counts, exact: true)
        }
        let chunks = max(sampled, try self.counts.count("chunks\u{0}\(org)") {
            Int(try c.query("""
                SELECT count(*) AS n FROM doc_chunks c WHERE c.version_id IN (SELECT v.id FROM doc_versions v WHERE v.org_id = $1 AND v.state = 'ready')
                """, [.text(org)])[0].int("n"))
        })
        let scale = Double(chunks) / Double(sampled)
        return KeywordStats(chunks: chunks, averageLength: avgLength, estimates: counts.map { Int((Double($0) * scale).rounded()) }, exact: false)
    }

    /// BM25 over the chunks that match `match`, at most `cap` of them, best k first; and each
    /// term's frequency, counted among those chunks where `frequencies` holds nil. The
    /// formula is SQLite FTS5's `bm25()` (k1 1.2, b 0.75, IDF ln((N - n + 0.5) / (n + 0.5)) kept
    /// above zero), so both stores rank alike; length is the chunk's token count. Terms are
    /// letters and digits only, and every value (terms, match, frequencies) is bound; only the
    /// number of terms shapes the SQL.
    ///
    /// Postgres exposes no term frequency, but `ts_rank` with all weights 1 scores one lexeme
    /// occurring tf times as H(tf) / (pi^2/6), H(tf) = 1 + 1/4 + ... + 1/tf^2, and
    /// 1 / (pi^2/6 - H(tf)) - 6/pi^2 recovers tf to within 0.1 (0 for an absent term), which
    /// is all BM25's saturation needs. (`ts_rank_cd`, the ranking before, has no notion of
    /// rarity and cost four times as much per chunk.)
    static func rankKeyword(_ c: PostgresConnection, org: OrgID, match: String, terms: [String], frequencies: [Int?], stats: KeywordStats,
                            k: Int, cap: Int, allowed: [String]?, orgCondition: String,
                            inHashOrder: Bool = false) throws -> (hits: [ScoredChunk], frequencies: [Int?]) {
        let k1 = 1.2, b = 0.75
        let avgLength = max(1, stats.averageLength)
        var params: [PostgresValue] = [.text(match), .text(org), .int(cap), .int(k), .double(Double(stats.chunks)),
                                       .double(k1 * (1 - b)), .double(k1 * b / avgLength)]
        var from: [String] = [], ranks: [String] = [], dfColumns: [String] = [], score: [String] = []
        let zeta2 = Double.pi * Double.pi / 6
        let norm = "($6 + $7 * cand.len)"
        let n = Double(stats.chunks)
        let idfs: [Double?] = frequencies.map { $0.map { max(1e-6, log((n - Double(min($0, stats.chunks)) + 0.5) / (Double(min($0, stats.chunks)) + 0.5))) } }
        for (i, term) in terms.enumerated() {
            let idf: String
            if let known = idfs[i] {
                params.append(.double(known))
                idf = "$\(params.count)"
            } else {
                dfColumns.append("count(*) FILTER (WHERE r\(i) > 0) AS df\(i)")
                idf = "greatest(1e-6, ln(($5 - least(f.df\(i), $5) + 0.5) / (least(f.df\(i), $5) + 0.5)))"
            }
            params.append(.text(term))
            from.append("to_tsquery('simple', $\(params.count)) q\(i)")
            ranks.append("ts_rank('{1,1,1,1}', c.folded_tsv, q\(i)) AS r\(i)")
            let tf = "(1 / (\(zeta2) - \(zeta2) * cand.r\(i)) - \(1 / zeta2))"
            score.append("\(idf) * (1 - \(norm) / (\(tf) + \(norm)))")
        }
        var filterSQL = ""
        if let allowed {
            params.append(jsonStrings(allowed))
            filterSQL = " AND c.document_id IN (SELECT jsonb_array_elements_text($\(params.count)))"
        }
        let counted = terms.indices.filter { frequencies[$0] == nil }
        let rows = try c.query("""
            WITH cand AS (
                SELECT c.id, c.document_id, c.version_id, c.token_count AS len, \(ranks.joined(separator: ", "))
                FROM doc_chunks c
                JOIN doc_versions v ON v.id = c.version_id AND v.state = 'ready'
                JOIN documents d ON d.id = c.document_id AND d.deleted_at IS NULL,
                     \(from.joined(separator: ", "))
                WHERE c.folded_tsv @@ to_tsquery('simple', $1) AND \(orgCondition)\(filterSQL)\(inHashOrder ? "\n                ORDER BY c.org_id, c.content_sha256" : "")
                LIMIT $3
            )\(counted.isEmpty ? "" : ", f AS (SELECT \(dfColumns.joined(separator: ", ")) FROM cand)")
            SELECT cand.id, cand.document_id, cand.version_id\(counted.map { ", f.df\($0)" }.joined()),
                   \(k1 + 1) * (\(score.joined(separator: "\n + "))) AS score
            FROM cand\(counted.isEmpty ? "" : ", f")
            ORDER BY score DESC, cand.id
            LIMIT $4
            """, params)
        let hits = try rows.map { row in
            ScoredChunk(chunkId: try row.string("id"), documentId: try row.string("document_id"),
                        versionId: try row.string("version_id"), score: Float(try row.double("score")))
        }
        var known = frequencies
        for i in counted {
            known[i] = try rows.first.map { Int(try $0.int("df\(i)")) } ?? 0
        }
        return (hits, known)
    }
}

/// The keyword ranking's collection figures (see `keywordStats`).
struct KeywordStats {
    var chunks: Int
    var averageLength: Double
    /// Chunks holding each term: counted when `exact`, else scaled from the sample.
    var estimates: [Int]
    var exact: Bool
}

/// The keyword ranking's bounds (tests shrink them to reach the large-org paths with few rows).
struct KeywordRanking: Sendable {
    /// A long question's first distinct terms; each costs a little per ranked chunk.
    var maxTerms = 32
    /// Chunks sampled for the statistics (read as lexeme counts once a minute per large org).
    var sampleChunks = 2000
    /// Chunks the rarest terms may bring before the next one is left to score only (and as
    /// much again for pairs of the others).
    var candidateBudget = 1000
    /// Safety bound on the chunks the first pass reads (the budget runs on estimates), and
    /// the bound on the any-term pass.
    var candidateCap = 20_000
    var fallbackCap = 2000
}

/// Each large org's keyword sample as the number of its chunks holding each lexeme, read at
/// most once a minute (the figures only weigh terms; which chunks match is always read fresh),
/// and which orgs are smaller than the sample (their terms are counted exactly per query).
/// Bounded: a warm process serves every tenant, so expired entries go, and past `maxSamples`
/// (each some 20,000 lexemes) the oldest does too.
final class KeywordSamples: @unchecked Sendable {
    struct Sample {
        var sampled: Int
        var averageLength: Double
        var chunksHolding: [String: Int]
        var at: Date
    }
    static let lifetime: TimeInterval = 60
    static let maxSamples = 32
    private let lock = NSLock()
    private var samples: [OrgID: Sample] = [:]
    private var small: [OrgID: Date] = [:]

    /// A large org's sample read within the last minute.
    func fresh(org: OrgID) -> Sample? {
        let now = Date()
        return lock.withLock { samples[org].flatMap { now.timeIntervalSince($0.at) < Self.lifetime ? $0 : nil } }
    }

    /// Whether the org was smaller than the sample within the last minute.
    func isSmall(org: OrgID) -> Bool {
        let now = Date()
        return lock.withLock { small[org].map { now.timeIntervalSince($0) < Self.lifetime } ?? false }
    }

    /// Keeps a sample of `size` chunks asked for: as the org's figures when it filled the size,
    /// else as a mark that the org is smaller than that.
    func store(org: OrgID, size: Int, _ sample: Sample) {
        let now = Date()
        lock.withLock {
            samples = samples.filter { now.timeIntervalSince($0.value.at) < Self.lifetime }
            small = small.filter { now.timeIntervalSince($0.value) < Self.lifetime }
            if sample.sampled >= size {
                if samples[org] == nil, samples.count >= Self.maxSamples,
                   let oldest = samples.min(by: { $0.value.at < $1.value.at })?.key {
                    samples[oldest] = nil
                }
                samples[org] = sample
                small[org] = nil
            } else {
                small[org] = sample.at
                samples[org] = nil
            }
        }
    }

    func forget(org: OrgID) {
        lock.withLock {
            samples[org] = nil
            small[org] = nil
        }
    }

    var count: Int { lock.withLock { samples.count } }
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
        // Ten usable neighbours for each of the first ten results, four for each result past
        // them. On the benchmark's 100k-chunk org (half of the index, ef_construction 128):
        // top-10 with ef_search 200 has recall@10 0.999 (0.987 with 100); search's pool of 50
        // has recall@50 0.998 at 200 and 0.999 at 400 (5.5 ms), as at 1,000 (11 ms), which the
        // old rule of ten per result chose.
        let wanted = (Double(max(10 * min(k, 10), 4 * k)) / share).rounded(.up)
        // Not a fifth of the usable neighbours wanted even at the largest ef_search: the index
        // would mostly come back short and fall back to the exact scan anyway.
        if wanted > Double(maxEfSearch * 5) { return .exact }
        return .index(efSearch: Int(min(Double(maxEfSearch), max(100, wanted))))
    }
}

/// Counts that steer plans (ready vectors per org and model, vectors per model, ready chunks per
/// org), each refreshed after a minute. A stale count costs speed or ranking precision, never
/// correctness.
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
