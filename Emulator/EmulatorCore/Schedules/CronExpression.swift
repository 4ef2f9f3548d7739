import Foundation

/// A schedule expression as EventBridge understands it: `cron(...)` with AWS's six fields,
/// `rate(...)`, `at(...)`, and (for people who write it) standard five-field cron.
package enum ScheduleExpression: Sendable, Equatable {
    case cron(CronExpression)
    /// Every `seconds`; the first run comes one period after the schedule starts, not on a clock boundary.
    case rate(seconds: Int)
    /// Once, at this wall-clock time in the schedule's time zone.
    case at(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)

    package static func parse(_ text: String) throws(ScheduleParseError) -> ScheduleExpression {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let body = Self.unwrap(t, "cron") { return .cron(try CronExpression(aws: body)) }
        if let body = Self.unwrap(t, "rate") { return try rate(body) }
        if let body = Self.unwrap(t, "at") { return try at(body) }
        if t.split(separator: " ", omittingEmptySubsequences: true).count == 5 { return .cron(try CronExpression(standard: t)) }
        throw ScheduleParseError("expected cron(...), rate(...), at(...) or a five-field cron line, got `\(t)`")
    }

    private static func unwrap(_ t: String, _ name: String) -> String? {
        guard t.hasPrefix(name + "("), t.hasSuffix(")") else { return nil }
        return String(t.dropFirst(name.count + 1).dropLast())
    }

    private static func rate(_ body: String) throws(ScheduleParseError) -> ScheduleExpression {
        let parts = body.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let n = Int(parts[0]), n > 0 else {
            throw ScheduleParseError("rate takes `N unit` with a positive whole N, got `\(body)`")
        }
        let unit = String(parts[1])
        let seconds: [String: Int] = ["minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400]
        guard let per = seconds[unit] else {
            throw ScheduleParseError("rate unit must be minute(s), hour(s) or day(s), got `\(unit)`")
        }
        // EventBridge insists: the singular only for 1, the plural otherwise.
        if n == 1, unit.hasSuffix("s") { throw ScheduleParseError("rate(1 \(unit)) must be written rate(1 \(unit.dropLast()))") }
        if n != 1, !unit.hasSuffix("s") { throw ScheduleParseError("rate(\(n) \(unit)) must be written rate(\(n) \(unit)s)") }
        return .rate(seconds: n * per)
    }

    private static func at(_ body: String) throws(ScheduleParseError) -> ScheduleExpression {
        // yyyy-mm-ddThh:mm:ss
        let parts = body.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
        guard parts.count == 6, parts.allSatisfy({ $0 != nil }), body.count == 19 else {
            throw ScheduleParseError("at takes yyyy-mm-ddThh:mm:ss, got `\(body)`")
        }
        let p = parts.map { $0! }
        guard (1...12).contains(p[1]), (1...CronExpression.daysIn(month: p[1], year: p[0])).contains(p[2]),
              (0...23).contains(p[3]), (0...59).contains(p[4]), (0...59).contains(p[5]) else {
            throw ScheduleParseError("at(\(body)) is not a valid date and time")
        }
        return .at(year: p[0], month: p[1], day: p[2], hour: p[3], minute: p[4], second: p[5])
    }
}

package struct ScheduleParseError: Error, CustomStringConvertible, Equatable {
    package let description: String
    init(_ d: String) { description = d }
}

/// A parsed cron expression. Matching is on wall-clock fields in the schedule's time zone.
package struct CronExpression: Sendable, Equatable {
    package enum DayOfMonth: Sendable, Equatable {
        case any                   // `*` or `?`
        case days(Set<Int>)
        case last(offset: Int)     // `L`, `L-3`
        case lastWeekday           // `LW`
        case nearestWeekday(Int)   // `15W`
    }

    package enum DayOfWeek: Sendable, Equatable {
        case any
        case days(Set<Int>)              // 1 = Sunday ... 7 = Saturday
        case lastInMonth(Int)            // `6L`: the last Friday
        case nth(weekday: Int, n: Int)   // `3#2`: the second Tuesday
    }

    package var minutes: Set<Int>
    package var hours: Set<Int>
    package var dayOfMonth: DayOfMonth
    package var months: Set<Int>
    package var dayOfWeek: DayOfWeek
    package var years: Set<Int>?
    /// Standard cron: when both day fields are restricted, a day matching either one fires.
    package var daysMatchEither = false

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// AWS: `minutes hours day-of-month month day-of-week year`, exactly one of the day fields `?`.
    package init(aws body: String) throws(ScheduleParseError) {
        let f = body.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard f.count == 6 else { throw ScheduleParseError("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got \(f.count)") }
        guard (f[2] == "?") != (f[4] == "?") else {
            throw ScheduleParseError("exactly one of day-of-month (`\(f[2])`) and day-of-week (`\(f[4])`) must be `?`")
        }
        minutes = try Self.field(f[0], "minutes", 0...59)
        hours = try Self.field(f[1], "hours", 0...23)
        dayOfMonth = try Self.dayOfMonth(f[2])
        months = try Self.field(f[3], "month", 1...12, names: Self.monthNames)
        dayOfWeek = try Self.dayOfWeek(f[4], sundayIs: 1)
        years = f[5] == "*" ? nil : try Self.field(f[5], "year", 1970...2199)
    }

    /// Standard five-field cron: `minute hour day-of-month month day-of-week`, day-of-week 0-7
    /// (0 and 7 are Sunday), evaluated in the schedule's time zone.
    package init(standard line: String) throws(ScheduleParseError) {
        let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard f.count == 5 else { throw ScheduleParseError("a five-field cron line needs 5 fields, got \(f.count)") }
        minutes = try Self.field(f[0], "minute", 0...59)
        hours = try Self.field(f[1], "hour", 0...23)
        dayOfMonth = f[2] == "*" ? .any : try Self.dayOfMonth(f[2])
        months = try Self.field(f[3], "month", 1...12, names: Self.monthNames)
        dayOfWeek = f[4] == "*" ? .any : try Self.dayOfWeek(f[4], sundayIs: 0)
        years = nil
        if case .any = dayOfMonth {} else if case .any = dayOfWeek {} else { daysMatchEither = true }
    }

    // MARK: Fields

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = []) throws(ScheduleParseError) -> Set<Int> {
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw ScheduleParseError("\(name): empty item in `\(text)`") }
            var base = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                base = String(item[..<slash])
                guard let s = Int(item[item.index(after: slash)...]), s > 0 else {
                    throw ScheduleParseError("\(name): bad step in `\(item)`")
                }
                step = s
            }
            let lo: Int, hi: Int
            if base == "*" || base == "?" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                lo = try value(String(base[..<dash]), name, range, names)
                hi = try value(String(base[base.index(after: dash)...]), name, range, names)
            } else {
                lo = try value(base, name, range, names)
                hi = item.contains("/") ? range.upperBound : lo
            }
            if lo <= hi {
                out.formUnion(stride(from: lo, through: hi, by: step))
            } else {
                // A range that wraps (`FRI-MON`, `22-2`), as EventBridge allows.
                let sequence = Array(lo...range.upperBound) + Array(range.lowerBound...hi)
                out.formUnion(stride(from: 0, to: sequence.count, by: step).map { sequence[$0] })
            }
        }
        return out
    }

    static func value(_ text: String, _ name: String, _ range: ClosedRange<Int>, _ names: [String]) throws(ScheduleParseError) -> Int {
        if let i = names.firstIndex(of: text.uppercased()) { return range.lowerBound + i }
        guard let v = Int(text), range.contains(v) else {
            throw ScheduleParseError("\(name): `\(text)` is not in \(range.lowerBound)-\(range.upperBound)\(names.isEmpty ? "" : " or \(names.first!)-\(names.last!)")")
        }
        return v
    }

    static func dayOfMonth(_ t: String) throws(ScheduleParseError) -> DayOfMonth {
        let u = t.uppercased()
        if u == "?" || u == "*" { return .any }
        if u == "L" { return .last(offset: 0) }
        if u == "LW" { return .lastWeekday }
        if u.hasPrefix("L-"), let n = Int(u.dropFirst(2)), (1...30).contains(n) { return .last(offset: n) }
        if u.hasSuffix("W"), let n = Int(u.dropLast()), (1...31).contains(n) { return .nearestWeekday(n) }
        return .days(try field(u, "day-of-month", 1...31))
    }

    static func dayOfWeek(_ t: String, sundayIs base: Int) throws(ScheduleParseError) -> DayOfWeek {
        let u = t.uppercased()
        if u == "?" || u == "*" { return .any }
        let range = base == 1 ? 1...7 : 0...7
        // Normalise to 1 = Sunday ... 7 = Saturday.
        func norm(_ v: Int) -> Int { base == 1 ? v : (v % 7) + 1 }
        if u.hasSuffix("L") {
            let d = try value(String(u.dropLast()), "day-of-week", range, base == 1 ? dayNames : dayNames + ["SUN"])
            return .lastInMonth(norm(d))
        }
        if let hash = u.firstIndex(of: "#") {
            let d = try value(String(u[..<hash]), "day-of-week", range, base == 1 ? dayNames : dayNames + ["SUN"])
            guard let n = Int(u[u.index(after: hash)...]), (1...5).contains(n) else {
                throw ScheduleParseError("day-of-week: `\(t)` needs #1 to #5")
            }
            return .nth(weekday: norm(d), n: n)
        }
        let names = base == 1 ? dayNames : dayNames + ["SUN"]
        return .days(Set(try field(u, "day-of-week", range, names: names).map(norm)))
    }

    // MARK: Matching

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// 1 = Sunday ... 7 = Saturday, for a proleptic Gregorian date (Sakamoto's method).
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        let t = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4]
        let y = month < 3 ? year - 1 : year
        return (y + y / 4 - y / 100 + y / 400 + t[month - 1] + day) % 7 + 1
    }

    /// Whether the calendar day matches the day, month and year fields.
    package func matches(year: Int, month: Int, day: Int) -> Bool {
        guard months.contains(month), years?.contains(year) ?? true else { return false }
        let last = Self.daysIn(month: month, year: year)
        let wd = Self.weekday(year: year, month: month, day: day)
        let domMatch: Bool?
        switch dayOfMonth {
        case .any: domMatch = nil
        case .days(let d): domMatch = d.contains(day)
        case .last(let offset): domMatch = day == last - offset
        case .lastWeekday:
            let lastWd = Self.weekday(year: year, month: month, day: last)
            domMatch = day == (lastWd == 1 ? last - 2 : lastWd == 7 ? last - 1 : last)
        case .nearestWeekday(let n):
            // The weekday nearest day n, without leaving the month.
            let target = min(n, last)
            let twd = Self.weekday(year: year, month: month, day: target)
            var d = target
            if twd == 7 { d = target == 1 ? 3 : target - 1 }          // Saturday -> Friday (or Monday the 3rd)
            else if twd == 1 { d = target == last ? target - 2 : target + 1 }  // Sunday -> Monday (or Friday)
            domMatch = day == d
        }
        let dowMatch: Bool?
        switch dayOfWeek {
        case .any: dowMatch = nil
        case .days(let d): dowMatch = d.contains(wd)
        case .lastInMonth(let w): dowMatch = wd == w && day + 7 > last
        case .nth(let w, let n): dowMatch = wd == w && (day - 1) / 7 + 1 == n
        }
        switch (domMatch, dowMatch) {
        case (nil, nil): return true
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return daysMatchEither ? (a || b) : (a && b)
        }
    }
}
