import DocumentStore
import Foundation
import Ingestion
import Logging

/// The nightly scan: live documents whose ready version was built with another model than
/// `EMBEDDING_MODEL`, or by older chunking rules, get a re-embed job (each keeps its own chunk
/// size). Bounded per run (`STALE_SCAN_MAX_DOCUMENTS`); what is left is found the next night,
/// and documents already queued are not queued twice (the job's idempotency key).
package struct StaleScan: Sendable {
    package let planner: ReembedPlanner
    /// The candidate model: ready versions without its vectors get a shadow job.
    package let shadowModel: String?

    package init(planner: ReembedPlanner, shadowModel: String? = nil) {
        self.planner = planner
        self.shadowModel = shadowModel
    }

    package struct Report: Sendable, Equatable, Codable {
        package var found = 0
        package var queued = 0
        package var alreadyQueued = 0
        package var errors = 0
        package var shadowQueued = 0
        /// Superseded versions older than the retention, deleted.
        package var purged = 0

        enum CodingKeys: String, CodingKey {
            case found, queued, errors
            case alreadyQueued = "already_queued"
            case shadowQueued = "shadow_queued"
            case purged
        }
    }

    package func run(logger: Logger, now: Date = Date()) -> Report {
        var report = Report()
        // Versions a rollback could serve again are kept for the retention, then deleted.
        do {
            let before = now.addingTimeInterval(-planner.configuration.versionRetentionDays * 86_400)
            report.purged = try planner.store.purgeSupersededVersions(before: before, limit: planner.configuration.staleScanLimit)
        } catch {
            logger.error("purging superseded versions failed", metadata: ["error": "\(error)"])
            report.errors += 1
        }
        if let shadowModel {
            do {
                for gap in try planner.store.shadowGaps(model: shadowModel, limit: planner.configuration.staleScanLimit) {
                    if try planner.store.enqueue(ShadowBuild.job(org: gap.org, document: gap.documentId, model: shadowModel)).created {
                        report.shadowQueued += 1
                    }
                }
            } catch {
                logger.error("shadow scan failed", metadata: ["error": "\(error)"])
                report.errors += 1
            }
        }
        let stale: [Document]
        do {
            stale = try planner.store.staleDocuments(embedModel: planner.model, chunkerVersion: Chunker.version,
                                                     limit: planner.configuration.staleScanLimit)
        } catch {
            logger.error("stale scan failed", metadata: ["error": "\(error)"])
            report.errors += 1
            return report
        }
        report.found = stale.count
        for doc in stale {
            do {
                switch try planner.plan(org: doc.orgId, document: doc, params: ReembedParameters()) {
                case .queued(_, let created): if created { report.queued += 1 } else { report.alreadyQueued += 1 }
                case .upToDate: break
                }
            } catch {
                report.errors += 1
                logger.error("queueing a re-embed failed", metadata: ["document_id": "\(doc.id)", "org_id": "\(doc.orgId)", "error": "\(error)"])
            }
        }
        logger.info("stale scan", metadata: ["found": "\(report.found)", "queued": "\(report.queued)",
                                             "already_queued": "\(report.alreadyQueued)", "model": "\(planner.model)"])
        return report
    }
}
