import Foundation

/// A statement's result, copied out of libpq at once so the C result can be freed immediately;
/// afterwards it is a plain value that can cross threads and outlive the connection.
///
/// Values arrive in Postgres's text format and are parsed by the typed accessors on
/// `PostgresRow`, which throw `PostgresError` (kind `.decoding`) for NULL, a missing column or a
/// value of another type, naming the column and the value.
package struct PostgresRows: Sendable, RandomAccessCollection {
    /// Column names, in SELECT order.
    package var columns: [String] { layout.names }
    /// Rows inserted, updated, deleted, selected... as the command tag reports (`PQcmdTuples`).
    package let affectedRows: Int
    let layout: ColumnLayout
    let cells: [String?]

    init(layout: ColumnLayout, cells: [String?], affectedRows: Int) {
        self.layout = layout
        self.cells = cells
        self.affectedRows = affectedRows
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { layout.names.isEmpty ? 0 : cells.count / layout.names.count }
    package subscript(position: Int) -> PostgresRow {
        let n = layout.names.count
        return PostgresRow(layout: layout, cells: cells[position * n..<(position + 1) * n])
    }
}

/// Names a column by name or by position: `row.string("title")`, `row.string(0)`. Conform your
/// own enum of column names to keep names in one place.
package protocol PostgresColumn: Sendable {
    func index(in row: PostgresRow) throws(PostgresError) -> Int
}

extension String: PostgresColumn {
    package func index(in row: PostgresRow) throws(PostgresError) -> Int {
        guard let i = row.layout.index[self] else {
            throw PostgresError(
                kind: .decoding,
                message: "no column \"\(self)\" in the result (columns: \(row.columns.joined(separator: ", ")))")
        }
        return i
    }
}

extension Int: PostgresColumn {
    package func index(in row: PostgresRow) throws(PostgresError) -> Int {
        guard self >= 0, self < row.columns.count else {
            throw PostgresError(kind: .decoding, message: "column index \(self) out of range (\(row.columns.count) columns)")
        }
        return self
    }
}

extension RawRepresentable where RawValue == String, Self: PostgresColumn {
    package func index(in row: PostgresRow) throws(PostgresError) -> Int { try rawValue.index(in: row) }
}

/// One row. Accessors return non-optional values and throw on NULL, so a NOT NULL column reads
/// in one line; for nullable columns check `isNull` first.
package struct PostgresRow: Sendable {
    let layout: ColumnLayout
    let cells: ArraySlice<String?>

    package var columns: [String] { layout.names }

    package func isNull(_ column: some PostgresColumn) throws(PostgresError) -> Bool {
        cells[cells.startIndex + (try column.index(in: self))] == nil
    }

    /// The value as Postgres printed it; works for any type (numeric, uuid, json, enum...).
    package func string(_ column: some PostgresColumn) throws(PostgresError) -> String {
        try raw(column).text
    }

    package func int(_ column: some PostgresColumn) throws(PostgresError) -> Int64 {
        let (name, text) = try raw(column)
        guard let v = Int64(text) else { throw mismatch(name, text, "an integer") }
        return v
    }

    /// Also reads `numeric`, `real` and integers; `NaN`/`Infinity` as Postgres spells them.
    package func double(_ column: some PostgresColumn) throws(PostgresError) -> Double {
        let (name, text) = try raw(column)
        guard let v = Double(text) else { throw mismatch(name, text, "a number") }
        return v
    }

    package func bool(_ column: some PostgresColumn) throws(PostgresError) -> Bool {
        let (name, text) = try raw(column)
        switch text {
        case "t", "true": return true
        case "f", "false": return false
        default: throw mismatch(name, text, "a boolean")
        }
    }

    /// `timestamptz` (any session time zone, incl. offsets with minutes or seconds), `timestamp`
    /// (taken as UTC) and `date` (midnight UTC), in Postgres's default ISO DateStyle.
    /// `infinity`/`-infinity` read as `Date.distantFuture`/`Date.distantPast`.
    package func date(_ column: some PostgresColumn) throws(PostgresError) -> Date {
        let (name, text) = try raw(column)
        guard let d = parseTimestamp(text) else { throw mismatch(name, text, "an ISO timestamp") }
        return d
    }

    /// `bytea` in its hex output format (`\x0a1b...`, the default since Postgres 9.0).
    package func bytes(_ column: some PostgresColumn) throws(PostgresError) -> Data {
        let (name, text) = try raw(column)
        guard let d = parseHexBytea(text) else { throw mismatch(name, text, "bytea in hex format") }
        return d
    }

    /// pgvector `vector` (`[1,2,3]`); also `real[]` (`{1,2,3}`).
    package func floats(_ column: some PostgresColumn) throws(PostgresError) -> [Float] {
        let (name, text) = try raw(column)
        guard let v = parseFloats(text) else { throw mismatch(name, text, "a vector") }
        return v
    }

    private func raw(_ column: some PostgresColumn) throws(PostgresError) -> (name: String, text: String) {
        let i = try column.index(in: self)
        let name = layout.names[i]
        guard let text = cells[cells.startIndex + i] else {
            throw PostgresError(kind: .decoding, message: "column \"\(name)\" is NULL")
        }
        return (name, text)
    }

    private func mismatch(_ name: String, _ text: String, _ expected: String) -> PostgresError {
        let shown = text.count > 60 ? String(text.prefix(60)) + "..." : text
        return PostgresError(kind: .decoding, message: "column \"\(name)\" is not \(expected): \"\(shown)\"")
    }
}

/// Shared by every row of a result: names once, and the name lookup built once.
final class ColumnLayout: Sendable {
    let names: [String]
    let index: [String: Int]

    init(names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }  // first wins, as in SQL
        self.index = index
    }
}

// MARK: - Text format parsers

func parseFloats(_ text: String) -> [Float]? {
    guard let open = text.first, let close = text.last, text.count >= 2,
        (open == "[" && close == "]") || (open == "{" && close == "}")
    else { return nil }
    let inner = text.dropFirst().dropLast()
    if inner.isEmpty { return [] }
    var out: [Float] = []
    for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
        guard let f = Float(part.trimmingCharacters(in: .whitespaces)) else { return nil }
        out.append(f)
    }
    return out
}

func parseHexBytea(_ text: String) -> Data? {
    let u = Array(text.utf8)
    guard u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x"), u.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
    var out = Data(capacity: (u.count - 2) / 2)
    var i = 2
    while i < u.count {
        guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// `YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]][(+|-)HH[:MM[:SS]] | Z][ BC]`, years of 4 or more digits.
func parseTimestamp(_ text: String) -> Date? {
    if text == "infinity" { return .distantFuture }
    if text == "-infinity" { return .distantPast }
    var u = Array(text.utf8)
    var bc = false
    if u.count > 3, u.suffix(3) == Array(" BC".utf8) { bc = true; u.removeLast(3) }
    var i = 0
    func number(minDigits: Int, maxDigits: Int) -> Int64? {
        var v: Int64 = 0, n = 0
        while i < u.count, n < maxDigits, u[i] >= 48, u[i] <= 57 { v = v * 10 + Int64(u[i] - 48); i += 1; n += 1 }
        return n >= minDigits ? v : nil
    }
    func expect(_ c: Character) -> Bool {
        guard i < u.count, u[i] == c.asciiValue! else { return false }
        i += 1
        return true
    }
    guard var year = number(minDigits: 4, maxDigits: 9), expect("-"), let month = number(minDigits: 2, maxDigits: 2),
        expect("-"), let day = number(minDigits: 2, maxDigits: 2), (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    if bc { year = 1 - year }
    var seconds = days(fromCivil: year, month, day) * 86_400
    var micros: Int64 = 0
    if i < u.count, u[i] == UInt8(ascii: " ") || u[i] == UInt8(ascii: "T") {
        i += 1
        guard let h = number(minDigits: 2, maxDigits: 2), expect(":"), let m = number(minDigits: 2, maxDigits: 2),
            expect(":"), let s = number(minDigits: 2, maxDigits: 2)
        else { return nil }
        seconds += h * 3600 + m * 60 + s
        if expect(".") {
            let start = i
            guard let f = number(minDigits: 1, maxDigits: 6) else { return nil }
            micros = f * [1, 100_000, 10_000, 1_000, 100, 10, 1][i - start]
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }  // beyond microseconds: ignored
        }
        if expect("Z") {
        } else if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign: Int64 = u[i] == UInt8(ascii: "+") ? 1 : -1
            i += 1
            guard let oh = number(minDigits: 2, maxDigits: 2) else { return nil }
            var offset = oh * 3600
            if expect(":") { guard let om = number(minDigits: 2, maxDigits: 2) else { return nil }; offset += om * 60 }
            if expect(":") { guard let os = number(minDigits: 2, maxDigits: 2) else { return nil }; offset += os }
            seconds -= sign * offset
        }
    }
    guard i == u.count else { return nil }
    return Date(timeIntervalSince1970: Double(seconds * 1_000_000 + micros) / 1_000_000)
}
