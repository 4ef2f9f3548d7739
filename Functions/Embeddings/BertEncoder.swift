import COpenBLAS

/// Activation buffers for one forward pass, kept between calls (they are grown, never shrunk)
/// so a warm function does not allocate megabytes per request. One per concurrent pass.
final class EncoderScratch: @unchecked Sendable {
    // @unchecked: used by one forward pass at a time; the embedder hands it out from a locked pool.
    private(set) var tokenCapacity = 0
    private(set) var sequenceCapacity = 0
    private(set) var hidden: UnsafeMutablePointer<Float>        // [T, H] the residual stream
    private(set) var qkv: UnsafeMutablePointer<Float>           // [T, 3H]
    private(set) var context: UnsafeMutablePointer<Float>       // [T, H] attention output, then Linear outputs
    private(set) var intermediate: UnsafeMutablePointer<Float>  // [T, I]
    private(set) var scores: UnsafeMutablePointer<Float>        // [n, n] one head of one sequence

    init() {
        hidden = .allocate(capacity: 1); qkv = .allocate(capacity: 1); context = .allocate(capacity: 1)
        intermediate = .allocate(capacity: 1); scores = .allocate(capacity: 1)
    }

    func reserve(tokens: Int, longest: Int, config c: BertConfig) {
        if tokens > tokenCapacity {
            let t = max(tokens, tokenCapacity * 3 / 2)
            free(); tokenCapacity = t
            hidden = Self.alloc(t * c.hiddenSize)
            qkv = Self.alloc(t * 3 * c.hiddenSize)
            context = Self.alloc(t * c.hiddenSize)
            intermediate = Self.alloc(t * c.intermediateSize)
        }
        if longest > sequenceCapacity {
            scores.deallocate()
            sequenceCapacity = longest
            scores = Self.alloc(longest * longest)
        }
    }

    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
    }

    private func free() {
        hidden.deallocate(); qkv.deallocate(); context.deallocate(); intermediate.deallocate()
    }

    deinit {
        free()
        scores.deallocate()
    }
}

/// The BERT encoder forward pass plus mean pooling and L2 normalisation, for a batch of token
/// id sequences.
///
/// The batch is packed, not padded: the sequences' tokens are laid end to end as one
/// [tokens, hidden] matrix, so every Linear is a single sgemm over the whole batch and no work
/// is spent on padding. Attention is the only step that mixes tokens, and it runs per sequence
/// over that sequence's own keys: exactly what the attention mask does in a padded batch (a
/// masked key gets weight exp(-huge) = 0), without computing the masked scores. A text therefore
/// embeds the same alone or in any batch.
struct BertEncoder: Sendable {
    let weights: BertWeights

    var config: BertConfig { weights.config }

    /// One L2-normalised mean-pooled vector per sequence, written to `output` (one row of
    /// `hiddenSize` per sequence). Sequences must be non-empty and at most `maxPositions` long.
    func embed(_ sequences: [[Int32]], scratch: EncoderScratch, output: UnsafeMutablePointer<Float>) {
        let c = config
        let h = c.hiddenSize
        var offsets = [Int]()
        offsets.reserveCapacity(sequences.count + 1)
        var total = 0
        var longest = 0
        for s in sequences {
            offsets.append(total)
            total += s.count
            longest = max(longest, s.count)
        }
        offsets.append(total)
        guard total > 0 else { return }
        scratch.reserve(tokens: total, longest: longest, config: c)

        embedTokens(sequences, into: scratch.hidden)
        for layer in weights.layers {
            encoderLayer(layer, tokens: total, offsets: offsets, scratch: scratch)
        }
        // Mean over each sequence's tokens, then L2 (sentence-transformers' Pooling + Normalize).
        for (i, s) in sequences.enumerated() {
            let out = output + i * h
            out.initialize(repeating: 0, count: h)
            for t in offsets[i]..<offsets[i + 1] {
                let row = scratch.hidden + t * h
                for k in 0..<h { out[k] += row[k] }
            }
            let inv = 1 / Float(s.count)
            var norm: Float = 0
            for k in 0..<h {
                out[k] *= inv
                norm += out[k] * out[k]
            }
            let scale = 1 / max(norm.squareRoot(), 1e-12)
            for k in 0..<h { out[k] *= scale }
        }
    }

    /// word + token type 0 + position, then LayerNorm (BertEmbeddings).
    private func embedTokens(_ sequences: [[Int32]], into x: UnsafeMutablePointer<Float>) {
        let c = config, h = c.hiddenSize
        let w = weights
        var row = 0
        for s in sequences {
            for (position, id) in s.enumerated() {
                let out = x + row * h
                let word = w.wordEmbeddings + Int(id) * h
                let pos = w.positionEmbeddings + position * h
                for k in 0..<h { out[k] = (word[k] + w.tokenTypeEmbedding[k]) + pos[k] }
                Kernels.layerNormRow(out, dim: h, gamma: w.embeddingNormGamma, beta: w.embeddingNormBeta, eps: c.layerNormEps)
                row += 1
            }
        }
    }

    private func encoderLayer(_ l: BertWeights.Layer, tokens t: Int, offsets: [Int], scratch s: EncoderScratch) {
        let c = config
        let h = c.hiddenSize, i = c.intermediateSize, d = c.headSize

        // Q, K, V for every token: one [t, H] x [H, 3H] product, the bias pre-loaded into C.
        for r in 0..<t { (s.qkv + r * 3 * h).update(from: l.qkvBias, count: 3 * h) }
        sgemm(t, 3 * h, h, s.hidden, h, l.qkvWeight, h, s.qkv, 3 * h, beta: 1)

        // Self-attention per sequence and head; Q is pre-scaled by 1/sqrt(d).
        for q in 0..<(offsets.count - 1) {
            let start = offsets[q], n = offsets[q + 1] - start
            let base = s.qkv + start * 3 * h
            for head in 0..<c.heads {
                let qh = base + head * d, kh = base + h + head * d, vh = base + 2 * h + head * d
                // scores[n, n] = Q_h K_h^T
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d),
                            1, qh, Int32(3 * h), kh, Int32(3 * h), 0, s.scores, Int32(n))
                Kernels.softmaxRows(s.scores, rows: n, cols: n)
                // context[:, head] = P V_h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n),
                            1, s.scores, Int32(n), vh, Int32(3 * h), 0, s.context + start * h + head * d, Int32(h))
            }
        }

        // Attention output projection, + bias + residual, LayerNorm. The product goes to the
        // intermediate buffer, free until the feed-forward.
        sgemm(t, h, h, s.context, h, l.attentionOutWeight, h, s.intermediate, h, beta: 0)
        Kernels.addBiasResidualLayerNorm(s.hidden, s.intermediate, bias: l.attentionOutBias, rows: t, dim: h,
                                         gamma: l.attentionNormGamma, beta: l.attentionNormBeta, eps: c.layerNormEps)
        // Feed-forward: GELU(x W1 + b1) W2 + b2, + residual, LayerNorm.
        sgemm(t, i, h, s.hidden, h, l.intermediateWeight, h, s.intermediate, i, beta: 0)
        Kernels.addBiasGELU(s.intermediate, bias: l.intermediateBias, rows: t, dim: i)
        sgemm(t, h, i, s.intermediate, i, l.outputWeight, i, s.context, h, beta: 0)
        Kernels.addBiasResidualLayerNorm(s.hidden, s.context, bias: l.outputBias, rows: t, dim: h,
                                         gamma: l.outputNormGamma, beta: l.outputNormBeta, eps: c.layerNormEps)
    }

    /// C[m, n] = A[m, k] B[n, k]^T + beta C: a Linear layer, the weight in torch's [out, in] layout.
    @inline(__always)
    private func sgemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                       _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, beta: Float) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
