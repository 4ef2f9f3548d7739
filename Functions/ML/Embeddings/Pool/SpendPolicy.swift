import Foundation

/// What a paid provider may spend now, for one org's bulk work.
package enum SpendDecision: Sendable, Equatable {
    /// Under every hard limit.
    case allowed
    /// A hard limit is reached: only providers that cost nothing may take the work; if none can,
    /// the work waits until `until` (the next reset, or a later look for a free provider).
    case freeOnly(reason: String, until: Date)
}

/// Budgets and the ledger behind them, as the provider pool sees them. The pool asks before bulk
/// work that could reach a paid provider and reports what every call spent; the implementation
/// (`EmbeddingPolicies.StoreSpendLedger`) keeps the counts in the store, so every warm process
/// and every instance shares one budget.
package protocol SpendPolicy: Sendable {
    /// Whether `org`'s bulk work may use paid providers now.
    func decision(org: String?) async -> SpendDecision
    /// Adds one call's tokens and cost to the ledger. Failures are the ledger's to log; an
    /// embedding that succeeded is never failed for its bookkeeping.
    func record(org: String?, provider: String, model: String, tokens: Int, costUSD: Double, purpose: EmbeddingCallContext.Purpose) async
}
