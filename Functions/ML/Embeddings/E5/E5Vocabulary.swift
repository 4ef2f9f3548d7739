/// The XLM-R SentencePiece vocabulary of the model file: 250,002 pieces with their Unigram
/// scores, and an exact-bytes lookup from a piece to its id.
package struct E5Vocabulary: Sendable {
    package let count: Int
    package let bos: Int32
    package let eos: Int32
    package let pad: Int32
    package let unk: Int32
    /// Piece i is `blob[offsets[i]..<offsets[i + 1]]`.
    let offsets: [UInt32]
    let blob: [UInt8]
    package let scores: [Float]
    /// The score of an unknown character: the lowest piece score minus 10, as e5.c computes it
    /// (in float32, so the Viterbi totals match to the bit).
    package let unknownScore: Float
    /// Open addressing over FNV-1a of the piece's bytes; slot = id + 1, 0 = empty. Built in a
    /// few milliseconds at load, where a `[[UInt8]: Int32]` of 250k keys took ~150 ms and 30 MB.
    let slots: [Int32]
    let slotMask: UInt32
    /// The longest piece, in bytes: no longer candidate is looked up.
    package let maxPieceBytes: Int

    init(reading r: inout ByteReader, rows: Int) throws(E5FileFailure) {
        let count = try r.count(max: 1 << 22)
        let (bos, eos, pad, unk) = (Int32(try r.count()), Int32(try r.count()), Int32(try r.count()), Int32(try r.count()))
        (self.count, self.bos, self.eos, self.pad, self.unk) = (count, bos, eos, pad, unk)
        guard count > 4, count <= rows, [bos, eos, pad, unk].allSatisfy({ Int($0) < count }) else {
            throw E5FileFailure("the vocabulary (\(count) pieces, specials \(bos)/\(eos)/\(pad)/\(unk)) does not fit the \(rows) embedding rows")
        }
        let blobLength = try r.u64()
        guard blobLength < 1 << 30 else { throw E5FileFailure("a piece blob of \(blobLength) bytes") }
        let offsets = try r.array(count + 1, of: UInt32.self)
        let scores = try r.array(count, of: UInt32.self).map(Float.init(bitPattern:))
        let blob = try r.bytes(Int(blobLength))
        (self.offsets, self.scores, self.blob) = (offsets, scores, blob)
        guard offsets.last.map(UInt64.init) == blobLength else { throw E5FileFailure("the piece offsets do not end at the blob's end") }
        var longest = 0
        for i in 0..<count {
            guard offsets[i] <= offsets[i + 1] else { throw E5FileFailure("piece \(i)'s offsets go backwards") }
            longest = max(longest, Int(offsets[i + 1] - offsets[i]))
        }
        maxPieceBytes = longest
        guard scores.allSatisfy(\.isFinite) else { throw E5FileFailure("a piece score is not finite") }
        unknownScore = scores.min()! - 10

        var size = 1
        while size < count * 2 { size <<= 1 }
        var slots = [Int32](repeating: 0, count: size)
        let mask = UInt32(size - 1)
        blob.withUnsafeBufferPointer { b in
            for id in 0..<count {
                let start = Int(offsets[id]), end = Int(offsets[id + 1])
                var h = Self.fnvOffset
                for k in start..<end { h = Self.fnv(h, b[k]) }
                var slot = h & mask
                // The first of duplicate pieces keeps the slot, as e5.c's insertion does.
                while slots[Int(slot)] != 0 {
                    let other = Int(slots[Int(slot)] - 1)
                    if Self.equal(b, other, offsets, start, end) { break }
                    slot = (slot + 1) & mask
                }
                if slots[Int(slot)] == 0 { slots[Int(slot)] = Int32(id + 1) }
            }
        }
        self.slots = slots
        slotMask = mask
    }

    static let fnvOffset: UInt32 = 2_166_136_261
    @inline(__always) static func fnv(_ h: UInt32, _ byte: UInt8) -> UInt32 { (h ^ UInt32(byte)) &* 16_777_619 }

    private static func equal(_ b: UnsafeBufferPointer<UInt8>, _ id: Int, _ offsets: [UInt32], _ start: Int, _ end: Int) -> Bool {
        let s = Int(offsets[id]), e = Int(offsets[id + 1])
        guard e - s == end - start else { return false }
        for k in 0..<(e - s) where b[s + k] != b[start + k] { return false }
        return true
    }

    /// The id of the piece spelled by `bytes[start..<end]` whose FNV-1a hash is `hash`, or -1.
    @inline(__always)
    func lookup(hash: UInt32, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int32 {
        var slot = hash & slotMask
        let length = end - start
        return blob.withUnsafeBufferPointer { b in
            offsets.withUnsafeBufferPointer { o in
                while true {
                    let entry = slots[Int(slot)]
                    if entry == 0 { return -1 }
                    let id = Int(entry - 1)
                    let s = Int(o[id])
                    if Int(o[id + 1]) - s == length {
                        var k = 0
                        while k < length, b[s + k] == bytes[start + k] { k += 1 }
                        if k == length { return Int32(id) }
                    }
                    slot = (slot + 1) & slotMask
                }
            }
        }
    }

    /// Piece `id`'s text (for tests and debugging).
    package func piece(_ id: Int) -> String {
        String(decoding: blob[Int(offsets[id])..<Int(offsets[id + 1])], as: UTF8.self)
    }
}

/// The model's character normalisation: a table from one code point to zero or more code
/// points (NFKC of that code point as XLM-R's SentencePiece model saw it, plus its whitespace
/// and control rules). Used as is, not the platform's NFKC, which differs on 119 code points.
package struct E5Normalization: Sendable {
    /// Sorted code points with an entry.
    let codePoints: [UInt32]
    /// Entry i maps to `outputs[starts[i]..<starts[i + 1]]`.
    let starts: [Int32]
    let outputs: [UInt32]
    /// For code points below 128: -1 = not in the table, else the entry's index.
    let ascii: [Int32]

    init(reading r: inout ByteReader) throws(E5FileFailure) {
        let entries = try r.count(max: 1 << 20)
        let byteCount = Int(try r.u32())
        let start = r.offset
        var codePoints: [UInt32] = [], starts: [Int32] = [0], outputs: [UInt32] = []
        codePoints.reserveCapacity(entries)
        for _ in 0..<entries {
            let cp = try r.u32()
            guard cp <= 0x10FFFF, codePoints.last.map({ $0 < cp }) ?? true else {
                throw E5FileFailure("the normalisation table is not sorted by code point (U+\(String(cp, radix: 16, uppercase: true)))")
            }
            let n = Int(try r.u8())
            for _ in 0..<n {
                let out = try r.u32()
                guard out <= 0x10FFFF, out != 0 else { throw E5FileFailure("the normalisation table maps to an invalid code point") }
                outputs.append(out)
            }
            codePoints.append(cp)
            starts.append(Int32(outputs.count))
        }
        guard r.offset - start == byteCount else {
            throw E5FileFailure("the normalisation table is \(r.offset - start) bytes, its header says \(byteCount)")
        }
        var ascii = [Int32](repeating: -1, count: 128)
        for (i, cp) in codePoints.enumerated() where cp < 128 { ascii[Int(cp)] = Int32(i) }
        self.codePoints = codePoints
        self.starts = starts
        self.outputs = outputs
        self.ascii = ascii
    }

    /// The entry of `cp`, or nil when the table leaves it alone.
    @inline(__always)
    func entry(_ cp: UInt32) -> Int? {
        if cp < 128 {
            let e = ascii[Int(cp)]
            return e < 0 ? nil : Int(e)
        }
        var lo = 0, hi = codePoints.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if codePoints[mid] < cp { lo = mid + 1 } else { hi = mid }
        }
        return lo < codePoints.count && codePoints[lo] == cp ? lo : nil
    }
}
