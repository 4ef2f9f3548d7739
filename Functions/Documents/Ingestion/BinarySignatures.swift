/// Magic numbers of common binary formats we do not ingest, so a PNG named `notes.txt` and
/// declared `text/plain` is refused as what it is (415), not read as text. Only signatures
/// unlikely to begin real text are listed: executables and most other binaries also fail the
/// NUL-byte test of `ContentSniffer`.
enum BinarySignatures {
    private static let table: [(offset: Int, magic: [UInt8], mime: String)] = [
        (0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "image/png"),
        (0, [0xFF, 0xD8, 0xFF], "image/jpeg"),
        (0, Array("GIF87a".utf8), "image/gif"),
        (0, Array("GIF89a".utf8), "image/gif"),
        (0, [0x49, 0x49, 0x2A, 0x00], "image/tiff"),
        (0, [0x4D, 0x4D, 0x00, 0x2A], "image/tiff"),
        (0, [0x00, 0x00, 0x01, 0x00], "image/x-icon"),
        (0, Array("8BPS".utf8), "image/vnd.adobe.photoshop"),
        (0, [0x1F, 0x8B], "application/gzip"),
        (0, [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "application/x-xz"),
        (0, [0x28, 0xB5, 0x2F, 0xFD], "application/zstd"),
        (0, [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "application/x-7z-compressed"),
        (0, Array("Rar!\u{1A}\u{07}".utf8), "application/vnd.rar"),
        (257, Array("ustar".utf8), "application/x-tar"),
        (0, [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "application/x-ole-storage"),  // .doc .xls .ppt .msg
        (0, Array("{\\rtf".utf8), "application/rtf"),
        (0, Array("%!PS".utf8), "application/postscript"),
        (0, [0x7F, 0x45, 0x4C, 0x46], "application/x-elf"),
        (0, [0xFE, 0xED, 0xFA, 0xCE], "application/x-mach-binary"),
        (0, [0xFE, 0xED, 0xFA, 0xCF], "application/x-mach-binary"),
        (0, [0xCE, 0xFA, 0xED, 0xFE], "application/x-mach-binary"),
        (0, [0xCF, 0xFA, 0xED, 0xFE], "application/x-mach-binary"),
        (0, [0xCA, 0xFE, 0xBA, 0xBE], "application/java-vm"),
        (0, [0x00, 0x61, 0x73, 0x6D], "application/wasm"),
        (0, Array("SQLite format 3\u{0}".utf8), "application/vnd.sqlite3"),
        (0, [0x49, 0x44, 0x33, 0x03, 0x00], "audio/mpeg"),
        (0, [0x49, 0x44, 0x33, 0x04, 0x00], "audio/mpeg"),
        (0, Array("OggS".utf8), "audio/ogg"),
        (0, Array("fLaC".utf8), "audio/flac"),
        (0, [0x1A, 0x45, 0xDF, 0xA3], "video/webm"),
        (0, Array("wOFF".utf8), "font/woff"),
        (0, Array("wOF2".utf8), "font/woff2"),
        (0, [0x00, 0x01, 0x00, 0x00, 0x00], "font/ttf"),
        (0, Array("OTTO\u{0}".utf8), "font/otf"),
    ]

    /// The MIME type of a recognised binary format, or nil.
    static func detect(_ b: [UInt8]) -> String? {
        if b.count >= 4, b[0] == 0x50, b[1] == 0x4B, (b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) || (b[2] == 7 && b[3] == 8) {
            return zipFlavour(b)
        }
        if b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8) {
            switch String(decoding: b[8..<12], as: UTF8.self) {
            case "WEBP": return "image/webp"
            case "WAVE": return "audio/wav"
            case "AVI ": return "video/x-msvideo"
            default: return "application/x-riff"
            }
        }
        if b.count >= 12, b[4..<8].elementsEqual("ftyp".utf8) {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if brand.hasPrefix("hei") || brand.hasPrefix("mif1") || brand == "avif" { return "image/heic" }
            return brand.hasPrefix("M4A") ? "audio/mp4" : "video/mp4"
        }
        if b.count >= 10, b[0..<3].elementsEqual("BZh".utf8), (0x31...0x39).contains(b[3]), b[4..<10].elementsEqual("1AY&SY".utf8) {
            return "application/x-bzip2"
        }
        for (offset, magic, mime) in table where b.count >= offset + magic.count {
            if b[offset..<(offset + magic.count)].elementsEqual(magic) { return mime }
        }
        return nil
    }

    /// ZIP, or the office/e-book format inside it (named for a clearer 415).
    private static func zipFlavour(_ b: [UInt8]) -> String {
        // ODF and EPUB store an uncompressed `mimetype` entry first (its data at offset 38).
        if b.count > 38, b[30..<38].elementsEqual("mimetype".utf8) {
            let end = b[38...].prefix(80).firstIndex(where: { $0 < 0x21 || $0 == 0x50 }) ?? min(b.count, 118)
            let mime = String(decoding: b[38..<end], as: UTF8.self)
            if mime.hasPrefix("application/") { return mime }
        }
        let head = b.prefix(64 * 1024)
        if contains(head, "word/") { return "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }
        if contains(head, "xl/") { return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }
        if contains(head, "ppt/") { return "application/vnd.openxmlformats-officedocument.presentationml.presentation" }
        return "application/zip"
    }

    private static func contains(_ haystack: ArraySlice<UInt8>, _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        var i = haystack.startIndex
        while i <= haystack.endIndex - n.count {
            if haystack[i] == n[0], haystack[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }
}
