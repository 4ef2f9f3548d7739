/// A tenant's id, parsed once from the token's `org_id` claim and trusted everywhere after.
///
/// The pattern: 1-128 ASCII characters of letters, digits and `. _ - : @`, starting with a
/// letter or a digit. It leaves out everything that could make two different ids select the
/// same rows or the same folder: NUL (SQLite and libpq cut C strings there, so `acme\0` was
/// `acme`), spaces, `/` and `\`, `.` and `..` as whole names, SQL wildcards (`%`, `*`), and any
/// non-ASCII character (zero-width spaces and homoglyphs: `аcme` with a Cyrillic `а`). Upper
/// and lower case are different tenants: both stores compare ids byte for byte.
///
/// API Gateway hands every claim over as a string (`[a b]` for a list, `123` for a number); the
/// pattern applies to the string a function receives, so a numeric claim `123` is the tenant
/// `"123"`, and a list, an object or `null` is refused.
package struct OrgID: Hashable, Comparable, Sendable, CustomStringConvertible {
    package static let maxLength = 128
    /// The rule in words, for error messages and the API description.
    package static let rule = "1-128 ASCII letters, digits and . _ - : @, starting with a letter or digit"

    package let rawValue: String

    /// Nil unless `raw` follows the pattern exactly (nothing is trimmed or folded).
    package init?(_ raw: String) {
        guard Self.isValid(raw) else { return nil }
        rawValue = raw
    }

    /// An id read back from the store: it was validated when it was written.
    package init(stored raw: String) { rawValue = raw }

    package static func isValid(_ raw: String) -> Bool {
        let bytes = raw.utf8
        guard (1...maxLength).contains(bytes.count), let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "@") }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    package var description: String { rawValue }
    package static func < (a: OrgID, b: OrgID) -> Bool { a.rawValue < b.rawValue }
}

/// Literals are constants a programmer wrote (tests, tools): one that breaks the pattern is a
/// bug in that code, caught on first use.
extension OrgID: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    package init(stringLiteral value: String) {
        guard let id = OrgID(value) else { preconditionFailure("\(value.debugDescription) is not a valid OrgID (\(Self.rule))") }
        self = id
    }

    package init(stringInterpolation: DefaultStringInterpolation) {
        self.init(stringLiteral: String(stringInterpolation: stringInterpolation))
    }
}

/// Encoded as the plain string; decoding validates, so a job or event naming a malformed org
/// fails to decode instead of reaching a query.
extension OrgID: Codable {
    package init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let id = OrgID(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a valid org id (\(Self.rule))"))
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

extension OrgID {
    /// The org's bucket for gradual rollouts, 0..<100: FNV-1a of its id, so an org stays in or out
    /// of a canary across processes, instances and restarts, and a larger percent only adds orgs.
    package var rolloutBucket: Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in rawValue.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(h % 100)
    }
}
