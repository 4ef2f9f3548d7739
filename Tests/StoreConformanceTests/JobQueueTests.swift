import DocumentStore
import Foundation
import Testing

/// The durable job queue: leases, contention, crashes, backoff and dead-lettering.
@Suite struct JobQueueTests {
    @Test(arguments: Backend.allCases)
    func idempotencyKeyReturnsTheLiveJob(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let first = try store.enqueue(NewJob(orgId: "acme", type: .reembed, documentId: "d1", idempotencyKey: "reembed:d1"))
        let second = try store.enqueue(NewJob(orgId: "acme", type: .reembed, documentId: "d1", idempotencyKey: "reembed:d1"))
        #expect(first.created && !second.created)
        #expect(second.job.id == first.job.id)
        // Once finished, the key may start new work.
        let claimed = try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil)
        #expect(claimed.map(\.id) == [first.job.id])
        try store.completeJob(jobId: first.job.id, owner: "w", durationMs: 12)
        let done = try #require(try store.job(org: "acme", id: first.job.id))
        #expect(done.status == .succeeded)
        #expect(done.durationMs == 12)
        #expect(done.finishedAt != nil)
        let third = try store.enqueue(NewJob(orgId: "acme", type: .reembed, documentId: "d1", idempotencyKey: "reembed:d1"))
        #expect(third.created)
    }

    /// `GET /v1/jobs`: one org's jobs only, newest first, filtered by status, paged without
    /// repeats or gaps.
    @Test(arguments: Backend.allCases)
    func listJobsIsTenantScopedNewestFirstAndPaged(_ backend: Backend) throws {
        let store = try backend.fresh().store
        var mine: [String] = []
        for i in 0..<5 {
            mine.append(try store.enqueue(NewJob(orgId: "acme", type: .ingest, documentId: "d\(i)")).job.id)
            _ = try store.enqueue(NewJob(orgId: "globex", type: .ingest, documentId: "g\(i)"))
        }
        let claimed = try store.claimJobs(owner: "w", limit: 10, lease: 30, types: nil)
        let done = try #require(claimed.first { $0.orgId == "acme" })
        try store.completeJob(jobId: done.id, owner: "w", durationMs: 3)

        let first = try store.listJobs(org: "acme", status: nil, limit: 3, cursor: nil)
        #expect(first.items.count == 3)
        let cursor = try #require(first.nextCursor)
        let second = try store.listJobs(org: "acme", status: nil, limit: 3, cursor: cursor)
        #expect(second.nextCursor == nil)
        let all = first.items + second.items
        #expect(Set(all.map(\.id)) == Set(mine))
        #expect(all.allSatisfy { $0.orgId == "acme" })
        #expect(all.map(\.createdAt) == all.map(\.createdAt).sorted(by: >))
        let succeeded = try store.listJobs(org: "acme", status: .succeeded, limit: 10, cursor: nil).items
        #expect(succeeded.map(\.id) == [done.id])
        #expect(try store.listJobs(org: "initech", status: nil, limit: 10, cursor: nil).items.isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func concurrentClaimersTakeEachJobOnce(_ backend: Backend) async throws {
        let db = try backend.fresh()
        var ids: Set<String> = []
        for i in 0..<60 { ids.insert(try db.store.enqueue(NewJob(orgId: "org\(i % 3)", type: .ingest, documentId: "d\(i)")).job.id) }
        let workers = try (0..<4).map { _ in try db.connection() }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for (n, store) in workers.enumerated() {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let batch = try store.claimJobs(owner: "worker-\(n)", limit: 3, lease: 60, types: [.ingest])
                        if batch.isEmpty { break }
                        #expect(batch.allSatisfy { $0.status == .running && $0.leaseOwner == "worker-\(n)" && $0.attempts == 1 })
                        mine += batch.map(\.id)
                    }
                    return mine
                }
            }
            var all: [String] = []
            for try await c in group { all += c }
            return all
        }
        #expect(claimed.count == 60)
        #expect(Set(claimed) == ids)
    }

    @Test(arguments: Backend.allCases)
    func aCrashedWorkersJobIsReclaimedWhenItsLeaseExpires(_ backend: Backend) async throws {
        let db = try backend.fresh()
        let store = db.store
        let job = try store.enqueue(NewJob(orgId: "acme", type: .ingest)).job
        let crashed = try store.claimJobs(owner: "crashed", limit: 5, lease: 0.3, types: nil)
        #expect(crashed.map(\.id) == [job.id])
        #expect(try store.heartbeat(jobId: job.id, owner: "crashed", lease: 0.3))
        // Not claimable while the lease holds.
        #expect(try store.claimJobs(owner: "rescuer", limit: 5, lease: 30, types: nil).isEmpty)
        try await Task.sleep(for: .milliseconds(500))
        let rescued = try db.connection().claimJobs(owner: "rescuer", limit: 5, lease: 30, types: nil)
        #expect(rescued.map(\.id) == [job.id])
        #expect(rescued.first?.attempts == 2)
        #expect(rescued.first?.leaseOwner == "rescuer")
        // The first worker, back from the dead, can no longer touch it.
        #expect(try store.heartbeat(jobId: job.id, owner: "crashed", lease: 30) == false)
        #expect(throws: StoreError.leaseLost(jobId: job.id)) { try store.completeJob(jobId: job.id, owner: "crashed", durationMs: 1) }
        #expect(throws: StoreError.leaseLost(jobId: job.id)) {
            try store.failJob(jobId: job.id, owner: "crashed", error: "x", retryable: true, backoff: Backoff())
        }
        try store.completeJob(jobId: job.id, owner: "rescuer", durationMs: 5)
        #expect(try store.job(org: "acme", id: job.id)?.status == .succeeded)
    }

    @Test(arguments: Backend.allCases)
    func theVersionAnAttemptBuildsIsKeptForTheNextAttempt(_ backend: Backend) async throws {
        let db = try backend.fresh()
        let store = db.store
        let job = try store.enqueue(NewJob(orgId: "acme", type: .ingest, documentId: "d1")).job
        #expect(job.versionId == nil)
        _ = try store.claimJobs(owner: "first", limit: 1, lease: 0.3, types: nil)
        #expect(try store.attachVersion(jobId: job.id, owner: "first", versionId: "v-first"))
        #expect(try store.attachVersion(jobId: job.id, owner: "someone-else", versionId: "v-x") == false)
        try await Task.sleep(for: .milliseconds(500))
        // The worker died; whoever re-claims the job learns which version it left half-built.
        let again = try db.connection().claimJobs(owner: "second", limit: 1, lease: 30, types: nil)
        #expect(again.first?.versionId == "v-first")
        #expect(try store.attachVersion(jobId: job.id, owner: "first", versionId: "v-late") == false)
        #expect(try store.attachVersion(jobId: job.id, owner: "second", versionId: "v-second"))
        #expect(try store.job(org: "acme", id: job.id)?.versionId == "v-second")
    }

    @Test(arguments: Backend.allCases)
    func failuresBackOffThenGoDeadWithTheErrorKept(_ backend: Backend) async throws {
        let store = try backend.fresh().store
        let job = try store.enqueue(NewJob(orgId: "acme", type: .ingest, maxAttempts: 3)).job

        _ = try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil)
        // An hour: it must not come back while the rest of this test runs, however slow the machine
        // (at 60 s, a starved run claimed it again below).
        let retried = try store.failJob(jobId: job.id, owner: "w", error: "timeout talking to the model", retryable: true,
                                        backoff: Backoff(base: 3600, cap: 7200))
        #expect(retried.status == .queued)
        #expect(retried.error == "timeout talking to the model")
        #expect(retried.runAfter.timeIntervalSinceNow > 50)
        #expect(try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil).isEmpty)  // backing off

        // A short backoff: claimable again soon.
        let job2 = try store.enqueue(NewJob(orgId: "acme", type: .ingest, maxAttempts: 2)).job
        _ = try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil)
        let r2 = try store.failJob(jobId: job2.id, owner: "w", error: "first", retryable: true, backoff: Backoff(base: 0.2, cap: 1))
        #expect(r2.status == .queued)
        try await Task.sleep(for: .milliseconds(350))
        let again = try store.claimJobs(owner: "w", limit: 1, lease: 30, types: nil)
        #expect(again.map(\.id) == [job2.id])
        #expect(again.first?.attempts == 2)
        let dead = try store.failJob(jobId: job2.id, owner: "w", error: "second", retryable: true, backoff: Backoff(base: 0.2, cap: 1))
        #expect(dead.status == .dead)
        #expect(dead.error == "second")
        #expect(dead.finishedAt != nil)

        // A non-retryable failure is dead at once.
        let job3 = try store.enqueue(NewJob(orgId: "acme", type: .ingest, maxAttempts: 5)).job
        try await Task.sleep(for: .milliseconds(10))
        let claimed = try store.claimJobs(owner: "w", limit: 5, lease: 30, types: [.ingest])
        #expect(claimed.map(\.id) == [job3.id])
        let fatal = try store.failJob(jobId: job3.id, owner: "w", error: "unsupported file", retryable: false, backoff: Backoff())
        #expect(fatal.status == .dead)
        #expect(fatal.attempts == 1)
    }

    @Test(arguments: Backend.allCases)
    func claimsRespectTypesAndRunAfter(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let later = try store.enqueue(NewJob(orgId: "acme", type: .ingest, runAfter: Date().addingTimeInterval(3600))).job
        let delete = try store.enqueue(NewJob(orgId: "acme", type: .delete)).job
        #expect(try store.claimJobs(owner: "w", limit: 10, lease: 30, types: [.ingest]).isEmpty)
        #expect(try store.claimJobs(owner: "w", limit: 10, lease: 30, types: [.delete, .ingest]).map(\.id) == [delete.id])
        #expect(try store.job(org: "acme", id: later.id)?.status == .queued)
        #expect(throws: StoreError.self) { try store.enqueue(NewJob(orgId: "acme", type: .ingest, maxAttempts: 0)) }
    }
}

/// The query-vector cache's second level in both stores.
@Suite struct SharedCacheStoreTests {
    @Test(arguments: Backend.allCases)
    func entriesAreReadUntilTheyExpireAndReplaced(_ backend: Backend) throws {
        let store = try backend.fresh().store
        let later = Date().addingTimeInterval(3600)
        try store.putSharedCacheEntries([("a", [1, 2, 3]), ("b", [4])], expiresAt: later)
        #expect(try store.sharedCacheEntries(ids: ["a", "b", "c"]) == ["a": [1, 2, 3], "b": [4]])
        try store.putSharedCacheEntries([("a", [9])], expiresAt: later)
        #expect(try store.sharedCacheEntries(ids: ["a"]) == ["a": [9]])
        // An entry past its time is never read, and a later write clears it away.
        try store.putSharedCacheEntries([("old", [7])], expiresAt: Date().addingTimeInterval(-1))
        #expect(try store.sharedCacheEntries(ids: ["old"]).isEmpty)
        try store.putSharedCacheEntries([("new", [8])], expiresAt: later)
        #expect(try store.sharedCacheEntries(ids: ["old", "new"]) == ["new": [8]])
        #expect(try store.sharedCacheEntries(ids: []).isEmpty)
    }
}
