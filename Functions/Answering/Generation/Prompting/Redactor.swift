import Foundation
import PrivacyGuard

/// Removes secrets and personal numbers from what the function returns (the answer and the
/// quoted `used_content`), the seed's output sanitisation: `password: x`-style secrets (the
/// label kept, the value replaced), provider-style API keys, card numbers (16 digits in groups,
/// Luhn-checked so order and phone numbers survive), US social security numbers and e-mail
/// addresses, plus any patterns `generation.yaml` adds.
struct Redactor: Sendable {
    static let mask = "[REDACTED]"

    let extra: [NSRegularExpressionBox]

    init(extraPatterns: [String] = []) {
        extra = extraPatterns.compactMap { try? NSRegularExpression(pattern: $0) }.map(NSRegularExpressionBox.init)
    }

    static let secret = try! NSRegularExpression(pattern: #"(?i)\b(password|passwd|mật khẩu|mat khau|secret|api[_ -]?key|key|token)(\s*[=:]\s*)\S+"#)
    static let apiKey = try! NSRegularExpression(pattern: #"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_\-]{35}|gh[pousr]_[A-Za-z0-9]{30,}|xai-[A-Za-z0-9]{20,})"#)
    static let card = try! NSRegularExpression(pattern: #"\b\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}\b"#)
    static let ssn = try! NSRegularExpression(pattern: #"\b\d{3}-\d{2}-\d{4}\b"#)
    static let email = try! NSRegularExpression(pattern: #"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#)

    struct Result: Equatable {
        var text: String
        var count: Int
    }

    func redact(_ text: String) -> Result {
        var count = 0
        var t = text
        t = Self.replace(Self.secret, in: t, count: &count) { m, ns in
            ns.substring(with: m.range(at: 1)) + ns.substring(with: m.range(at: 2)) + Self.mask
        }
        t = Self.replace(Self.apiKey, in: t, count: &count) { _, _ in Self.mask }
        t = Self.replace(Self.card, in: t, count: &count) { m, ns in
            let digits = ns.substring(with: m.range).filter(\.isNumber)
            return PIIDetector.luhn(digits) ? Self.mask : nil
        }
        t = Self.replace(Self.ssn, in: t, count: &count) { _, _ in Self.mask }
        t = Self.replace(Self.email, in: t, count: &count) { _, _ in Self.mask }
        for box in extra { t = Self.replace(box.regex, in: t, count: &count) { _, _ in Self.mask } }
        return Result(text: t, count: count)
    }

    /// Replaces each match with `with`'s answer (nil keeps the match).
    static func replace(_ regex: NSRegularExpression, in text: String, count: inout Int,
                        with: (NSTextCheckingResult, NSString) -> String?) -> String {
        let ns = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return text }
        var out = ""
        var last = 0
        for m in matches {
            guard let replacement = with(m, ns) else { continue }
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last)) + replacement
            last = m.range.location + m.range.length
            count += 1
        }
        return out + ns.substring(from: last)
    }
}
