import DocumentStore
import EmbeddingPolicies
import Embeddings
import Foundation
import Stores
import Testing
import TestSupport

/// The budgets' ledger over a real store: limits by UTC day and month, the deployment's and an
/// org's, and when deferred work looks again.
@Suite struct LedgerTests {
    static let noon = ISO8601DateFormatter().date(from: "2026-12-07T12:00:00Z")!

    func ledger(_ budgets: Budgets, at now: Date = LedgerTests.noon) throws -> StoreSpendLedger {
        let store = try Stores.open(url: "sqlite://" + TestPaths.temporaryDirectory("ledger") + "/rag.sqlite",
                                    migrationsDirectory: TestPaths.packageRoot + "/infra/migrations")
        return StoreSpendLedger(store: store, budgets: budgets, clock: { now })
    }

    @Test func anOrgOverItsDailyLimitWaitsUntilMidnightUTCAndOthersDoNot() async throws {
        var b = Budgets()
        b.orgDaily = 1
        b.lookAgain = .seconds(86_400 * 3)
        let l = try ledger(b)
        #expect(await l.decision(org: "acme") == .allowed)
        await l.record(org: "acme", provider: "api", model: "m", tokens: 1000, costUSD: 0.6, purpose: .bulk)
        #expect(await l.decision(org: "acme") == .allowed)
        #expect(abs((l.budgetUsed ?? 0) - 0.6) < 1e-9)
        await l.record(org: "acme", provider: "api", model: "m", tokens: 1000, costUSD: 0.6, purpose: .query)
        let midnight = ISO8601DateFormatter().date(from: "2026-12-08T00:00:00Z")!
        #expect(await l.decision(org: "acme") == .freeOnly(reason: "the org daily embedding budget of 1.00 USD is spent (1.20 USD since 2026-12-07)",
                                                           until: midnight))
        #expect(await l.decision(org: "globex") == .allowed)
    }

    @Test func daysAreCountedInclusivelyAndNonsenseIsNoDay() {
        #expect(BudgetCalendar.span(from: "2026-12-01", to: "2026-12-31") == 31)
        #expect(BudgetCalendar.span(from: "2025-12-08", to: "2026-12-07") == 365)
        #expect(BudgetCalendar.span(from: "2026-12-07", to: "2026-12-01") == 0)
        #expect(!BudgetCalendar.isDay("2026-02-30") && !BudgetCalendar.isDay("2026-13-01") && BudgetCalendar.isDay("2028-02-29"))
    }

    @Test func theDeploymentsMonthlyLimitCountsEveryOrgAndLooksAgainSoonerThanTheMonth() async throws {
        var b = Budgets()
        b.deploymentMonthly = 2
        b.lookAgain = .seconds(300)
        let l = try ledger(b)
        await l.record(org: "acme", provider: "api", model: "m", tokens: 1, costUSD: 1.5, purpose: .bulk)
        await l.record(org: nil, provider: "api", model: "m", tokens: 1, costUSD: 0.5, purpose: .bulk)
        let d = await l.decision(org: "globex")
        guard case .freeOnly(let reason, let until) = d else { Issue.record("\(d)"); return }
        #expect(reason.contains("deployment monthly embedding budget of 2.00 USD") && reason.contains("since 2026-12-01"))
        #expect(until == LedgerTests.noon.addingTimeInterval(300))
        let status = try l.status(org: "globex")
        #expect(status.limits.count == 1 && status.limits[0].reached && status.limits[0].soft)
        // Calls without an org are the deployment's, under an id no org can have.
        #expect(try l.store.embeddingUsage(org: StoreSpendLedger.deploymentOrg, fromDay: "2026-12-01", toDay: "2026-12-31").count == 1)
    }
}
