import Foundation

/// `Redactor` over text that arrives in pieces, without letting a secret through when a piece
/// boundary falls inside it, and holding back only what a pattern could still claim:
///
/// - the trailing token (since the last whitespace): every single-token pattern (API keys,
///   e-mail addresses, US SSNs, the value after `password:`) ends at whitespace;
/// - a trailing run of digits, spaces and dashes (a card number written in groups);
/// - a trailing secret label (`password`, `mật khẩu`, `api key`, ... with its `:` or `=`),
///   whose value is still to come;
/// - with patterns from `generation.yaml` (which may span anything), `extraMargin` characters
///   more;
///
/// and never releasing from inside a match found in what is held. So a delta of plain words
/// goes out as soon as the model has written the space after it. What is released has been
/// redacted in the context of everything held with it.
struct StreamingRedactor {
    let redactor: Redactor
    var extraMargin = 64
    private var held = ""
    private(set) var redactions = 0

    init(_ redactor: Redactor) { self.redactor = redactor }

    /// Adds `piece`; returns the redacted text that may now go out (possibly empty).
    mutating func push(_ piece: String) -> String {
        held += piece
        let cut = safeCut()
        guard cut > 0 else { return "" }
        let ns = held as NSString
        let out = redactor.redact(ns.substring(to: cut))
        redactions += out.count
        held = ns.substring(from: cut)
        return out.text
    }

    /// The rest, redacted: the stream has ended.
    mutating func finish() -> String {
        defer { held = "" }
        let out = redactor.redact(held)
        redactions += out.count
        return out.text
    }

    /// A digit run with spaces or dashes at the end (a card number still being written).
    static let trailingDigits = try! NSRegularExpression(pattern: #"\d[\d \t-]*$"#)
    /// A secret's label at the end, its value not (or not all) written yet.
    static let trailingLabel = try! NSRegularExpression(
        pattern: #"(?i)\b(password|passwd|mật khẩu|mat khau|secret|api[_ -]?key|key|token)(\s*[=:]?\s*)$"#)

    /// Where released text may end, in UTF-16 offsets (what the patterns work in).
    private func safeCut() -> Int {
        let ns = held as NSString
        let whole = NSRange(location: 0, length: ns.length)
        // The trailing token.
        var cut = ns.length
        while cut > 0, let scalar = UnicodeScalar(ns.character(at: cut - 1)), !CharacterSet.whitespacesAndNewlines.contains(scalar) {
            cut -= 1
        }
        let before = NSRange(location: 0, length: cut)
        if let m = Self.trailingDigits.firstMatch(in: held, range: before) { cut = min(cut, m.range.location) }
        if let m = Self.trailingLabel.firstMatch(in: held, range: NSRange(location: 0, length: cut)) { cut = min(cut, m.range.location) }
        if !redactor.extra.isEmpty { cut = max(0, cut - extraMargin) }
        guard cut > 0 else { return 0 }
        // Never from inside a match.
        let patterns = [Redactor.secret, Redactor.apiKey, Redactor.card, Redactor.ssn, Redactor.email] + redactor.extra.map(\.regex)
        var earliest = cut
        for p in patterns {
            for m in p.matches(in: held, range: whole) where m.range.location < cut && m.range.location + m.range.length > cut {
                earliest = min(earliest, m.range.location)
            }
        }
        // Not inside a surrogate pair.
        if earliest > 0, earliest < ns.length, UTF16.isTrailSurrogate(ns.character(at: earliest)) { earliest -= 1 }
        return earliest
    }
}
