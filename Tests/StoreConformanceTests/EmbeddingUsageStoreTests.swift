import DocumentStore
import Foundation
import Testing

/// The budgets' ledger and deferred jobs, alike on both stores.
@Suite struct EmbeddingUsageStoreTests {
    @Test(arguments: Backend.allCases)
    func usageAddsUpPerDayProviderAndOrg(_ backend: Backend) throws {
        let db = try backend.fresh()
        let store = db.store
        try store.recordEmbeddingUsage(.init(orgId: "acme", day: "2026-12-06", provider: "api", model: "m", tokens: 100, costUSD: 0.25))
        try store.recordEmbeddingUsage(.init(orgId: "acme", day: "2026-12-07", provider: "api", model: "m", tokens: 40, costUSD: 0.1))
        // A second process adds to the same row.
        try db.connection().recordEmbeddingUsage(.init(orgId: "acme", day: "2026-12-07", provider: "api", model: "m", tokens: 60, costUSD: 0.15))
        try store.recordEmbeddingUsage(.init(orgId: "acme", day: "2026-12-07", provider: "native", model: "m", tokens: 500, costUSD: 0))
        try store.recordEmbeddingUsage(.init(orgId: "globex", day: "2026-12-07", provider: "api", model: "m", tokens: 1000, costUSD: 2.5))

        let acme = try store.embeddingUsage(org: "acme", fromDay: "2026-12-01", toDay: "2026-12-31")
        #expect(acme == [
            EmbeddingUsageRow(day: "2026-12-06", provider: "api", model: "m", tokens: 100, costUSD: 0.25, calls: 1),
            EmbeddingUsageRow(day: "2026-12-07", provider: "api", model: "m", tokens: 100, costUSD: 0.25, calls: 2),
            EmbeddingUsageRow(day: "2026-12-07", provider: "native", model: "m", tokens: 500, costUSD: 0, calls: 1),
        ])
        #expect(try store.embeddingUsage(org: "acme", fromDay: "2026-12-07", toDay: "2026-12-07").count == 2)
        // Without an org: the deployment, every org summed.
        let all = try store.embeddingUsage(org: nil, fromDay: "2026-12-07", toDay: "2026-12-07")
        #expect(all.first { $0.provider == "api" }?.tokens == 1100)
        #expect(abs((all.first { $0.provider == "api" }?.costUSD ?? 0) - 2.75) < 1e-9)
        #expect(try store.embeddingUsage(org: "initech", fromDay: "2026-12-01", toDay: "2026-12-31").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func aDeferredJobWaitsWithoutSpendingAnAttempt(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let job = try store.enqueue(NewJob(orgId: "acme", type: .ingest, documentId: "d1", maxAttempts: 2)).job
        let claimed = try #require(try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil).first)
        #expect(claimed.attempts == 1)
        #expect(throws: StoreError.leaseLost(jobId: job.id)) {
            try store.deferJob(jobId: job.id, owner: "someone-else", until: Date(), reason: "no")
        }
        let deferred = try store.deferJob(jobId: job.id, owner: "w", until: Date().addingTimeInterval(3600), reason: "deferred: budget spent")
        #expect(deferred.status == .queued && deferred.attempts == 0 && deferred.error == "deferred: budget spent")
        #expect(deferred.leaseOwner == nil)
        // Not runnable before its time.
        #expect(try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil).isEmpty)
        #expect(throws: StoreError.leaseLost(jobId: job.id)) {
            try store.deferJob(jobId: job.id, owner: "w", until: Date(), reason: "not running")
        }
        // Claimed again once its time comes (here: its lease taken over by a new claim after a past deferral).
        let fresh = try store.enqueue(NewJob(orgId: "acme", type: .ingest, documentId: "d2", maxAttempts: 2)).job
        _ = try #require(try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil).first { $0.id == fresh.id })
        // Deferred over and over, it never runs out of attempts (max 2 here).
        for _ in 0..<3 {
            _ = try store.deferJob(jobId: fresh.id, owner: "w", until: Date().addingTimeInterval(-1), reason: "again")
            let again = try #require(try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil).first)
            #expect(again.id == fresh.id && again.attempts == 1)
        }
    }
}
