import Foundation

/// Personal data and secrets in text that is about to leave for a provider outside this process
/// (seed 004's "PII detection forces local processing"): e-mail addresses, phone numbers
/// (Vietnamese mobile and landline forms, +84, and international +country forms), Vietnamese
/// citizen ID numbers (the 12-digit CCCD), card numbers (Luhn-checked, so order numbers pass),
/// IBANs (mod-97 checked) and API keys and tokens (provider key shapes, JWTs, `password=`-style
/// secrets). Regular expressions with checksums where a format has one: the forms are fixed
/// and documented, and a checksum rules out most look-alike numbers.
package struct PIIDetector: Sendable {
    package enum Kind: String, Sendable, CaseIterable, Comparable {
        case email, phone, citizenID = "citizen_id", card, iban, secret
        package static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    package struct Match: Sendable, Equatable {
        package var kind: Kind
        package var range: NSRange
    }

    package static let mask = "[REDACTED]"

    package init() {}

    // Order matters: earlier kinds win an overlap (a card number is not also a phone number).
    private static let patterns: [(Kind, NSRegularExpressionBox, (@Sendable (String) -> Bool)?)] = [
        (.secret, box(#"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|xai-[A-Za-z0-9]{20,}|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"#), nil),
        (.secret, box(#"(?i)\b(?:password|passwd|mật khẩu|mat khau|secret|api[_ -]?key|token)\s*[=:]\s*\S+"#), nil),
        (.email, box(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#), nil),
        (.iban, box(#"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"#), { ibanValid($0) }),
        (.card, box(#"(?<!\d)\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{1,7}(?!\d)"#), { luhn($0.filter(\.isNumber)) }),
        (.citizenID, box(#"(?<!\d)0\d{2}[0-3]\d{8}(?!\d)"#), nil),
        (.phone, box(#"(?<![\d+])(?:\+84|84|0)(?:[ .\-]?\d){9,10}(?!\d)"#), nil),
        (.phone, box(#"(?<![\d+])\+\d{1,3}(?:[ .\-]?\d){6,12}(?!\d)"#), nil),
    ]

    private static func box(_ p: String) -> NSRegularExpressionBox { NSRegularExpressionBox(regex: try! NSRegularExpression(pattern: p)) }

    /// The matches, in text order, none overlapping.
    package func matches(in text: String) -> [Match] {
        let ns = text as NSString
        var taken: [Match] = []
        for (kind, box, check) in Self.patterns {
            for m in box.regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                if let check, !check(ns.substring(with: m.range)) { continue }
                if taken.contains(where: { NSIntersectionRange($0.range, m.range).length > 0 }) { continue }
                taken.append(Match(kind: kind, range: m.range))
            }
        }
        return taken.sorted { $0.range.location < $1.range.location }
    }

    /// The kinds found (empty when the text is clean).
    package func kinds(in text: String) -> Set<Kind> { Set(matches(in: text).map(\.kind)) }

    /// The text with each match replaced by the mask, and how many there were.
    package func redact(_ text: String) -> (text: String, count: Int) {
        let found = matches(in: text)
        guard !found.isEmpty else { return (text, 0) }
        let ns = text as NSString
        var out = ""
        var last = 0
        for m in found {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last)) + Self.mask
            last = m.range.location + m.range.length
        }
        return (out + ns.substring(from: last), found.count)
    }

    /// The Luhn checksum of 13 to 19 digits (card numbers).
    package static func luhn(_ digits: String) -> Bool {
        guard (13...19).contains(digits.count) else { return false }
        var sum = 0
        for (i, ch) in digits.reversed().enumerated() {
            guard var d = ch.wholeNumberValue else { return false }
            if i % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }

    /// ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1.
    static func ibanValid(_ text: String) -> Bool {
        let s = text.replacingOccurrences(of: " ", with: "")
        guard (15...34).contains(s.count) else { return false }
        var remainder = 0
        for ch in s.dropFirst(4) + s.prefix(4) {
            if let d = ch.wholeNumberValue, ch.isASCII { remainder = (remainder * 10 + d) % 97 }
            else if let a = ch.asciiValue, (65...90).contains(a) { remainder = (remainder * 100 + Int(a) - 55) % 97 }
            else { return false }
        }
        return remainder == 1
    }
}

/// `NSRegularExpression` is immutable and thread-safe once built, but not marked `Sendable`.
package struct NSRegularExpressionBox: @unchecked Sendable {
    package let regex: NSRegularExpression
    package init(regex: NSRegularExpression) { self.regex = regex }
}
