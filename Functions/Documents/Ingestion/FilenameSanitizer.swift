import Foundation

/// Makes a client's file name safe to store and show (it is never used as a path, but it is
/// echoed in listings, logs and `Content-Disposition` headers):
///
/// - NFC-normalised, so `Tiếng Việt.txt` typed on macOS (NFD) and on Windows compare equal;
/// - directories dropped, with `/` and `\` both separators (`C:\Users\a\b.pdf` gives `b.pdf`);
/// - control characters (C0, DEL, C1), bidirectional overrides (the `exe.txt` trick) and BOMs removed;
/// - characters reserved on common file systems (`< > : " / \ | ? *`) become `_`;
/// - runs of dots collapse to one (no `..` anywhere), leading dots and spaces and trailing dots
///   and spaces removed, whitespace runs become one space;
/// - Windows device names (`CON`, `NUL`, `COM1`...) get a `_` prefix;
/// - at most 255 bytes of UTF-8, cut between characters, keeping the extension;
/// - an empty result becomes `document.<extension of the type>` (`document` without a type).
package enum FilenameSanitizer {
    package static let maxBytes = 255
    /// An extension longer than this is treated as part of the name when truncating.
    static let maxExtensionBytes = 16

    package static func sanitize(_ raw: String?, type: DocumentType? = nil) -> String {
        let fallback = "document" + (type.map { "." + $0.defaultExtension } ?? "")
        guard let raw else { return fallback }
        let nfc = raw.precomposedStringWithCanonicalMapping
        // The last path component, `/` and `\` both being separators.
        let base = nfc.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""

        var cleaned = String.UnicodeScalarView()
        var lastWasSpace = false
        var lastWasDot = false
        for s in base.unicodeScalars {
            let v = s.value
            if v < 0x20 || (0x7F...0x9F).contains(v) || isInvisibleFormat(v) { continue }
            var out = s
            if "<>:\"|?*".unicodeScalars.contains(s) { out = "_" }
            if s.properties.isWhitespace { out = " " }
            if out == " " {
                if lastWasSpace { continue }
                lastWasSpace = true
            } else {
                lastWasSpace = false
            }
            if out == "." {
                if lastWasDot { continue }
                lastWasDot = true
            } else {
                lastWasDot = false
            }
            cleaned.append(out)
        }
        var name = String(cleaned)
        // Leading dots and spaces (hidden files, "..", " .bashrc"), trailing dots and spaces.
        while let first = name.first, first == "." || first == " " { name.removeFirst() }
        while let last = name.last, last == "." || last == " " { name.removeLast() }
        guard !name.isEmpty else { return fallback }

        var (stem, ext) = splitExtension(name)
        let device = stem.split(separator: ".", maxSplits: 1).first.map { $0.trimmingASCIISpaces().uppercased() } ?? ""
        if reservedDeviceNames.contains(device) { stem = "_" + stem }
        if stem.isEmpty { stem = "document" }
        let suffix = ext.map { "." + $0 } ?? ""
        let room = maxBytes - suffix.utf8.count
        if stem.utf8.count > room {
            var cut = ""
            var bytes = 0
            for c in stem {
                let n = c.utf8.count
                if bytes + n > room { break }
                cut.append(c)
                bytes += n
            }
            stem = cut
            while let last = stem.last, last == " " || last == "." { stem.removeLast() }
            if stem.isEmpty { stem = "document" }
        }
        return stem + suffix
    }

    /// `report.final.pdf` gives (`report.final`, `pdf`); a name without a usable extension gives nil.
    static func splitExtension(_ name: String) -> (stem: String, ext: String?) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, nil) }
        let ext = String(name[name.index(after: dot)...])
        guard !ext.isEmpty, ext.utf8.count <= maxExtensionBytes, !ext.contains(" ") else { return (name, nil) }
        return (String(name[..<dot]), ext)
    }

    static let reservedDeviceNames: Set<String> = {
        var names: Set<String> = ["CON", "PRN", "AUX", "NUL"]
        for n in 1...9 { names.insert("COM\(n)"); names.insert("LPT\(n)") }
        return names
    }()

    /// Bidi embeddings/overrides/isolates, marks, BOM, line and paragraph separators: invisible
    /// characters that make a name display as something it is not. ZWJ/ZWNJ stay (emoji, scripts).
    static func isInvisibleFormat(_ v: UInt32) -> Bool {
        switch v {
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x061C, 0xFEFF, 0x2028, 0x2029, 0x200B, 0x2060: true
        default: false
        }
    }
}
