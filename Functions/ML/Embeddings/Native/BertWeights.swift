import COpenBLAS

/// How the encoder layers' four weight matrices are held.
package enum WeightPrecision: String, Sendable, CaseIterable {
    /// Rounded to IEEE half precision (every product and sum still in float32): half the bytes
    /// a query streams from memory, which bounds it. Vectors agree with float32 weights to a
    /// cosine of 0.9999996 and with the sentence-transformers reference to 0.9999997 (its 40
    /// texts, `ReferenceFixtureTests`).
    case half
    /// The checkpoint's float32 values as they are.
    case float32
}

/// The encoder's weights in the layout the forward pass wants. Embedding tables stay in the
/// mapped file (a forward pass reads one row per token); each layer's matrices are copied once
/// into one 64-byte-aligned arena:
/// - transposed, torch's [out, in] to [in, out]: OpenBLAS re-packs the weight operand on every
///   call, and from this layout that is a straight copy; for a 25-token query, where packing
///   costs as much as the arithmetic, the products run 10-50% faster;
/// - Q, K and V fused into one [H, 3H] matrix, so the projection is one sgemm;
/// - Q (weight and bias) pre-scaled by 1/sqrt(head size). That is a power of two for every BERT
///   size (1/8 here), so the scores come out bit-identical to scaling after the product.
final class BertWeights: @unchecked Sendable {
    // @unchecked: written only in init, read-only afterwards, freed in deinit.
    struct Layer: @unchecked Sendable {  // read-only pointers into the arena
        let qkvWeight: UnsafePointer<Float>      // [H, 3H]
        let qkvBias: UnsafePointer<Float>        // [3H]
        let attentionOutWeight: UnsafePointer<Float>  // [H, H], [in, out] as all of them
        let attentionOutBias: UnsafePointer<Float>
        let attentionNormGamma: UnsafePointer<Float>
        let attentionNormBeta: UnsafePointer<Float>
        let intermediateWeight: UnsafePointer<Float>  // [H, I]
        let intermediateBias: UnsafePointer<Float>    // [I]
        let outputWeight: UnsafePointer<Float>        // [I, H]
        let outputBias: UnsafePointer<Float>
        let outputNormGamma: UnsafePointer<Float>
        let outputNormBeta: UnsafePointer<Float>
        /// The four matrices again, packed into 16-column panels for the few-row kernel (a
        /// query's tokens), of `Float` or of halves (`BertWeights.halfPanels`); nil where that
        /// kernel does not run (no AVX-512).
        var qkvPanels: UnsafeRawPointer? = nil
        var attentionOutPanels: UnsafeRawPointer? = nil
        var intermediatePanels: UnsafeRawPointer? = nil
        var outputPanels: UnsafeRawPointer? = nil
    }

    let config: BertConfig
    let wordEmbeddings: UnsafePointer<Float>      // [V, H], mapped
    let positionEmbeddings: UnsafePointer<Float>  // [P, H], mapped
    let tokenTypeEmbedding: UnsafePointer<Float>  // row 0 of [T, H]: single-segment inputs only
    let embeddingNormGamma: UnsafePointer<Float>
    let embeddingNormBeta: UnsafePointer<Float>
    let layers: [Layer]
    let precision: WeightPrecision
    /// Whether the panels hold halves (`emb_packed_linear_half`) rather than floats.
    let halfPanels: Bool
    private let file: SafeTensorsFile
    private let arena: UnsafeMutableRawPointer
    /// The panels (another copy of the layers' matrices: 21 MB for MiniLM in halves, 42 in
    /// floats), when packed.
    private let panelArena: UnsafeMutableRawPointer?

    /// `packPanels: false` keeps every product on OpenBLAS (tests compare the two paths).
    /// `precision: .half` falls back to `.float32` for a checkpoint with a weight outside the
    /// half range (none of BERT's).
    init(file: SafeTensorsFile, config c: BertConfig, packPanels: Bool = true, precision: WeightPrecision = .half) throws(SafeTensorsError) {
        self.file = file
        self.config = c
        let h = c.hiddenSize, i = c.intermediateSize
        // A few checkpoints (older BERT exports) name everything under "bert.".
        let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func t(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafeBufferPointer<Float> {
            try file.float32Buffer(prefix + name, shape: shape)
        }
        wordEmbeddings = try t("embeddings.word_embeddings.weight", [c.vocabSize, h]).baseAddress!
        positionEmbeddings = try t("embeddings.position_embeddings.weight", [c.maxPositions, h]).baseAddress!
        tokenTypeEmbedding = try t("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h]).baseAddress!
        embeddingNormGamma = try t("embeddings.LayerNorm.weight", [h]).baseAddress!
        embeddingNormBeta = try t("embeddings.LayerNorm.bias", [h]).baseAddress!

        // Per layer, in floats: fused QKV (3H*H + 3H), attention out (H*H + H), 2 norms (4H),
        // intermediate (I*H + I), output (H*I + H). Each block is padded to 16 floats (64 bytes).
        func padded(_ n: Int) -> Int { (n + 15) & ~15 }
        let blocks = [3 * h * h, 3 * h, h * h, h, h, h, i * h, i, h * i, h, h, h]
        let perLayer = blocks.map(padded).reduce(0, +)
        arena = UnsafeMutableRawPointer.allocate(byteCount: perLayer * c.layers * 4, alignment: 64)
        var cursor = arena.bindMemory(to: Float.self, capacity: perLayer * c.layers)
        func take(_ n: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += padded(n) }
            return cursor
        }
        func copy(_ src: UnsafeBufferPointer<Float>, to dst: UnsafeMutablePointer<Float>, scale: Float = 1) {
            if scale == 1 {
                dst.update(from: src.baseAddress!, count: src.count)
            } else {
                for k in 0..<src.count { dst[k] = src[k] * scale }
            }
        }
        /// dst[c, r] (row stride `ld`) = src[r, c] * scale for src [rows, cols]: in 32x32 tiles,
        /// so both sides stay in cache.
        func transpose(_ src: UnsafeBufferPointer<Float>, rows: Int, cols: Int, to dst: UnsafeMutablePointer<Float>,
                       ld: Int, scale: Float = 1) {
            let s = src.baseAddress!
            for r0 in stride(from: 0, to: rows, by: 32) {
                for c0 in stride(from: 0, to: cols, by: 32) {
                    for r in r0..<min(r0 + 32, rows) {
                        for c in c0..<min(c0 + 32, cols) { dst[c * ld + r] = s[r * cols + c] * scale }
                    }
                }
            }
        }
        let qScale = 1 / Float(c.headSize).squareRoot()
        var layers: [Layer] = []
        do throws(SafeTensorsError) {
            for l in 0..<c.layers {
                let p = "encoder.layer.\(l)."
                let qkvW = take(3 * h * h), qkvB = take(3 * h)
                // Columns 0..<H are Q, H..<2H K, 2H..<3H V.
                transpose(try t(p + "attention.self.query.weight", [h, h]), rows: h, cols: h, to: qkvW, ld: 3 * h, scale: qScale)
                transpose(try t(p + "attention.self.key.weight", [h, h]), rows: h, cols: h, to: qkvW + h, ld: 3 * h)
                transpose(try t(p + "attention.self.value.weight", [h, h]), rows: h, cols: h, to: qkvW + 2 * h, ld: 3 * h)
                copy(try t(p + "attention.self.query.bias", [h]), to: qkvB, scale: qScale)
                copy(try t(p + "attention.self.key.bias", [h]), to: qkvB + h)
                copy(try t(p + "attention.self.value.bias", [h]), to: qkvB + 2 * h)
                func own(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafePointer<Float> {
                    let src = try t(p + name, shape)
                    let dst = take(src.count)
                    if shape.count == 2 {
                        transpose(src, rows: shape[0], cols: shape[1], to: dst, ld: shape[0])
                    } else {
                        copy(src, to: dst)
                    }
                    return UnsafePointer(dst)
                }
                layers.append(Layer(
                    qkvWeight: UnsafePointer(qkvW), qkvBias: UnsafePointer(qkvB),
                    attentionOutWeight: try own("attention.output.dense.weight", [h, h]),
                    attentionOutBias: try own("attention.output.dense.bias", [h]),
                    attentionNormGamma: try own("attention.output.LayerNorm.weight", [h]),
                    attentionNormBeta: try own("attention.output.LayerNorm.bias", [h]),
                    intermediateWeight: try own("intermediate.dense.weight", [i, h]),
                    intermediateBias: try own("intermediate.dense.bias", [i]),
                    outputWeight: try own("output.dense.weight", [h, i]),
                    outputBias: try own("output.dense.bias", [h]),
                    outputNormGamma: try own("output.LayerNorm.weight", [h]),
                    outputNormBeta: try own("output.LayerNorm.bias", [h])))
            }
        } catch {
            arena.deallocate()
            throw error
        }
        // Half precision: the same rounded values for OpenBLAS (these matrices) and the panel
        // kernel (the panels below), so a text embeds the same alone or in a long batch.
        let matrices = layers.flatMap { m in
            [(m.qkvWeight, 3 * h * h), (m.attentionOutWeight, h * h), (m.intermediateWeight, i * h), (m.outputWeight, h * i)]
        }
        let fitsHalf = matrices.allSatisfy { w, n in UnsafeBufferPointer(start: w, count: n).allSatisfy { abs($0) < 65520 } }
        self.precision = precision == .half && fitsHalf ? .half : .float32
        if self.precision == .half {
            for (w, n) in matrices { _ = emb_round_to_half(UnsafeMutablePointer(mutating: w), n) }
        }
        // Panels for the few-row kernel: a query's Linear layers run 2-3x faster from them than
        // through OpenBLAS, which re-packs the whole weight on every call (see embedding_kernels.h).
        if packPanels, emb_has_packed_linear(-1) != 0, [h, i].allSatisfy({ $0 % 16 == 0 }) {
            let half = self.precision == .half
            let perLayer = 3 * h * h + h * h + i * h + h * i
            let element = half ? 2 : 4
            let panels = UnsafeMutableRawPointer.allocate(byteCount: perLayer * c.layers * element, alignment: 64)
            var at = panels
            func pack(_ w: UnsafePointer<Float>, k: Int, n: Int) -> UnsafeRawPointer {
                if half {
                    emb_pack_panels_half(w, k, n, n, at.assumingMemoryBound(to: UInt16.self))
                } else {
                    emb_pack_panels(w, k, n, n, at.assumingMemoryBound(to: Float.self))
                }
                defer { at += k * n * element }
                return UnsafeRawPointer(at)
            }
            for l in layers.indices {
                let m = layers[l]
                layers[l].qkvPanels = pack(m.qkvWeight, k: h, n: 3 * h)
                layers[l].attentionOutPanels = pack(m.attentionOutWeight, k: h, n: h)
                layers[l].intermediatePanels = pack(m.intermediateWeight, k: h, n: i)
                layers[l].outputPanels = pack(m.outputWeight, k: i, n: h)
            }
            panelArena = panels
            halfPanels = half
        } else {
            panelArena = nil
            halfPanels = false
        }
        self.layers = layers
    }

    deinit {
        arena.deallocate()
        panelArena?.deallocate()
    }
}
