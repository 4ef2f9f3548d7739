import DocumentStore
import Embeddings
import Foundation
import Resilience
import Synchronization

/// The budgets' ledger in the store (`embedding_usage`), shared by every warm process and every
/// instance: a process that kept its own count would let each of a hundred Lambda instances
/// spend the whole budget.
package final class StoreSpendLedger: SpendPolicy {
    package let store: any Store
    package let budgets: Budgets
    private let clock: @Sendable () -> Date
    /// The highest share of any limit seen by this process's last look, for the records.
    private let used = Mutex<Double?>(nil)
    private let failures = Atomic<Int>(0)

    /// Calls without an org (route's catalog, probes) are the deployment's own: counted under
    /// this id, which no org can have (ids start with a letter or digit).
    package static let deploymentOrg = OrgID(stored: "_deployment")

    package init(store: any Store, budgets: Budgets, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.budgets = budgets
        self.clock = clock
    }

    /// The highest share of a limit the last budget look found (nil before one, or without budgets).
    package var budgetUsed: Double? { used.withLock { $0 } }
    /// Ledger writes that failed (the embedding itself went on).
    package var recordFailures: Int { failures.load(ordering: .relaxed) }

    package func decision(org: String?) async -> SpendDecision {
        guard !budgets.isEmpty else { return .allowed }
        let status: BudgetStatus
        do { status = try self.status(org: org.flatMap(OrgID.init)) } catch {
            // The store is down: the job will fail on its own writes; the budget is not why.
            return .allowed
        }
        used.withLock { $0 = status.highestShare }
        guard let hit = status.limits.first(where: { $0.reached }) else { return .allowed }
        let until = min(hit.resetsAt, clock().addingTimeInterval(budgets.lookAgain.inSeconds))
        return .freeOnly(reason: "the \(hit.scope) \(hit.period) embedding budget of \(Self.usd(hit.limit)) is spent "
                         + "(\(Self.usd(hit.spent)) since \(hit.since))", until: until)
    }

    package func record(org: String?, provider: String, model: String, tokens: Int, costUSD: Double,
                        purpose: EmbeddingCallContext.Purpose) async {
        let id = org.flatMap(OrgID.init) ?? Self.deploymentOrg
        do {
            try store.recordEmbeddingUsage(EmbeddingUsageIncrement(orgId: id, day: BudgetCalendar.day(clock()), provider: provider,
                                                                   model: model, tokens: tokens, costUSD: costUSD))
        } catch {
            failures.add(1, ordering: .relaxed)
        }
    }

    /// Every configured limit for the deployment and (when given) the org, with what is spent.
    package func status(org: OrgID?) throws(StoreError) -> BudgetStatus {
        let now = clock()
        let today = BudgetCalendar.day(now), month = BudgetCalendar.monthStart(now)
        func spent(_ o: OrgID?) throws(StoreError) -> (day: Double, month: Double) {
            let rows = try store.embeddingUsage(org: o, fromDay: month, toDay: today)
            return (rows.filter { $0.day == today }.reduce(0) { $0 + $1.costUSD }, rows.reduce(0) { $0 + $1.costUSD })
        }
        var limits: [BudgetStatus.Limit] = []
        func add(_ scope: String, _ period: String, _ limit: Double?, _ spent: Double, since: String, resets: Date) {
            guard let limit else { return }
            limits.append(.init(scope: scope, period: period, limit: limit, spent: spent, since: since, resetsAt: resets,
                                softLimit: budgets.softLimit))
        }
        if budgets.deploymentDaily != nil || budgets.deploymentMonthly != nil {
            let d = try spent(nil)
            add("deployment", "daily", budgets.deploymentDaily, d.day, since: today, resets: BudgetCalendar.nextDay(now))
            add("deployment", "monthly", budgets.deploymentMonthly, d.month, since: month, resets: BudgetCalendar.nextMonth(now))
        }
        if let org, budgets.orgDaily != nil || budgets.orgMonthly != nil {
            let o = try spent(org)
            add("org", "daily", budgets.orgDaily, o.day, since: today, resets: BudgetCalendar.nextDay(now))
            add("org", "monthly", budgets.orgMonthly, o.month, since: month, resets: BudgetCalendar.nextMonth(now))
        }
        return BudgetStatus(limits: limits)
    }

    static func usd(_ v: Double) -> String { String(format: "%.2f USD", v) }
}

/// The budgets as they stand.
package struct BudgetStatus: Sendable, Equatable {
    package struct Limit: Sendable, Equatable {
        /// `deployment` or `org`.
        package var scope: String
        /// `daily` or `monthly` (UTC).
        package var period: String
        package var limit: Double
        package var spent: Double
        /// The period's first day.
        package var since: String
        package var resetsAt: Date
        package var softLimit: Double

        package var share: Double { limit > 0 ? spent / limit : (spent > 0 ? .infinity : 0) }
        /// At the hard limit: bulk work stops calling paid providers.
        package var reached: Bool { spent >= limit }
        /// At the soft limit: the alert.
        package var soft: Bool { share >= softLimit }
    }

    package var limits: [Limit]

    package var highestShare: Double? { limits.map(\.share).max() }
}
