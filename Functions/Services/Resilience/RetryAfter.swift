#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a server's requested wait. Lives here rather than in each provider because every
/// OpenAI-compatible API (embeddings, chat) sends the same headers, in the same several forms.
package enum RetryAfter {
    /// The wait a response asks for, from its headers (names lower-cased): `retry-after-ms`
    /// (Azure OpenAI, more precise, so preferred) or `retry-after`, in seconds or as an HTTP-date.
    /// nil when neither is there or readable.
    package static func from(headers: [String: String], now: Date = Date()) -> Duration? {
        if let ms = headers["retry-after-ms"].flatMap({ Double(trimmed($0)) }),
           ms.isFinite, ms >= 0 {
            return .milliseconds(ms)
        }
        return headers["retry-after"].flatMap { parse($0, now: now) }
    }

    /// `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date, which becomes the time
    /// left until it (zero if already past). Fractional seconds are accepted, since some servers
    /// send them although the RFC does not.
    package static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let v = trimmed(value)
        if let s = Double(v) {
            guard s.isFinite, s >= 0 else { return nil }
            return .seconds(s)
        }
        guard let date = httpDate(v) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }

    private static func trimmed(_ s: String) -> String {
        String(s.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The three HTTP-date forms a recipient must accept: IMF-fixdate (`Sun, 06 Nov 1994
    /// 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6
    /// 08:49:37 1994`). Parsed by hand: `DateFormatter` is locale-sensitive and not in
    /// FoundationEssentials.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split { $0 == " " || $0 == "," || $0 == "-" }.map(String.init)
        var day: Int?, month: Int?, year: Int?, time: [Int]?
        for p in parts {
            if p.contains(":") {
                let t = p.split(separator: ":").compactMap { Int($0) }
                guard t.count == 3 else { return nil }
                time = t
            } else if let m = months.firstIndex(of: p.lowercased()) {
                month = m + 1
            } else if let n = Int(p) {
                // The day comes before the year in all three forms.
                if day == nil { day = n } else { year = n }
            }
        }
        guard let d = day, let m = month, var y = year, let t = time,
              (1...31).contains(d), (0...23).contains(t[0]), (0...59).contains(t[1]), (0...60).contains(t[2])
        else { return nil }
        // RFC 850's two-digit years: RFC 9110 says one more than 50 years ahead is in the past.
        if y < 100 { y += y < 70 ? 2000 : 1900 }
        let days = daysFromCivil(year: y, month: m, day: d)
        return Date(timeIntervalSince1970: Double(days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
