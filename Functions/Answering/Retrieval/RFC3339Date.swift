import Foundation

/// Strict RFC 3339 for the search filters: `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, every field in range.
///
/// Written here rather than with `ISO8601DateFormatter`, which accepted `9999999-01-01`, an
/// offset of `+99:99` and a trailing NUL (each became some date and the search answered 200).
/// The whole format is twenty lines of digit checks and a days-from-civil sum.
enum RFC3339Date {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<at + n {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        func byte(_ at: Int, _ c: Character) -> Bool { at < b.count && b[at] == c.asciiValue! }

        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
              (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month, year)).contains(day)
        else { return nil }
        var seconds = Double(daysFromCivil(year, month, day)) * 86_400
        if b.count == 10 { return Date(timeIntervalSince1970: seconds) }

        guard byte(10, "T") || byte(10, "t"), let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"),
              let second = digits(17, 2), hour <= 23, minute <= 59, second <= 60
        else { return nil }
        seconds += Double(hour * 3600 + minute * 60 + min(second, 59))
        var i = 19
        if byte(i, ".") {
            var fraction = 0.0, scale = 0.1
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
            seconds += fraction
        }
        if (byte(i, "Z") || byte(i, "z")) && i + 1 == b.count { return Date(timeIntervalSince1970: seconds) }
        guard byte(i, "+") || byte(i, "-"), let oh = digits(i + 1, 2), byte(i + 3, ":"), let om = digits(i + 4, 2),
              i + 6 == b.count, oh <= 23, om <= 59
        else { return nil }
        let offset = Double(oh * 3600 + om * 60)
        return Date(timeIntervalSince1970: byte(i, "+") ? seconds - offset : seconds + offset)
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
