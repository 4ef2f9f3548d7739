import Crypto

/// SHA-256 for `content_sha256` of chunks and the hash of uploaded bytes, as lowercase hex.
/// A thin front on swift-crypto (BoringSSL's implementation on Linux) keeping the call sites'
/// small API: one-shot `hex`/`hash`, or `update` as often as needed, then `finalize`.
package struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    package init() {}

    /// Feeds more bytes; call as often as needed, then `finalize()`.
    package mutating func update<C: Collection<UInt8>>(_ bytes: C) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil { hasher.update(data: Array(bytes)) }
    }

    /// The 32-byte digest. The hasher should not be used afterwards.
    package mutating func finalize() -> [UInt8] { Array(hasher.finalize()) }

    package static func hash<C: Collection<UInt8>>(_ bytes: C) -> [UInt8] {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }

    package static func hex<C: Collection<UInt8>>(_ bytes: C) -> String { hexString(hash(bytes)) }
    package static func hex(_ text: String) -> String { hex(text.utf8) }
    package static func hex(_ text: Substring) -> String { hex(text.utf8) }

    static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
