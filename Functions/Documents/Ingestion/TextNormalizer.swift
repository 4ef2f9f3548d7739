import Foundation

/// The clean-up every extracted text goes through, so the chunker and the hashes see one form:
/// line ends as `\n` (CRLF, CR, U+2028/2029, vertical tab, form feed), tabs, no-break and other
/// Unicode spaces as plain spaces, control and invisible characters (C0/C1 except `\n`, zero
/// width space, soft hyphen, BOM) removed, the Latin ligatures PDFs are full of (`ﬁ`, `ﬂ`, `ﬀ`...)
/// spelled out so words match a search, trailing whitespace trimmed per line, runs of blank
/// lines collapsed to one blank line, no blank lines at the start or end, Unicode NFC.
package enum TextNormalizer {
    package static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var line = String.UnicodeScalarView()
        var blankPending = false
        var previousWasCR = false

        func endLine() {
            while let last = line.last, last == " " { line.removeLast() }
            if line.isEmpty {
                if !out.isEmpty { blankPending = true }
            } else {
                if !out.isEmpty { out.append(contentsOf: blankPending ? "\n\n".unicodeScalars : "\n".unicodeScalars) }
                out.append(contentsOf: line)
                line.removeAll(keepingCapacity: true)
                blankPending = false
            }
        }

        for s in text.unicodeScalars {
            let v = s.value
            defer { previousWasCR = v == 0x0D }
            switch v {
            case 0x0A:
                if previousWasCR { continue }  // the LF of a CRLF
                endLine()
            case 0x0D, 0x0B, 0x0C, 0x2028, 0x2029:
                endLine()
            case 0x09, 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
                line.append(" ")
            case 0x00..<0x20, 0x7F...0x9F, 0x200B, 0x2060, 0xFEFF, 0xAD:
                continue
            case 0xFB00...0xFB06:
                line.append(contentsOf: ["ff", "fi", "fl", "ffi", "ffl", "st", "st"][Int(v - 0xFB00)].unicodeScalars)
            default:
                line.append(s)
            }
        }
        endLine()
        return String(out).precomposedStringWithCanonicalMapping
    }
}
