/// The encoder's weights in the layout the forward pass wants. Embedding tables stay in the
/// mapped file (a forward pass reads one row per token); each layer's matrices are copied once
/// into one 64-byte-aligned arena, with Q, K and V fused into a single [3H, H] matrix so the
/// projection is one sgemm, and Q (weight and bias) pre-scaled by 1/sqrt(head size). That scale
/// is a power of two for every BERT size (1/8 here), so the scores come out bit-identical to
/// scaling after the product.
final class BertWeights: @unchecked Sendable {
    // @unchecked: written only in init, read-only afterwards, freed in deinit.
    struct Layer {
        let qkvWeight: UnsafePointer<Float>      // [3H, H]
        let qkvBias: UnsafePointer<Float>        // [3H]
        let attentionOutWeight: UnsafePointer<Float>  // [H, H]
        let attentionOutBias: UnsafePointer<Float>
        let attentionNormGamma: UnsafePointer<Float>
        let attentionNormBeta: UnsafePointer<Float>
        let intermediateWeight: UnsafePointer<Float>  // [I, H]
        let intermediateBias: UnsafePointer<Float>    // [I]
        let outputWeight: UnsafePointer<Float>        // [H, I]
        let outputBias: UnsafePointer<Float>
        let outputNormGamma: UnsafePointer<Float>
        let outputNormBeta: UnsafePointer<Float>
    }

    let config: BertConfig
    let wordEmbeddings: UnsafePointer<Float>      // [V, H], mapped
    let positionEmbeddings: UnsafePointer<Float>  // [P, H], mapped
    let tokenTypeEmbedding: UnsafePointer<Float>  // row 0 of [T, H]: single-segment inputs only
    let embeddingNormGamma: UnsafePointer<Float>
    let embeddingNormBeta: UnsafePointer<Float>
    let layers: [Layer]
    private let file: SafeTensorsFile
    private let arena: UnsafeMutableRawPointer

    init(file: SafeTensorsFile, config c: BertConfig) throws(SafeTensorsError) {
        self.file = file
        self.config = c
        let h = c.hiddenSize, i = c.intermediateSize
        // A few checkpoints (older BERT exports) name everything under "bert.".
        let prefix = file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func t(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafeBufferPointer<Float> {
            try file.float32(prefix + name, shape: shape)
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
        let qScale = 1 / Float(c.headSize).squareRoot()
        var layers: [Layer] = []
        do throws(SafeTensorsError) {
            for l in 0..<c.layers {
                let p = "encoder.layer.\(l)."
                let qkvW = take(3 * h * h), qkvB = take(3 * h)
                copy(try t(p + "attention.self.query.weight", [h, h]), to: qkvW, scale: qScale)
                copy(try t(p + "attention.self.key.weight", [h, h]), to: qkvW + h * h)
                copy(try t(p + "attention.self.value.weight", [h, h]), to: qkvW + 2 * h * h)
                copy(try t(p + "attention.self.query.bias", [h]), to: qkvB, scale: qScale)
                copy(try t(p + "attention.self.key.bias", [h]), to: qkvB + h)
                copy(try t(p + "attention.self.value.bias", [h]), to: qkvB + 2 * h)
                func own(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafePointer<Float> {
                    let src = try t(p + name, shape)
                    let dst = take(src.count)
                    copy(src, to: dst)
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
        self.layers = layers
    }

    deinit { arena.deallocate() }
}
