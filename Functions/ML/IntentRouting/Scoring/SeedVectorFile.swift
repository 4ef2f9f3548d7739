import COpenBLAS
import Foundation

/// Precomputed seed vectors, so a cold start reads 2,000 vectors instead of embedding 2,000
/// texts (seconds of CPU, against Lambda's 10 s init limit). Written by
/// `route-eval --write-seed-vectors` (and `infra/package.sh` into the route bundle); read by
/// `RouterHost` at init and when the file changes. A row is used only when its whole key matches
/// (model, action id, slot, hash of the embedded text): an edited seed is a miss and is embedded,
/// two actions with the same seed text keep a row each, a file for another model or dimension is
/// ignored. The file is a cache, never the truth: whatever it lacks is embedded.
///
/// Format, version 1, little-endian throughout:
///
/// ```
/// 0   magic "RSEEDVEC"            8 bytes
/// 8   version                     UInt32 (1)
/// 12  dimension                   UInt32
/// 16  rows                        UInt32
/// 20  model id length             UInt32, then the model id in UTF-8
///     per row: text hash UInt64, slot Int32 (-1: the description), action id length UInt32,
///              the action id in UTF-8
///     zero bytes up to a multiple of 4
///     rows x dimension Float32, row-major, in key order
/// ```
///
/// The length must come out exact, and every row must be unit length (what a provider returns):
/// that catches a truncated or overwritten file and garbage in the vector block without a
/// checksum over 3 MB at every cold start. A file that fails either check is ignored whole.
package struct SeedVectorFile: Sendable {
    package static let magic: [UInt8] = Array("RSEEDVEC".utf8)
    package static let version: UInt32 = 1
    /// Squared norms further than this from 1 mark a corrupt row.
    static let normTolerance: Float = 0.01

    package let modelId: String
    package let dimension: Int
    package let keys: [SeedKey]
    /// Row-major, `keys.count * dimension` floats.
    let vectors: [Float]
    let rowOfKey: [SeedKey: Int]

    package var rowCount: Int { keys.count }

    /// Why a file was not used.
    package enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case unreadable(String)
        case corrupt(String)
        case unsupportedVersion(UInt32)

        package var description: String {
            switch self {
            case .unreadable(let reason): "unreadable: \(reason)"
            case .corrupt(let reason): "corrupt: \(reason)"
            case .unsupportedVersion(let v): "format version \(v), this build reads \(SeedVectorFile.version)"
            }
        }
    }

    init(modelId: String, dimension: Int, keys: [SeedKey], vectors: [Float]) {
        precondition(vectors.count == keys.count * dimension)
        self.modelId = modelId
        self.dimension = dimension
        self.keys = keys
        self.vectors = vectors
        var rowOfKey: [SeedKey: Int] = [:]
        rowOfKey.reserveCapacity(keys.count)
        for (row, key) in keys.enumerated() { rowOfKey[key] = row }
        self.rowOfKey = rowOfKey
    }

    /// Every row of a built matrix.
    package init(matrix: SeedMatrix) {
        self.init(modelId: matrix.modelId, dimension: matrix.dimension, keys: matrix.keys, vectors: matrix.vectors)
    }

    /// Whether rows of this file can stand for `modelId`'s vectors.
    package func matches(modelId: String, dimension: Int) -> Bool {
        self.modelId == modelId && self.dimension == dimension
    }

    // MARK: Writing

    package func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24 + modelId.utf8.count + keys.count * 32 + vectors.count * 4)
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        out.append(contentsOf: Self.magic)
        put(Self.version)
        put(UInt32(dimension))
        put(UInt32(keys.count))
        put(UInt32(modelId.utf8.count))
        out.append(contentsOf: modelId.utf8)
        for key in keys {
            put(key.textHash)
            put(Int32(key.slot))
            put(UInt32(key.actionId.utf8.count))
            out.append(contentsOf: key.actionId.utf8)
        }
        while out.count % 4 != 0 { out.append(0) }
        #if _endian(little)
        vectors.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in vectors { put(v.bitPattern) }
        #endif
        return out
    }

    /// Writes to a temporary file beside `path` and renames it over `path`, so a process starting
    /// meanwhile reads the old file or the new one, never half of one.
    package func write(to path: String) throws {
        try Data(encoded()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: Reading

    package init(decoding bytes: UnsafeRawBufferPointer) throws(Problem) {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= 24, Array(bytes[0..<8]) == Self.magic else { throw .corrupt("not a seed vector file (bad magic)") }
        reader.offset = 8
        let version: UInt32 = try reader.integer()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let dimension = Int(try reader.integer() as UInt32)
        let count = Int(try reader.integer() as UInt32)
        let modelId = try reader.string(length: Int(try reader.integer() as UInt32))
        guard dimension > 0 else { throw .corrupt("dimension 0") }
        // Each row needs at least 16 key bytes and its vector: refuse a count the file cannot hold
        // before reserving anything for it.
        guard count <= bytes.count / (16 + 4 * dimension) else { throw .corrupt("\(count) rows do not fit in \(bytes.count) bytes") }
        var keys: [SeedKey] = []
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let hash: UInt64 = try reader.integer()
            let slot = Int(try reader.integer() as Int32)
            let actionId = try reader.string(length: Int(try reader.integer() as UInt32))
            guard slot >= SeedKey.descriptionSlot, !actionId.isEmpty else { throw .corrupt("a row with slot \(slot), action '\(actionId)'") }
            keys.append(SeedKey(actionId: actionId, slot: slot, textHash: hash))
        }
        reader.offset = (reader.offset + 3) / 4 * 4
        let floats = count * dimension
        guard bytes.count - reader.offset == floats * 4 else {
            throw .corrupt("\(bytes.count) bytes, expected \(reader.offset + floats * 4) for \(count) rows of \(dimension)")
        }
        let start = reader.offset
        let vectors = [Float](unsafeUninitializedCapacity: floats) { buffer, initialized in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + floats * 4)]))
            #else
            for i in 0..<floats {
                buffer[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + i * 4, as: UInt32.self)))
            }
            #endif
            initialized = floats
        }
        if let bad = Self.firstNonUnitRow(vectors, dimension: dimension, rows: count) {
            throw .corrupt("row \(bad) (\(keys[bad].actionId) #\(keys[bad].slot)) is not a unit vector")
        }
        let unique = Set(keys)
        guard unique.count == keys.count else { throw .corrupt("a key appears twice") }
        self.init(modelId: modelId, dimension: dimension, keys: keys, vectors: vectors)
    }

    /// Reads `path`. Nil when there is no such file (nothing was precomputed: not a problem).
    package static func read(path: String) throws(Problem) -> SeedVectorFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // Read whole rather than mapped: every row is copied into the seed matrix anyway, and
        // 2,000 rows are 3 MB.
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable("permission denied or I/O error") }
        // `Data.withUnsafeBytes` rethrows untyped errors: carry the typed one out in a Result.
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Result { () throws(Problem) -> SeedVectorFile in try SeedVectorFile(decoding: raw) }
        }.get()
    }

    /// The first row whose squared norm is not about 1 (NaN included).
    static func firstNonUnitRow(_ vectors: [Float], dimension: Int, rows: Int) -> Int? {
        vectors.withUnsafeBufferPointer { v in
            for r in 0..<rows {
                let p = v.baseAddress! + r * dimension
                let n2 = cblas_sdot(Int32(dimension), p, 1, p, 1)
                if !(abs(n2 - 1) <= normTolerance) { return r }
            }
            return nil
        }
    }

    /// A cursor over the file's bytes that reports running past the end as corruption.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func integer<T: FixedWidthInteger>() throws(Problem) -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw .corrupt("truncated at byte \(offset)") }
            defer { offset += size }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }

        mutating func string(length: Int) throws(Problem) -> String {
            guard length >= 0, length <= bytes.count - offset else { throw .corrupt("truncated at byte \(offset)") }
            defer { offset += length }
            guard let s = String(validating: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self) else {
                throw .corrupt("a name that is not UTF-8 at byte \(offset)")
            }
            return s
        }
    }
}
