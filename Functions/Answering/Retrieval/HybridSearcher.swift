import DocumentStore
import Embeddings
import Foundation
import JSON
import Reranking

/// Hybrid retrieval over an org's ready versions: a dense arm (the query embedded with each
/// model the org's vectors use) and a keyword arm (the store's full-text search, accents
/// ignored), fused by Reciprocal Rank Fusion, optionally grouped by document.
///
/// Tenant isolation is the store's: every primitive takes the org, so another org's document
/// ids in a filter simply match nothing.
package struct HybridSearcher: Sendable {
    package let store: any Store
    /// The configured provider; its model is the one new vectors are made with.
    package let embedder: any EmbeddingProvider
    /// Providers for other models an org may still have vectors of (mid-migration), by model id.
    package let otherModels: @Sendable (String) -> (any EmbeddingProvider)?
    package var rrfK: Double
    package var denseWeight: Double
    package var keywordWeight: Double
    /// A candidate model in shadow or canary (`EMBEDDING_SHADOW_MODEL`), if any.
    package var shadow: ShadowMigration?
    /// The reranker a request's `rerank` uses, and how many fused candidates it reorders.
    package var reranker: (any Reranker)?
    package var rerankCandidates = 50
    /// Whether a reranker is configured.
    package var reranks: Bool { reranker != nil }

    package init(store: any Store, embedder: any EmbeddingProvider,
                otherModels: @escaping @Sendable (String) -> (any EmbeddingProvider)? = { _ in nil },
                rrfK: Double = SearchDefaults.rrfK, denseWeight: Double = SearchDefaults.denseWeight,
                keywordWeight: Double = SearchDefaults.keywordWeight) {
        self.store = store
        self.embedder = embedder
        self.otherModels = otherModels
        self.rrfK = rrfK
        self.denseWeight = denseWeight
        self.keywordWeight = keywordWeight
    }

    struct ArmHit: Sendable {
        var chunk: ScoredChunk
        var model: String?
    }

    package func search(org: OrgID, _ request: SearchRequest) async throws -> SearchResponse {
        // The query's embedding is the org's (billed to it by a paid provider, never refused for budget).
        try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: org.rawValue, purpose: .query)) {
            try await scopedSearch(org: org, request)
        }
    }

    private func scopedSearch(org: OrgID, _ request: SearchRequest) async throws -> SearchResponse {
        let started = ContinuousClock.now
        let pool = SearchDefaults.candidates(limit: request.limit, grouping: request.groupBy)
        var warnings: [String] = []
        var truncated = false
        var queryTokens: Int? = nil
        var timings = SearchTimings()
        let clock = ContinuousClock()

        // A store that searches in its own server (Postgres) takes the keyword query now, to run
        // while this process embeds the query; one that searches on this process's CPUs (SQLite)
        // gets it after the embedding, which would otherwise lose the cores it splits one query
        // across (measured: 4 ms alone, 15-20 ms next to the keyword arm, on two cores).
        var keywordArm = request.mode != .dense && store.searchesRunElsewhere
            ? Self.keywordArm(store: store, org: org, query: request.query, k: pool, filter: request.filter) : nil
        // The query embedded with each model the org has ready vectors of. Where that list is a
        // round trip away (Postgres), it is asked for while the query is embedded with the
        // configured model, which is what an org's vectors almost always are; a local model
        // only, as an embedding the org turns out not to need must cost no request.
        var queries: [(model: String, vector: [Float])] = []
        let embedStarted = clock.now
        // A canary org's dense arm is the candidate model's, over the same chunks.
        let canary = request.mode != .keyword ? shadow.flatMap { $0.servesCandidate(org) ? $0.candidate : nil } : nil
        if let canary {
            let query = try await canary.embed([request.query], role: .query)[0]
            truncated = query.truncated
            queryTokens = query.untruncatedTokenCount
            queries.append((canary.modelId, query.vector))
        } else if request.mode != .keyword {
            let modelsArm = store.searchesRunElsewhere ? ThreadFuture { [store] in try store.readyModels(org: org) } : nil
            let early = modelsArm != nil && embedder.runsLocally ? try await embedder.embed([request.query], role: .query)[0] : nil
            let models = try await modelsArm?.value ?? store.readyModels(org: org)
            // The configured model first, so ties in the merge go to it.
            for model in models.keys.sorted(by: { ($0 == embedder.modelId ? 0 : 1, $0) < ($1 == embedder.modelId ? 0 : 1, $1) }) {
                guard let provider = model == embedder.modelId ? embedder : otherModels(model) else {
                    warnings.append("Documents embedded with \(model) are matched by keyword only: this deployment embeds queries "
                                    + "with \(embedder.modelId). Re-embed them (POST /v1/reembed) to search them densely.")
                    continue
                }
                let query = if model == embedder.modelId, let early { early } else { try await provider.embed([request.query], role: .query)[0] }
                if model == embedder.modelId || queryTokens == nil {
                    truncated = query.truncated
                    queryTokens = query.untruncatedTokenCount
                }
                queries.append((model, query.vector))
            }
        }

        if !queries.isEmpty { timings.embedMs = (clock.now - embedStarted).milliseconds }
        // Then the two arms side by side: each is one thread's scan or query, so on two cores
        // the slower sets the latency instead of the sum of both.
        if keywordArm == nil, request.mode != .dense {
            keywordArm = Self.keywordArm(store: store, org: org, query: request.query, k: pool, filter: request.filter)
        }
        // Dense arm: one list per model, merged by rank.
        let denseStarted = clock.now
        let dense = Self.mergeByRank(try queries.map { q in
            try store.denseSearch(org: org, model: q.model, query: q.vector, k: pool, filter: request.filter)
                .map { ArmHit(chunk: $0, model: q.model) }
        })
        if !queries.isEmpty { timings.denseMs = (clock.now - denseStarted).milliseconds }
        // A sample of live queries also runs against the candidate, compared with the live
        // model's own list (its cost falls on the sampled requests only).
        if canary == nil, let shadow, let live = queries.first(where: { $0.model == embedder.modelId }), shadow.sampled() {
            let liveList = dense.filter { $0.model == live.model }.map(\.chunk.chunkId)
            // Shadow mode must not touch the answer: a failing candidate costs a comparison, never the request.
            try? await shadow.compare(org: org, query: request.query, live: liveList,
                                      liveMs: timings.embedMs + timings.denseMs, k: pool, filter: request.filter)
        }
        let (keyword, keywordTook) = try await keywordArm?.value ?? ([], .zero)
        timings.keywordMs = keywordTook.milliseconds

        // Rank, then score by the mode's rule.
        var ranked: [(id: String, documentId: String, score: Double, denseRank: Int?, keywordRank: Int?)] = []
        let denseById = Dictionary(dense.enumerated().map { ($1.chunk.chunkId, ($0 + 1, $1)) }, uniquingKeysWith: { a, _ in a })
        let keywordById = Dictionary(keyword.enumerated().map { ($1.chunk.chunkId, ($0 + 1, $1)) }, uniquingKeysWith: { a, _ in a })
        switch request.mode {
        case .dense:
            ranked = dense.enumerated().map { (i, h) in (h.chunk.chunkId, h.chunk.documentId, Double(h.chunk.score), i + 1, keywordById[h.chunk.chunkId]?.0) }
        case .keyword:
            ranked = keyword.enumerated().map { (i, h) in (h.chunk.chunkId, h.chunk.documentId, Double(h.chunk.score), nil, i + 1) }
        case .hybrid:
            // A request that sets any fusion field gets exactly what it asked for over the
            // deployment's settings (search-eval's sweeps); otherwise the policy picks by query.
            let o = request.fusion
            let fusion: RankFusion
            if !o.isEmpty {
                fusion = RankFusion(k: o.k ?? rrfK, weights: [o.denseWeight ?? denseWeight, o.keywordWeight ?? keywordWeight])
            } else {
                let chosen = FusionPolicy(denseModel: embedder.modelId, k: rrfK, denseWeight: denseWeight, keywordWeight: keywordWeight)
                    .settings(for: request.query)
                fusion = RankFusion(k: chosen.k, weights: [chosen.denseWeight, chosen.keywordWeight])
            }
            let documents = Dictionary((dense + keyword).map { ($0.chunk.chunkId, $0.chunk.documentId) }, uniquingKeysWith: { a, _ in a })
            ranked = fusion.fuse([dense.map(\.chunk.chunkId), keyword.map(\.chunk.chunkId)]).map {
                ($0.id, documents[$0.id]!, $0.score, $0.ranks[0], $0.ranks[1])
            }
        }
        if let min = request.minScore { ranked = ranked.filter { $0.score >= Double(min) } }
        var rerankScores: [String: Double] = [:]
        if request.rerank {
            if let reranker {
                let rerankStarted = clock.now
                do {
                    (ranked, rerankScores) = try await Self.reranked(ranked, query: request.query, reranker: reranker,
                                                                     candidates: rerankCandidates, store: store, org: org)
                } catch {
                    // The fused order is still an answer: the request goes on without the reranker.
                    warnings.append("Reranking failed (\(error)); the results are in fused order.")
                }
                timings.rerankMs = (clock.now - rerankStarted).milliseconds
            } else {
                warnings.append("`rerank` was asked for, but this deployment has no reranker (RERANK_PROVIDER); the results are in fused order.")
            }
        }
        if request.groupBy == .document {
            // A document scores as its best chunk (ranked is best first), which is its snippet.
            var seen = Set<String>()
            ranked = ranked.filter { seen.insert($0.documentId).inserted }
        }
        let total = ranked.count
        let page = Array(ranked.prefix(request.limit))

        // Texts and titles for the page only; on Postgres the two queries run side by side, on
        // the pool's two connections.
        let pageStarted = clock.now
        let documentIds = Array(Set(page.map(\.documentId)))
        let titlesArm = store.searchesRunElsewhere && !page.isEmpty
            ? ThreadFuture { [store] in try store.documentTitles(org: org, ids: documentIds) } : nil
        let chunks = Dictionary(try store.chunks(org: org, ids: page.map(\.id)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let titles = try await titlesArm?.value ?? store.documentTitles(org: org, ids: documentIds)
        timings.pageMs = (clock.now - pageStarted).milliseconds
        let hits: [SearchHit] = page.compactMap { r in
            // A chunk deleted between the ranking and this read is dropped, not returned empty.
            guard let chunk = chunks[r.id], let title = titles[r.documentId] else { return nil }
            let d = denseById[r.id]?.1
            return SearchHit(chunkId: r.id, documentId: r.documentId, title: title, text: chunk.content,
                             charStart: chunk.charStart, charEnd: chunk.charEnd, score: r.score,
                             denseRank: r.denseRank, keywordRank: r.keywordRank,
                             denseScore: d.map { Double($0.chunk.score) },
                             keywordScore: keywordById[r.id].map { Double($0.1.chunk.score) }, model: d?.model,
                             rerankScore: rerankScores[r.id])
        }
        let took = ContinuousClock.now - started
        return SearchResponse(
            results: hits, mode: request.mode.rawValue, groupBy: request.groupBy.rawValue,
            queryModel: request.mode == .keyword ? nil : canary?.modelId ?? embedder.modelId, total: total,
            tookMs: took.milliseconds,
            queryTruncated: truncated, queryTokens: queryTokens, warnings: warnings, timings: timings)
    }

    /// The first `candidates` of `ranked` in the reranker's order (ties keep the fused order),
    /// the rest after them as they were; and each reranked chunk's score.
    static func reranked(_ ranked: [(id: String, documentId: String, score: Double, denseRank: Int?, keywordRank: Int?)],
                         query: String, reranker: any Reranker, candidates: Int, store: any Store, org: OrgID) async throws
    -> ([(id: String, documentId: String, score: Double, denseRank: Int?, keywordRank: Int?)], [String: Double]) {
        let head = Array(ranked.prefix(candidates))
        guard head.count > 1 else { return (ranked, [:]) }
        let texts = Dictionary(try store.chunks(org: org, ids: head.map(\.id)).map { ($0.id, $0.content) }, uniquingKeysWith: { a, _ in a })
        let present = head.filter { texts[$0.id] != nil }
        let scores = try await reranker.rerank(query: query, documents: present.map { texts[$0.id]! })
        let order = present.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let byId = Dictionary(zip(present.map(\.id), scores), uniquingKeysWith: { a, _ in a })
        return (order.map { present[$0] } + ranked.dropFirst(head.count), byId)
    }

    /// Started now on a thread of its own, so it runs while the dense arm's call blocks this task's.
    static func keywordArm(store: any Store, org: OrgID, query: String, k: Int, filter: SearchFilter) -> ThreadFuture<([ArmHit], Duration)> {
        ThreadFuture {
            let started = ContinuousClock.now
            let hits = try store.keywordSearch(org: org, query: query, k: k, filter: filter).map { ArmHit(chunk: $0, model: nil) }
            return (hits, ContinuousClock.now - started)
        }
    }

    /// Several models' lists into one: by rank, then score, so each model's best comes first
    /// (cosines of two models are not comparable, ranks are).
    static func mergeByRank(_ lists: [[ArmHit]]) -> [ArmHit] {
        guard lists.count > 1 else { return lists.first ?? [] }
        var out: [ArmHit] = []
        var seen = Set<String>()
        let longest = lists.map(\.count).max() ?? 0
        for rank in 0..<longest {
            let tier = lists.compactMap { rank < $0.count ? $0[rank] : nil }.sorted { $0.chunk.score > $1.chunk.score }
            for hit in tier where seen.insert(hit.chunk.chunkId).inserted { out.append(hit) }
        }
        return out
    }
}
