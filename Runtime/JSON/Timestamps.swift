#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Timestamp formats AWS uses, computed with `gmtime_r` (no locale, no ICU, cheap on a hot path).
public enum Timestamps {
    /// Milliseconds since the Unix epoch, from the wall clock.
    public static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    private static func parts(_ ms: Int64) -> tm {
        var t = time_t(ms / 1000)
        var out = tm()
        gmtime_r(&t, &out)
        return out
    }

    private static func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `2026-11-21T19:59:04.123Z`
    public static func iso8601Millis(_ ms: Int64) -> String {
        let t = parts(ms)
        return "\(t.tm_year + 1900)-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)).\(pad(Int32(ms % 1000), 3))Z"
    }

    /// `2026-11-21T19:59:04Z` (EventBridge `time`).
    public static func iso8601Seconds(_ ms: Int64) -> String {
        let t = parts(ms)
        return "\(t.tm_year + 1900)-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2))Z"
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `21/Nov/2026:19:59:04 +0000` (API Gateway `requestContext.time`).
    public static func clf(_ ms: Int64) -> String {
        let t = parts(ms)
        return "\(pad(t.tm_mday, 2))/\(months[Int(t.tm_mon)])/\(t.tm_year + 1900):\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):\(pad(t.tm_sec, 2)) +0000"
    }
}
