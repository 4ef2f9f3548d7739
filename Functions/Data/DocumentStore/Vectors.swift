/// Vector helpers shared by the stores and their tests.
package enum Vectors {
    /// Little-endian float32, as the SQLite store keeps vectors in BLOBs.
    package static func blob(_ v: [Float]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(v.count * 4)
        for f in v {
            let bits = f.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { out.append(contentsOf: $0) }
        }
        return out
    }

    package static func floats(_ blob: UnsafeRawBufferPointer) -> [Float] {
        let n = blob.count / 4
        #if _endian(little)
        return (0..<n).map { i in blob.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
        #else
        return (0..<n).map { i in Float(bitPattern: UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        #endif
    }

    package static func norm(_ v: [Float]) -> Float {
        var s: Float = 0
        for x in v { s += x * x }
        return s.squareRoot()
    }

    /// Unit length (the zero vector stays zero), so cosine similarity is a dot product.
    package static func normalized(_ v: [Float]) -> [Float] {
        let n = norm(v)
        return n > 0 ? v.map { $0 / n } : v
    }

    package static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in 0..<min(a.count, b.count) {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }
}
