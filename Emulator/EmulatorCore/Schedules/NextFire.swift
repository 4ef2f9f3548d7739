import Foundation

extension ScheduleExpression {
    /// The first fire time strictly after `after`, or nil when there is none (a past `at`, a
    /// cron whose years have ended). Cron and `at` are wall-clock times in `timeZone`: across a
    /// spring-forward gap a time that does not exist fires just after the gap (shifted by the
    /// gap, as Foundation's calendar resolves it); across a fall-back overlap a repeated time
    /// fires once, at its first occurrence. `rate` counts periods from `start`.
    package func nextFire(after: Date, timeZone: TimeZone = .gmt, start: Date) -> Date? {
        switch self {
        case .rate(let seconds):
            let elapsed = after.timeIntervalSince(start)
            let k = elapsed < 0 ? 1 : Int((elapsed / Double(seconds)).rounded(.down)) + 1
            return start.addingTimeInterval(Double(k * seconds))
        case .at(let y, let mo, let d, let h, let mi, let s):
            var cal = Calendar(identifier: .gregorian)
            cal.timeZone = timeZone
            guard let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)) else { return nil }
            return date > after ? date : nil
        case .cron(let cron):
            return cron.nextFire(after: after, timeZone: timeZone)
        }
    }

    /// The next `count` fire times after `after`.
    package func nextFires(_ count: Int, after: Date, timeZone: TimeZone = .gmt, start: Date) -> [Date] {
        var out: [Date] = []
        var cursor = after
        while out.count < count, let next = nextFire(after: cursor, timeZone: timeZone, start: start) {
            out.append(next)
            cursor = next
        }
        return out
    }
}

extension CronExpression {
    func nextFire(after: Date, timeZone: TimeZone) -> Date? {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let here = cal.dateComponents([.year, .month, .day], from: after)
        guard var year = here.year, var month = here.month, var day = here.day else { return nil }
        // Start a day early: a fall-back overlap can put the next instant on the previous local day.
        (year, month, day) = Self.step(year, month, day, by: -1)
        let hoursSorted = hours.sorted(), minutesSorted = minutes.sorted()
        let lastYear = min(2199, years?.max() ?? 2199)
        while year <= lastYear {
            if months.contains(month), years?.contains(year) ?? true, matches(year: year, month: month, day: day) {
                for h in hoursSorted {
                    for m in minutesSorted {
                        guard let date = cal.date(from: DateComponents(year: year, month: month, day: day, hour: h, minute: m)) else { continue }
                        if date > after { return date }
                    }
                }
            }
            (year, month, day) = Self.step(year, month, day, by: 1)
        }
        return nil
    }

    static func step(_ y: Int, _ m: Int, _ d: Int, by delta: Int) -> (Int, Int, Int) {
        if delta > 0 {
            if d < daysIn(month: m, year: y) { return (y, m, d + 1) }
            return m == 12 ? (y + 1, 1, 1) : (y, m + 1, 1)
        }
        if d > 1 { return (y, m, d - 1) }
        let (py, pm) = m == 1 ? (y - 1, 12) : (y, m - 1)
        return (py, pm, daysIn(month: pm, year: py))
    }
}
