import DocumentStore
import Embeddings
import Foundation
import Logging

/// Drains the job queue: claims one job at a time with a lease, runs it, records the result,
/// and stops when the queue has nothing runnable or the deadline nears, leaving the rest queued
/// for the next run (the per-minute schedule, or the next upload's async call).
///
/// One job at a time, so several workers (Lambda's concurrency, the emulator's pool) share a
/// backlog evenly and a killed worker strands at most one job, until its lease expires.
package struct QueueWorker: Sendable {
    package let pipeline: IndexingPipeline
    /// Unique per process: a lease names the worker holding it.
    package let owner: String
    package let logger: Logger

    package init(pipeline: IndexingPipeline, owner: String, logger: Logger) {
        self.pipeline = pipeline
        self.owner = owner
        self.logger = logger
    }

    /// A unique worker name: function, host process, and a random suffix (pids repeat).
    package static func ownerName(function: String) -> String {
        "\(function):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs jobs until none is runnable or `deadline` (already net of the safety margin) passes.
    package func drain(until deadline: ContinuousClock.Instant, maxJobs: Int = .max) async -> DrainReport {
        var report = DrainReport()
        let store = pipeline.store
        while report.claimed < maxJobs, ContinuousClock.now < deadline {
            let jobs: [Job]
            do {
                jobs = try store.claimJobs(owner: owner, limit: 1, lease: pipeline.configuration.lease, types: nil)
            } catch {
                logger.error("claiming jobs failed", metadata: ["error": "\(error)"])
                report.errors += 1
                break
            }
            guard let job = jobs.first else { break }
            report.claimed += 1
            await run(job, deadline: deadline, report: &report)
        }
        return report
    }

    func run(_ job: Job, deadline: ContinuousClock.Instant, report: inout DrainReport) async {
        let started = ContinuousClock.now
        var meta: Logger.Metadata = ["job_id": "\(job.id)", "type": "\(job.type.rawValue)", "org_id": "\(job.orgId)",
                                     "attempt": "\(job.attempts)", "document_id": "\(job.documentId ?? "-")"]
        let store = pipeline.store
        func ms() -> Int {
            let d = ContinuousClock.now - started
            return Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            // The org is billed for its own embeddings, and its budget applies (EmbeddingProviderPool).
            let outcome = try await EmbeddingCallContext.$current.withValue(EmbeddingCallContext(org: job.orgId.rawValue, purpose: .bulk)) {
                try await pipeline.run(job, owner: owner, deadline: deadline)
            }
            meta["duration_ms"] = "\(ms())"
            switch outcome {
            case .yielded(let why):
                report.yielded += 1
                _ = try store.failJob(jobId: job.id, owner: owner, error: why, retryable: true, backoff: Backoff(base: 0, cap: 0))
                logger.notice("job yielded at the deadline", metadata: meta.merging(["reason": "\(why)"]) { $1 })
                return
            case .indexed(let s):
                report.indexed += 1
                report.chunks += s.chunks
                report.embedded += s.embedded
                report.reused += s.reused
                meta["version_id"] = "\(s.versionId)"
                meta["chunks"] = "\(s.chunks)"
                meta["embedded"] = "\(s.embedded)"
                meta["reused"] = "\(s.reused)"
            case .skipped(let why):
                report.skipped += 1
                meta["skipped"] = "\(why)"
            case .purged:
                report.purged += 1
            }
            try store.completeJob(jobId: job.id, owner: owner, durationMs: ms())
            logger.info("job done", metadata: meta)
            // A new live version gets the candidate model's vectors too, in a job of its own.
            if case .indexed = outcome, job.params[ShadowBuild.parameter] == nil, let model = pipeline.shadowEmbedder?.modelId,
               let document = job.documentId {
                _ = try? store.enqueue(ShadowBuild.job(org: job.orgId, document: document, model: model))
            }
        } catch is IndexingPipeline.LeaseLost {
            report.leaseLost += 1
            logger.warning("lease lost; the job's new holder finishes it", metadata: meta)
        } catch StoreError.leaseLost {
            report.leaseLost += 1
            logger.warning("lease lost before the job was recorded; its new holder finishes it", metadata: meta)
        } catch let failure as JobFailure where failure.deferUntil != nil {
            do {
                _ = try store.deferJob(jobId: job.id, owner: owner, until: failure.deferUntil!, reason: failure.message)
                report.deferred += 1
                logger.notice("job deferred", metadata: meta.merging(["reason": "\(failure.message)"]) { $1 })
            } catch {
                report.errors += 1
                logger.error("recording a deferred job failed; its lease will expire and it runs again",
                             metadata: meta.merging(["error": "\(error)"]) { $1 })
            }
        } catch let failure as JobFailure {
            do {
                let after = try store.failJob(jobId: job.id, owner: owner, error: failure.message, retryable: failure.retryable,
                                              backoff: pipeline.configuration.backoff)
                if after.status == .dead { report.dead += 1 } else { report.failed += 1 }
                meta["status"] = "\(after.status.rawValue)"
                meta["retryable"] = "\(failure.retryable)"
                meta["error"] = "\(failure.message)"
                logger.warning(after.status == .dead ? "job dead" : "job failed; retried after backoff", metadata: meta)
            } catch {
                report.errors += 1
                logger.error("recording a failed job failed; its lease will expire and it runs again",
                             metadata: meta.merging(["error": "\(error)"]) { $1 })
            }
        } catch {
            report.errors += 1
            logger.error("recording a job failed; its lease will expire and it runs again",
                         metadata: meta.merging(["error": "\(error)"]) { $1 })
        }
    }
}

/// What one drain did; the worker's invocation answers with it.
package struct DrainReport: Sendable, Equatable, Codable {
    package var claimed = 0
    package var indexed = 0
    package var skipped = 0
    package var purged = 0
    package var yielded = 0
    /// Put back in the queue to wait (a spent budget), attempts untouched.
    package var deferred = 0
    package var failed = 0
    package var dead = 0
    package var leaseLost = 0
    package var errors = 0
    package var chunks = 0
    package var embedded = 0
    package var reused = 0

    package init() {}

    enum CodingKeys: String, CodingKey {
        case claimed, indexed, skipped, purged, yielded, deferred, failed, dead, errors, chunks, embedded, reused
        case leaseLost = "lease_lost"
    }
}
