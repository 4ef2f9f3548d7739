import Foundation
import Testing
@testable import EmulatorCore

/// Cron, rate and at against AWS's examples and the edge cases: month ends, leap days, L, W, #,
/// ranges that wrap, the year field, and daylight saving time in a non-UTC zone.
@Suite struct ScheduleExpressionTests {
    static func utc(_ s: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: s)!
    }

    static let cases: [(String, String, String, String)] = [
        // expression, time zone, after, expected next fire (UTC)
        ("cron(0 10 * * ? *)", "UTC", "2026-11-21T09:00:00Z", "2026-11-21T10:00:00Z"),
        ("cron(15 12 * * ? *)", "UTC", "2026-11-21T12:15:00Z", "2026-11-22T12:15:00Z"),
        ("cron(0 18 ? * MON-FRI *)", "UTC", "2026-11-21T00:00:00Z", "2026-11-23T18:00:00Z"),
        ("cron(0 8 1 * ? *)", "UTC", "2026-11-21T00:00:00Z", "2026-12-01T08:00:00Z"),
        ("cron(0/15 * * * ? *)", "UTC", "2026-11-21T10:07:00Z", "2026-11-21T10:15:00Z"),
        ("cron(0/5 8-17 ? * MON-FRI *)", "UTC", "2026-11-20T17:56:00Z", "2026-11-23T08:00:00Z"),
        ("cron(0 9 ? * 2#1 *)", "UTC", "2026-11-21T00:00:00Z", "2026-12-07T09:00:00Z"),
        ("cron(0 0 L * ? *)", "UTC", "2028-02-15T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("cron(0 0 L * ? *)", "UTC", "2027-02-15T00:00:00Z", "2027-02-28T00:00:00Z"),
        ("cron(0 0 L-2 * ? *)", "UTC", "2026-11-01T00:00:00Z", "2026-11-28T00:00:00Z"),
        ("cron(0 12 ? * 6L *)", "UTC", "2026-11-01T00:00:00Z", "2026-11-27T12:00:00Z"),
        ("cron(0 9 15W * ? *)", "UTC", "2026-11-01T00:00:00Z", "2026-11-16T09:00:00Z"),
        ("cron(0 9 1W * ? *)", "UTC", "2026-07-31T12:00:00Z", "2026-08-03T09:00:00Z"),
        ("cron(0 9 LW * ? *)", "UTC", "2026-05-01T00:00:00Z", "2026-05-29T09:00:00Z"),
        ("cron(0 0 29 2 ? *)", "UTC", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("cron(0 0 1 1 ? 2030)", "UTC", "2026-11-21T00:00:00Z", "2030-01-01T00:00:00Z"),
        ("cron(0 12 ? * FRI-MON *)", "UTC", "2026-11-21T13:00:00Z", "2026-11-22T12:00:00Z"),
        ("cron(0 2 * * ? *)", "UTC", "2026-11-21T02:00:00Z", "2026-11-22T02:00:00Z"),
        // Spring forward in New York (2027-03-14, 02:00 -> 03:00): 02:30 does not exist that day.
        ("cron(30 2 * * ? *)", "America/New_York", "2027-03-13T17:00:00Z", "2027-03-14T07:30:00Z"),
        ("cron(30 2 * * ? *)", "America/New_York", "2027-03-14T07:30:00Z", "2027-03-15T06:30:00Z"),
        // Fall back (2026-11-01, 02:00 -> 01:00): 01:30 happens twice and fires once.
        ("cron(30 1 * * ? *)", "America/New_York", "2026-10-31T16:00:00Z", "2026-11-01T05:30:00Z"),
        ("cron(30 1 * * ? *)", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        ("cron(0 9 * * ? *)", "Asia/Ho_Chi_Minh", "2026-11-21T00:00:00Z", "2026-11-21T02:00:00Z"),
        // Standard five-field cron: day-of-week 0-7, and either day field may match.
        ("0 9 * * 1-5", "UTC", "2026-11-21T00:00:00Z", "2026-11-23T09:00:00Z"),
        ("0 0 1 * 0", "UTC", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),
        ("0 0 1 * 0", "UTC", "2026-11-29T00:00:00Z", "2026-12-01T00:00:00Z"),
        ("*/15 * * * *", "UTC", "2026-11-21T10:07:00Z", "2026-11-21T10:15:00Z"),
        ("0 0 * * 7", "UTC", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),
        ("at(2026-12-25T09:30:00)", "UTC", "2026-11-21T00:00:00Z", "2026-12-25T09:30:00Z"),
        ("at(2026-12-25T09:30:00)", "Europe/Paris", "2026-11-21T00:00:00Z", "2026-12-25T08:30:00Z"),
    ]

    @Test(arguments: cases)
    func nextFire(_ c: (String, String, String, String)) throws {
        let expression = try ScheduleExpression.parse(c.0)
        let next = expression.nextFire(after: Self.utc(c.2), timeZone: TimeZone(identifier: c.1)!, start: Self.utc(c.2))
        #expect(next == Self.utc(c.3), "\(c.0) in \(c.1) after \(c.2)")
    }

    @Test func finishedSchedulesHaveNoNextFire() throws {
        #expect(try ScheduleExpression.parse("cron(0 0 1 1 ? 2030)").nextFire(after: Self.utc("2030-01-02T00:00:00Z"), start: .now) == nil)
        #expect(try ScheduleExpression.parse("at(2026-12-25T09:30:00)").nextFire(after: Self.utc("2026-12-25T09:30:00Z"), start: .now) == nil)
    }

    @Test func rateIsAnchoredAtTheStartNotTheClock() throws {
        let start = Self.utc("2026-11-21T10:00:07Z")
        let rate = try ScheduleExpression.parse("rate(5 minutes)")
        #expect(rate == .rate(seconds: 300))
        #expect(rate.nextFire(after: start, start: start) == Self.utc("2026-11-21T10:05:07Z"))
        #expect(rate.nextFire(after: Self.utc("2026-11-21T10:12:00Z"), start: start) == Self.utc("2026-11-21T10:15:07Z"))
        #expect(try ScheduleExpression.parse("rate(1 day)") == .rate(seconds: 86400))
        #expect(try ScheduleExpression.parse("rate(2 hours)") == .rate(seconds: 7200))
    }

    @Test func nextFiresListsInOrder() throws {
        let fires = try ScheduleExpression.parse("cron(0 0 L * ? *)").nextFires(4, after: Self.utc("2027-12-15T00:00:00Z"), start: .now)
        #expect(fires == ["2027-12-31", "2028-01-31", "2028-02-29", "2028-03-31"].map { Self.utc($0 + "T00:00:00Z") })
    }

    static let invalid: [(String, String)] = [
        ("cron(0 10 * * * *)", "exactly one of day-of-month"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month"),
        ("cron(0 10 * *)", "needs 6 fields"),
        ("cron(61 * * * ? *)", "minutes: `61` is not in 0-59"),
        ("cron(0 24 * * ? *)", "hours: `24`"),
        ("cron(0 0 ? * 2#6 *)", "#1 to #5"),
        ("cron(0 0 ? * 8 *)", "day-of-week"),
        ("cron(0 0 1 13 ? *)", "month"),
        ("cron(0 0 1 * ? 1969)", "year"),
        ("cron(0/0 * * * ? *)", "bad step"),
        ("rate(1 minutes)", "rate(1 minute)"),
        ("rate(5 minute)", "rate(5 minutes)"),
        ("rate(0 minutes)", "positive whole N"),
        ("rate(5 weeks)", "minute(s), hour(s) or day(s)"),
        ("at(2026-02-30T00:00:00)", "not a valid date"),
        ("at(2026-02-03)", "yyyy-mm-ddThh:mm:ss"),
        ("every day", "expected cron"),
    ]

    @Test(arguments: invalid)
    func invalidExpressionsSayWhy(_ c: (String, String)) {
        #expect {
            try ScheduleExpression.parse(c.0)
        } throws: { error in
            "\(error)".contains(c.1)
        }
    }
}
