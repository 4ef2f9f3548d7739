import DocumentStore
import EmbeddingPolicies
import Foundation
import JSON
import LambdaEvents
import RequestTenancy

/// `GET /v1/usage`: an org's embedding tokens and cost by day and provider, and its budgets.
/// The deployment's limits are shown as reached or not, never with other orgs' spend in them.
package struct UsageAPI: Sendable {
    package let ledger: StoreSpendLedger
    /// Days shown when `from` is absent: today and the 29 before it.
    package static let defaultDays = 30
    package static let maxDays = 366

    package init(ledger: StoreSpendLedger) { self.ledger = ledger }

    package func usage(_ request: APIGatewayV2Request, now: Date = Date()) throws -> APIGatewayV2Response {
        let org = try request.orgID()
        let to = try Self.day(request, "to") ?? BudgetCalendar.day(now)
        let from = try Self.day(request, "from") ?? BudgetCalendar.day(now, minus: Self.defaultDays - 1)
        guard from <= to else {
            throw APIError.unprocessable("from (\(from)) must not be after to (\(to)).", details: ["field": "from"])
        }
        guard BudgetCalendar.span(from: from, to: to) <= Self.maxDays else {
            throw APIError.unprocessable("at most \(Self.maxDays) days at a time.", details: ["field": "from"])
        }
        let rows = try ledger.store.embeddingUsage(org: org, fromDay: from, toDay: to)
        var days: [JSONValue] = []
        for day in Set(rows.map(\.day)).sorted() {
            let of = rows.filter { $0.day == day }
            days.append(.object([
                "day": .string(day),
                "tokens": .number(Double(of.reduce(0) { $0 + $1.tokens })),
                "cost_usd": .number(Self.rounded(of.reduce(0) { $0 + $1.costUSD })),
                "providers": .array(of.map { r in .object([
                    "provider": .string(r.provider), "model": .string(r.model), "calls": .number(Double(r.calls)),
                    "tokens": .number(Double(r.tokens)), "cost_usd": .number(Self.rounded(r.costUSD)),
                ]) }),
            ]))
        }
        let status = try ledger.status(org: org)
        let budgets: [JSONValue] = status.limits.map { l in
            var o: JSONObject = ["scope": .string(l.scope), "period": .string(l.period), "limit_usd": .number(l.limit),
                                 "soft_limit_reached": .bool(l.soft), "hard_limit_reached": .bool(l.reached),
                                 "resets_at": .string(Timestamps.iso8601Seconds(Int64(l.resetsAt.timeIntervalSince1970 * 1000)))]
            if l.scope == "org" { o["spent_usd"] = .number(Self.rounded(l.spent)) }
            return .object(o)
        }
        let body: JSONObject = [
            "org_id": .string(org.rawValue), "from": .string(from), "to": .string(to),
            "tokens": .number(Double(rows.reduce(0) { $0 + $1.tokens })),
            "cost_usd": .number(Self.rounded(rows.reduce(0) { $0 + $1.costUSD })),
            "days": .array(days), "budgets": .array(budgets),
        ]
        let bytes: [UInt8] = JSONValue.object(body).jsonBytes()
        return APIGatewayV2Response(statusCode: 200, headers: ["content-type": "application/json"], body: String(decoding: bytes, as: UTF8.self))
    }

    static func day(_ request: APIGatewayV2Request, _ name: String) throws(APIError) -> String? {
        guard let raw = request.query(name), !raw.isEmpty else { return nil }
        guard BudgetCalendar.isDay(raw) else {
            throw APIError.unprocessable("\(name) must be a day as YYYY-MM-DD, not `\(raw.prefix(40))`.", details: ["field": .string(name)])
        }
        return raw
    }

    /// Cost to a millionth of a dollar: sums of float prices otherwise print as 0.30000000000000004.
    static func rounded(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }
}
