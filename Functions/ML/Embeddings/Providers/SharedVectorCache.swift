import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which cached query vector: the model, its dimension, the role, and the SHA-256 of the text
/// (never the text: a shared cache sees only hashes).
package struct QueryVectorKey: Hashable, Sendable {
    package var model: String
    package var dimension: Int
    package var role: EmbeddingRole
    package var textSHA256: String

    package init(model: String, dimension: Int, role: EmbeddingRole, text: String) {
        self.model = model
        self.dimension = dimension
        self.role = role
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for b in SHA256.hash(data: Data(text.utf8)) { hex.append(digits[Int(b >> 4)]); hex.append(digits[Int(b & 15)]) }
        textSHA256 = String(decoding: hex, as: UTF8.self)
    }

    /// One string for a key-value store: `qv1:<model>:<dimension>:<role>:<sha256>`.
    package var id: String { "qv1:\(model):\(dimension):\(role.rawValue):\(textSHA256)" }
}

/// The second level of the query-vector cache, shared by every process and instance (the
/// store, or Redis): a warm process's own cache is the first. A failure here is a miss, never a
/// failed query.
package protocol SharedVectorCache: Sendable {
    /// `store` or `redis`, for metrics and logs.
    var kind: String { get }
    /// The entries found (absent keys are misses).
    func entries(_ ids: [String]) throws -> [String: [UInt8]]
    func put(_ entries: [(id: String, bytes: [UInt8])], ttl: Duration) throws
}

extension Embedding {
    /// The cached form: token counts and the truncation flag, then the floats, little-endian.
    package var cacheBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(12 + 4 * vector.count)
        for v in [UInt32(clamping: tokenCount), UInt32(clamping: untruncatedTokenCount), truncated ? 1 : 0] {
            withUnsafeBytes(of: v.littleEndian) { out += $0 }
        }
        for f in vector { withUnsafeBytes(of: f.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// Nil unless the bytes are a cached embedding of `dimension` floats.
    package init?(cacheBytes b: [UInt8], dimension: Int) {
        guard b.count == 12 + 4 * dimension else { return nil }
        func word(_ at: Int) -> UInt32 { UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24 }
        var vector = [Float](repeating: 0, count: dimension)
        for i in 0..<dimension { vector[i] = Float(bitPattern: word(12 + 4 * i)) }
        self.init(vector: vector, tokenCount: Int(word(0)), untruncatedTokenCount: Int(word(4)), truncated: word(8) != 0)
    }
}
