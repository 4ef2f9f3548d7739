import DocumentStore
import Ingestion
import Logging

/// The nightly scan: live documents whose ready version was built with another model than
/// `EMBEDDING_MODEL`, or by older chunking rules, get a re-embed job (each keeps its own chunk
/// size). Bounded per run (`STALE_SCAN_MAX_DOCUMENTS`); what is left is found the next night,
/// and documents already queued are not queued twice (the job's idempotency key).
package struct StaleScan: Sendable {
    package let planner: ReembedPlanner

    package init(planner: ReembedPlanner) { self.planner = planner }

    package struct Report: Sendable, Equatable, Codable {
        package var found = 0
        package var queued = 0
        package var alreadyQueued = 0
        package var errors = 0

        enum CodingKeys: String, CodingKey {
            case found, queued, errors
            case alreadyQueued = "already_queued"
        }
    }

    package func run(logger: Logger) -> Report {
        var report = Report()
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
