import DocumentStore
import Embeddings
import Foundation
import Synchronization

/// A candidate embedding model beside the live one (`EMBEDDING_SHADOW_MODEL`): a sample of live
/// queries also runs against the candidate's vectors (built by shadow jobs on the same chunks)
/// and each comparison is recorded; and `EMBEDDING_CANARY_PERCENT` of orgs, chosen by a stable
/// hash of the org id, are served from the candidate once all their ready versions have its
/// vectors. Vectors of two models are never mixed in one list: a canary org's dense arm is the
/// candidate's alone.
package final class ShadowMigration: Sendable {
    package let store: any Store
    package let candidate: any EmbeddingProvider
    /// Share of live queries (not canary ones) also run against the candidate, 0...1.
    package let sampleRate: Double
    /// Percent of orgs served from the candidate, 0...100.
    package let canaryPercent: Double
    private let coverage = Mutex<[OrgID: (ShadowCoverage, ContinuousClock.Instant)]>([:])
    /// How long an org's coverage is trusted before the store is asked again.
    static let coverageTTL: Duration = .seconds(30)

    package init(store: any Store, candidate: any EmbeddingProvider, sampleRate: Double, canaryPercent: Double) {
        self.store = store
        self.candidate = candidate
        self.sampleRate = sampleRate
        self.canaryPercent = canaryPercent
    }

    /// The candidate's coverage of the org's ready versions (cached for a few seconds).
    package func coverage(_ org: OrgID) throws -> ShadowCoverage {
        let now = ContinuousClock.now
        if let (c, at) = coverage.withLock({ $0[org] }), now - at < Self.coverageTTL { return c }
        let c = try store.shadowCoverage(org: org, model: candidate.modelId)
        coverage.withLock { cache in
            if cache.count > 10_000 { cache = [:] }
            cache[org] = (c, now)
        }
        return c
    }

    /// Whether this org is served from the candidate now: in the canary share and fully shadowed.
    package func servesCandidate(_ org: OrgID) -> Bool {
        guard canaryPercent > 0, Double(org.rolloutBucket) < canaryPercent else { return false }
        return (try? coverage(org).complete) == true
    }

    package func sampled() -> Bool { sampleRate >= 1 || (sampleRate > 0 && Double.random(in: 0..<1) < sampleRate) }

    /// Runs the query against the candidate's vectors and records how it agrees with `live`
    /// (the live model's dense list, best first).
    package func compare(org: OrgID, query: String, live: [String], liveMs: Double, k: Int, filter: SearchFilter) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let vector = try await candidate.embed([query], role: .query)[0].vector
        let shadow = try store.denseSearch(org: org, model: candidate.modelId, query: vector, k: k, filter: filter).map(\.chunkId)
        let shadowMs = (clock.now - started).milliseconds
        try store.recordShadowComparison(ShadowComparison(
            orgId: org, model: candidate.modelId, overlap: Self.overlap(live, shadow, at: 10),
            rankCorrelation: Self.spearman(Array(live.prefix(10)), Array(shadow.prefix(10))), liveMs: liveMs, shadowMs: shadowMs))
    }

    /// Share of `live`'s top `n` that `shadow`'s top `n` also holds (1 when both are empty).
    package static func overlap(_ live: [String], _ shadow: [String], at n: Int) -> Double {
        let a = Array(live.prefix(n)), b = Set(shadow.prefix(n))
        guard !a.isEmpty else { return b.isEmpty ? 1 : 0 }
        return Double(a.filter(b.contains).count) / Double(a.count)
    }

    /// Spearman's rho of the ranks two lists give the items they share; nil under two shared.
    package static func spearman(_ a: [String], _ b: [String]) -> Double? {
        let rb = Dictionary(b.enumerated().map { ($1, $0) }, uniquingKeysWith: { x, _ in x })
        let shared = a.filter { rb[$0] != nil }
        let n = shared.count
        guard n >= 2 else { return nil }
        // Ranks within the shared items, so the statistic is about order, not membership.
        let inB = shared.sorted { rb[$0]! < rb[$1]! }
        let rankB = Dictionary(inB.enumerated().map { ($1, Double($0)) }, uniquingKeysWith: { x, _ in x })
        let d2 = shared.enumerated().reduce(0.0) { acc, e in let d = Double(e.offset) - rankB[e.element]!; return acc + d * d }
        return 1 - 6 * d2 / Double(n * (n * n - 1))
    }
}
