import Foundation

/// The text keyword search matches on: lower-cased, accents removed, `đ` as `d`, so Vietnamese
/// typed without diacritics ("xin nghi phep") finds "xin nghỉ phép". Both stores index this
/// folded form and fold queries the same way, so they agree on what matches.
package enum TextFolding {
    package static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.value {
            case 0x0300...0x036F: continue  // combining diacritical marks
            case 0x0111, 0x0110: out.append("d")  // đ Đ: a letter of its own, not d + mark
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Word tokens of folded text: letters and digits; everything else separates.
    package static func terms(_ text: String) -> [String] {
        fold(text).split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }
}
