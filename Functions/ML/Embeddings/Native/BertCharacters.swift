/// The character classes of Hugging Face tokenizers' `BertNormalizer` and `BertPreTokenizer`,
/// which decide every token id, so they follow that code rather than today's Unicode.
///
/// Its control, punctuation and non-spacing-mark tests come from the `unicode_categories` crate,
/// whose tables were generated from Unicode 8.0: a character assigned later (a new format
/// control, a new script's punctuation or combining mark) is none of those there. Swift's
/// properties are current, so each category test also requires the character's age <= 8.0.
/// Whitespace and lower-casing come from Rust's std, which is current, as Swift's are.
enum BertCharacters {
    @inline(__always)
    static func inUnicode8(_ s: Unicode.Scalar) -> Bool {
        guard let age = s.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// `\t`, `\n`, `\r` and Unicode White_Space (Rust's `char::is_whitespace`).
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A, 0x0D, 0x20: return true
        case 0..<0x80: return false
        default: return s.properties.isWhitespace
        }
    }

    /// Cc, Cf or Co (`is_other` in that crate: no Cn, no Cs), except `\t`, `\n`, `\r`, which are
    /// whitespace. `clean_text` drops these.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0..<0x20, 0x7F: return true
        case 0x20..<0x7F: return false
        default:
            switch s.properties.generalCategory {
            case .control, .format, .privateUse: return inUnicode8(s)
            default: return false
            }
        }
    }

    /// ASCII punctuation (which includes the ASCII symbols `$+<=>^`|~`) or a Unicode P*
    /// category. Non-ASCII symbols (`€`, `≈`, emoji) are not punctuation and stay inside words.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        case 0..<0x80: return false
        default:
            switch s.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return inUnicode8(s)
            default: return false
            }
        }
    }

    /// Mn, which accent stripping removes after NFD.
    @inline(__always)
    static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool {
        s.value >= 0x300 && s.properties.generalCategory == .nonspacingMark && inUnicode8(s)
    }

    /// The CJK ideograph blocks `handle_chinese_chars` puts spaces around (not kana, not Hangul:
    /// those scripts separate words with spaces).
    @inline(__always)
    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
