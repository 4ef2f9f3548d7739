import Foundation
import TextFolding

/// Compiles rule and entity patterns to match the folded text (lower-case, no diacritics, đ→d).
///
/// Authors may write a pattern with accents (`nghỉ\s+phép`) or without (`nghi\s+phep`): every
/// non-ASCII character of the source is folded, ASCII is left alone so escapes such as `\D` or
/// `\S` keep their meaning, and matching is case-insensitive. One folded match per pattern then
/// covers requests typed with and without accents.
enum PatternCompiler {
    static func foldedSource(_ source: String) -> String {
        var out = ""
        out.reserveCapacity(source.utf8.count)
        for ch in source {
            if ch.isASCII { out.append(ch) } else { out += TextFolding.fold(String(ch)) }
        }
        return out
    }

    /// The compiled pattern, or the ICU error's text.
    static func compile(_ source: String) -> Result<NSRegularExpression, RegexFailure> {
        do {
            return .success(try NSRegularExpression(pattern: foldedSource(source), options: [.caseInsensitive]))
        } catch {
            return .failure(RegexFailure(reason: (error as NSError).localizedDescription))
        }
    }

    struct RegexFailure: Error { let reason: String }
}

extension NSRegularExpression {
    /// The first match's text in `text`, if any.
    func firstMatchText(in text: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        guard let m = firstMatch(in: text, options: [], range: range), let r = Range(m.range, in: text) else { return nil }
        return String(text[r])
    }
}
