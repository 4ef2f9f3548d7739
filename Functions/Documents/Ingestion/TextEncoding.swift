/// Character encodings a text upload may come in. Everything is converted to UTF-8 before
/// extraction. Policy: UTF-8 (the default, also for `us-ascii`), UTF-16 with a byte-order mark,
/// ISO-8859-1 and Windows-1252 are converted; any other declared charset (Shift_JIS, KOI8-R,
/// GB18030...) is refused with 415 and a message asking for UTF-8, rather than guessed.
/// Without a declared charset the bytes must be valid UTF-8 (or start with a UTF-16 BOM);
/// Latin-1 bytes without `charset=` are refused (422) with a message saying how to declare them.
package enum TextEncoding: String, Sendable, CaseIterable, Codable {
    case utf8 = "utf-8"
    case utf16LE = "utf-16le"
    case utf16BE = "utf-16be"
    case latin1 = "iso-8859-1"
    case windows1252 = "windows-1252"

    /// The encoding a `charset` parameter names, nil when not supported.
    package init?(charset: String) {
        switch charset.lowercased() {
        case "utf-8", "utf8", "us-ascii", "ascii", "unicode-1-1-utf-8": self = .utf8
        case "utf-16le": self = .utf16LE
        case "utf-16be", "utf-16": self = .utf16BE  // without a BOM, UTF-16 is big-endian (RFC 2781)
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "cp819", "ibm819": self = .latin1
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        default: return nil
        }
    }

    /// The encoding a byte-order mark at the start of `bytes` announces, and the mark's length.
    package static func byteOrderMark(_ bytes: [UInt8]) -> (encoding: TextEncoding, length: Int)? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return (.utf8, 3) }
        if bytes.starts(with: [0xFF, 0xFE]) { return (.utf16LE, 2) }
        if bytes.starts(with: [0xFE, 0xFF]) { return (.utf16BE, 2) }
        return nil
    }

    /// Decodes a whole file: a byte-order mark, if present, decides the encoding and is
    /// dropped; otherwise `declared` is used.
    package static func decode(_ bytes: [UInt8], declared: TextEncoding) throws(IngestionError) -> String {
        if let (encoding, length) = byteOrderMark(bytes) { return try encoding.decode(bytes.dropFirst(length)) }
        return try declared.decode(bytes[...])
    }

    /// Decodes `bytes` (without a BOM) to a String, or throws `.invalidContent` naming the first
    /// bad byte offset. Never replaces silently: a wrong declaration is the client's to fix.
    package func decode(_ bytes: ArraySlice<UInt8>) throws(IngestionError) -> String {
        switch self {
        case .utf8:
            if let bad = UTF8Validation.firstInvalidOffset(bytes) {
                throw .invalidContent(
                    "the text is not valid UTF-8 (first bad byte at offset \(bad)); save it as UTF-8, or declare its charset, e.g. `Content-Type: text/plain; charset=windows-1252`")
            }
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            var view = String.UnicodeScalarView()
            for b in bytes { view.append(Unicode.Scalar(b)) }
            return String(view)
        case .windows1252:
            var view = String.UnicodeScalarView()
            for b in bytes {
                if b >= 0x80, b < 0xA0, let s = Unicode.Scalar(Self.cp1252High[Int(b - 0x80)]) {
                    view.append(s)
                } else {
                    view.append(Unicode.Scalar(b))
                }
            }
            return String(view)
        case .utf16LE, .utf16BE:
            guard bytes.count % 2 == 0 else { throw .invalidContent("the UTF-16 text has an odd number of bytes") }
            var units: [UInt16] = []
            units.reserveCapacity(bytes.count / 2)
            var i = bytes.startIndex
            while i < bytes.endIndex {
                let (a, b) = (UInt16(bytes[i]), UInt16(bytes[i + 1]))
                units.append(self == .utf16LE ? a | b << 8 : a << 8 | b)
                i += 2
            }
            var view = String.UnicodeScalarView()
            var iterator = units.makeIterator()
            var decoder = UTF16()
            loop: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let s): view.append(s)
                case .emptyInput: break loop
                case .error: throw .invalidContent("the UTF-16 text has an unpaired surrogate")
                }
            }
            return String(view)
        }
    }

    /// Windows-1252 0x80...0x9F; the five undefined positions map to the C1 controls, as
    /// WHATWG's decoder does.
    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}

enum UTF8Validation {
    /// The offset (from the slice's start) of the first byte that is not part of well-formed
    /// UTF-8, or nil when all of it is valid.
    static func firstInvalidOffset(_ bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { b -> Int? in
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                if c < 0x80 { i += 1; continue }
                let need: Int
                var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
                switch c {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lo = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; hi = 0x9F
                case 0xF0: need = 3; lo = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; hi = 0x8F
                default: return i
                }
                guard i + need < n else { return i }
                guard b[i + 1] >= lo, b[i + 1] <= hi else { return i }
                for k in 2..<(need + 1) where b[i + k] & 0xC0 != 0x80 { return i }
                i += need + 1
            }
            return nil
        }
    }
}
