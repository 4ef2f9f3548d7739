import DocumentStore
import Foundation
import Ingestion

/// How the worker runs, from the environment. Every value has a default that suits Lambda
/// (a 300 s function timeout); tests shorten the lease and the backoff.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `WORKER_LEASE_SECONDS` | 60 | a claimed job's lease; renewed while the job makes progress |
/// | `WORKER_EMBED_BATCH` | 32 | chunks per embedding call (and per chunk write) |
/// | `WORKER_DEADLINE_MARGIN_SECONDS` | 10 | stop claiming (and yield a long job) this long before the invocation's deadline |
/// | `JOB_MAX_ATTEMPTS` | 5 | attempts of a re-embed job before it is `dead` |
/// | `JOB_BACKOFF_BASE_SECONDS`, `JOB_BACKOFF_CAP_SECONDS` | 10, 900 | retry delay: base x 2^(attempt-1), capped, jittered by the store |
/// | `CHUNK_SIZE`, `CHUNK_OVERLAP` | 200, 40 | chunking for documents that have no version yet |
/// | `STALE_SCAN_MAX_DOCUMENTS` | 5000 | re-embeds the nightly scan queues per run |
/// | `VERSION_RETENTION_DAYS` | 30 | how long a superseded version (what a rollback serves again) is kept |
package struct WorkerConfiguration: Sendable, Equatable {
    package var lease: Double = 60
    package var embedBatch: Int = 32
    package var deadlineMargin: Double = 10
    package var maxAttempts: Int = 5
    package var backoff: Backoff = Backoff()
    package var chunking: ChunkerConfiguration = .default
    package var staleScanLimit: Int = 5000
    package var versionRetentionDays: Double = 30

    package init() {}

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    package static func fromEnvironment(_ env: [String: String]) throws(Invalid) -> WorkerConfiguration {
        var c = WorkerConfiguration()
        func number(_ name: String, _ range: ClosedRange<Double>) throws(Invalid) -> Double? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            guard let v = Double(raw), range.contains(v) else {
                throw Invalid(description: "\(name) must be a number from \(range.lowerBound) to \(range.upperBound), not `\(raw)`")
            }
            return v
        }
        c.lease = try number("WORKER_LEASE_SECONDS", 1...3600) ?? c.lease
        c.embedBatch = Int(try number("WORKER_EMBED_BATCH", 1...512) ?? Double(c.embedBatch))
        c.deadlineMargin = try number("WORKER_DEADLINE_MARGIN_SECONDS", 0...600) ?? c.deadlineMargin
        c.maxAttempts = Int(try number("JOB_MAX_ATTEMPTS", 1...100) ?? Double(c.maxAttempts))
        c.backoff = Backoff(base: try number("JOB_BACKOFF_BASE_SECONDS", 0...3600) ?? c.backoff.base,
                            cap: try number("JOB_BACKOFF_CAP_SECONDS", 0...86_400) ?? c.backoff.cap)
        c.staleScanLimit = Int(try number("STALE_SCAN_MAX_DOCUMENTS", 1...1_000_000) ?? Double(c.staleScanLimit))
        c.versionRetentionDays = try number("VERSION_RETENTION_DAYS", 0...36_500) ?? c.versionRetentionDays
        let size = Int(try number("CHUNK_SIZE", 1...100_000) ?? Double(ChunkerConfiguration.defaultChunkSize))
        let overlap = Int(try number("CHUNK_OVERLAP", 0...100_000) ?? Double(ChunkerConfiguration.defaultOverlap))
        do { c.chunking = try ChunkerConfiguration(chunkSize: size, overlap: overlap) } catch {
            throw Invalid(description: "CHUNK_SIZE/CHUNK_OVERLAP: \(error)")
        }
        return c
    }
}
