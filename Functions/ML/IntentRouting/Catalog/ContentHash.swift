/// FNV-1a, 64-bit: change detection for configuration files and seed texts, not security.
/// Foundation on Linux has no SHA-2 and a collision here only means one missed reload or one
/// reused vector for a changed seed, both of which the next edit fixes.
package enum ContentHash {
    package static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    package static func fnv1a<Bytes: Sequence<UInt8>>(_ bytes: Bytes, seed: UInt64 = offsetBasis) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= prime
        }
        return hash
    }

    package static func of(_ text: String) -> UInt64 { fnv1a(text.utf8) }

    /// Several byte strings hashed as one sequence, each length-prefixed so ("ab","c") != ("a","bc").
    package static func combined(_ parts: [[UInt8]]) -> UInt64 {
        var hash = offsetBasis
        for part in parts {
            withUnsafeBytes(of: UInt64(part.count).littleEndian) { hash = fnv1a($0, seed: hash) }
            hash = fnv1a(part, seed: hash)
        }
        return hash
    }

    /// The first 12 hex digits: short enough for logs and responses, plenty to tell versions apart.
    package static func shortHex(_ hash: UInt64) -> String {
        let hex = String(hash, radix: 16)
        return String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(12))
    }
}
