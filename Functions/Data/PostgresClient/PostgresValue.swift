import CLibPQ
import Foundation

/// A statement parameter. Values always travel separately from the SQL text (`$1`, `$2`, ...),
/// so no value can change the meaning of a statement, whatever it contains.
///
/// Each case is sent with its Postgres type, so the server does not guess: `.text` is `text`,
/// `.int` is `bigint`, `.double` is `double precision`, and so on. Two exceptions:
/// `.null` and `.vector` are sent untyped and take their type from context. pgvector's type has
/// no fixed OID, and `embedding <=> $1` or an INSERT into a `vector` column says what it is;
/// where nothing does (e.g. `SELECT $1`), write `$1::vector`.
///
/// Typed parameters resolve like typed values in SQL: `.int` is `bigint`, so a function that
/// takes `integer` wants `$1::int`; `.text` compared with an enum or date column wants a cast
/// (`$1::status`), or the matching case (`.uuid`, `.timestamptz`).
package enum PostgresValue: Sendable, Hashable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytea(Data)
    /// Sent as UTC with microseconds, which is all Postgres keeps.
    case timestamptz(Date)
    case json(String)
    case jsonb(String)
    /// Any spelling Postgres accepts (`UUID().uuidString` works).
    case uuid(String)
    /// pgvector `vector`, sent as its text literal `[1.5,2,3]`. Each float is written in its
    /// shortest round-trip form, so what you read back is bit-for-bit what you wrote.
    case vector([Float])

    package static func bytea(_ bytes: [UInt8]) -> PostgresValue { .bytea(Data(bytes)) }
    package static func int(_ value: Int) -> PostgresValue { .int(Int64(value)) }

    /// How libpq receives it: type OID (0 = let the server infer), bytes, and whether they are
    /// binary. Everything is text except bytea, which is binary to avoid a hex round trip.
    var wire: (oid: Oid, bytes: [UInt8]?, binary: Bool) {
        switch self {
        case .null: return (0, nil, false)
        case .text(let s): return (25, Array(s.utf8), false)
        case .int(let v): return (20, Array(String(v).utf8), false)
        case .double(let v): return (701, Array("\(v)".utf8), false)
        case .bool(let v): return (16, Array((v ? "true" : "false").utf8), false)
        case .bytea(let d): return (17, Array(d), true)
        case .timestamptz(let d): return (1184, Array(PostgresValue.timestampText(d).utf8), false)
        case .json(let s): return (114, Array(s.utf8), false)
        case .jsonb(let s): return (3802, Array(s.utf8), false)
        case .uuid(let s): return (2950, Array(s.utf8), false)
        case .vector(let v): return (0, Array(PostgresValue.vectorText(v).utf8), false)
        }
    }

    static func vectorText(_ v: [Float]) -> String {
        "[" + v.map { "\($0)" }.joined(separator: ",") + "]"
    }

    /// ISO 8601 in UTC with exactly six fractional digits, computed without Calendar or
    /// DateFormatter (neither needed, both slow and locale-sensitive).
    static func timestampText(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (secs, frac) = floorDivMod(micros, 1_000_000)
        let (days, secOfDay) = floorDivMod(secs, 86_400)
        let (y, m, d) = civil(fromDays: days)
        let yearText = y > 0 ? pad(y, 4) : pad(1 - y, 4)
        return "\(yearText)-\(pad(m, 2))-\(pad(d, 2)) \(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(frac, 6))+00" + (y > 0 ? "" : " BC")
    }
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    package init(stringLiteral value: String) { self = .text(value) }
    package init(integerLiteral value: Int64) { self = .int(value) }
    package init(floatLiteral value: Double) { self = .double(value) }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(nilLiteral: ()) { self = .null }
}

// MARK: - Calendar arithmetic (proleptic Gregorian, as Postgres uses)

func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let q = a / b, r = a % b
    return r < 0 ? (q - 1, r + b) : (q, r)
}

private func pad(_ v: Int64, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// Days since 1970-01-01 for a date (Howard Hinnant's `days_from_civil`); year 0 is 1 BC.
func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}
