import Foundation

/// Spending limits in USD (`budgets:` in the providers file). A nil limit is no limit.
package struct Budgets: Sendable, Equatable {
    package var deploymentDaily: Double?
    package var deploymentMonthly: Double?
    package var orgDaily: Double?
    package var orgMonthly: Double?
    /// The share of a limit at which the soft-limit alert fires (seed 004: 80%).
    package var softLimit: Double = 0.8
    /// How long deferred work waits before it looks again for a provider that costs nothing,
    /// when the budget's own reset is later.
    package var lookAgain: Duration = .seconds(300)

    package init() {}

    package var isEmpty: Bool { deploymentDaily == nil && deploymentMonthly == nil && orgDaily == nil && orgMonthly == nil }
}

/// UTC days and months, the periods budgets reset on.
package enum BudgetCalendar {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// `YYYY-MM-DD`.
    package static func day(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// The first day of `date`'s month, `YYYY-MM-01`.
    package static func monthStart(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d-01", c.year!, c.month!)
    }

    package static func nextDay(_ date: Date) -> Date {
        utc.date(byAdding: .day, value: 1, to: utc.startOfDay(for: date))!
    }

    package static func nextMonth(_ date: Date) -> Date {
        let start = utc.date(from: utc.dateComponents([.year, .month], from: date))!
        return utc.date(byAdding: .month, value: 1, to: start)!
    }

    /// The day `days` before `date`'s, `YYYY-MM-DD`.
    package static func day(_ date: Date, minus days: Int) -> String {
        day(utc.date(byAdding: .day, value: -days, to: date)!)
    }

    /// Days from `from` to `to`, both counted (0 when either is not a day or `to` comes first).
    package static func span(from: String, to: String) -> Int {
        guard let a = date(from), let b = date(to), a <= b else { return 0 }
        return (utc.dateComponents([.day], from: a, to: b).day ?? 0) + 1
    }

    static func date(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              let date = utc.date(from: DateComponents(year: y, month: m, day: d)), day(date) == text else { return nil }
        return date
    }

    /// Whether `text` is a real `YYYY-MM-DD` day.
    package static func isDay(_ text: String) -> Bool { date(text) != nil }
}
