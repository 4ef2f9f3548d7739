/// Who an embedding is for and why, set by the caller around the work (a task-local value), so
/// the provider pool can bill the right org and apply its budget without every call site
/// threading them through `EmbeddingProvider.embed`.
package struct EmbeddingCallContext: Sendable, Equatable {
    package enum Purpose: String, Sendable {
        /// A request waiting on the answer: routed to the fastest provider, never refused for budget.
        case query
        /// Batch work (ingestion, re-embedding): routed to the highest throughput, held to the budget.
        case bulk
    }

    /// The org billed, or nil for the deployment's own work (route's catalog, probes).
    package var org: String?
    package var purpose: Purpose

    package init(org: String?, purpose: Purpose) {
        self.org = org
        self.purpose = purpose
    }

    @TaskLocal package static var current: EmbeddingCallContext?
}
