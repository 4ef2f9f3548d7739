import COpenBLAS

/// Activation buffers for one forward pass, kept between calls (grown, never shrunk) so a warm
/// function does not allocate megabytes per request. One per concurrent pass.
final class EncoderScratch: @unchecked Sendable {
    // @unchecked: used by one pass at a time (the embedder hands them out from a locked pool);
    // within a pass, threads write disjoint rows, columns or score buffers.
    private(set) var tokenCapacity = 0
    private(set) var scoresCapacity = 0
    private(set) var hidden: UnsafeMutablePointer<Float>        // [T, H] the residual stream
    private(set) var qkv: UnsafeMutablePointer<Float>           // [T, 3H]
    private(set) var context: UnsafeMutablePointer<Float>       // [T, H] attention output, then FFN output
    private(set) var intermediate: UnsafeMutablePointer<Float>  // [T, I] FFN hidden, or [T, H] projection output
    private(set) var scores: UnsafeMutablePointer<Float>        // per thread: [n, n] for one head of one sequence

    init() {
        hidden = .allocate(capacity: 1); qkv = .allocate(capacity: 1); context = .allocate(capacity: 1)
        intermediate = .allocate(capacity: 1); scores = .allocate(capacity: 1)
    }

    func reserve(tokens: Int, longest: Int, threads: Int, config c: BertConfig) {
        if tokens > tokenCapacity {
            let t = max(tokens, tokenCapacity * 3 / 2)
            hidden.deallocate(); qkv.deallocate(); context.deallocate(); intermediate.deallocate()
            tokenCapacity = t
            hidden = Self.alloc(t * c.hiddenSize)
            qkv = Self.alloc(t * 3 * c.hiddenSize)
            context = Self.alloc(t * c.hiddenSize)
            intermediate = Self.alloc(t * c.intermediateSize)
        }
        let stride = Self.scoresStride(longest)
        if stride * threads > scoresCapacity {
            scores.deallocate()
            scoresCapacity = stride * threads
            scores = Self.alloc(scoresCapacity)
        }
    }

    /// Thread `j`'s score buffer (64-byte aligned, so threads never share a cache line).
    func scores(_ j: Int, longest: Int) -> UnsafeMutablePointer<Float> { scores + j * Self.scoresStride(longest) }

    private static func scoresStride(_ longest: Int) -> Int { (longest * longest + 15) & ~15 }

    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(n, 1) * 4, alignment: 64).bindMemory(to: Float.self, capacity: n)
    }

    deinit {
        hidden.deallocate(); qkv.deallocate(); context.deallocate(); intermediate.deallocate(); scores.deallocate()
    }
}

/// The BERT encoder forward pass plus mean pooling and L2 normalisation, for a batch of token
/// id sequences.
///
/// The batch is packed, not padded: the sequences' tokens are laid end to end as one
/// [tokens, hidden] matrix, so every Linear is one sgemm over the whole batch and no work goes
/// to padding. Attention is the only step that mixes tokens, and it runs per sequence over that
/// sequence's own keys: exactly what the attention mask does in a padded batch (a masked key
/// gets weight exp(-huge) = 0), without computing the masked scores. A text therefore embeds
/// the same alone or in any batch.
///
/// With `Parallel` wider than one, each Linear is split by output columns (each thread an
/// independent single-threaded sgemm on its slice of the weights), attention by (sequence,
/// head), and the norms by rows.
struct BertEncoder: Sendable {
    let weights: BertWeights
    /// Up to this many tokens in a pass, Linear layers use the panel kernel (when the weights
    /// have panels): measured faster than OpenBLAS below it (`infra/bench/embed.sh`).
    static let panelMaxRows = 64

    var config: BertConfig { weights.config }

    /// One L2-normalised mean-pooled vector per sequence, written to `output` (a row of
    /// `hiddenSize` per sequence). Sequences must be non-empty and at most `maxPositions` long.
    func embed(_ sequences: [[Int32]], scratch: EncoderScratch, output: UnsafeMutablePointer<Float>,
               parallel: Parallel = .serial) {
        let h = config.hiddenSize
        var offsets = [0]
        offsets.reserveCapacity(sequences.count + 1)
        var longest = 0
        for s in sequences {
            offsets.append(offsets.last! + s.count)
            longest = max(longest, s.count)
        }
        let total = offsets.last!
        guard total > 0 else { return }
        scratch.reserve(tokens: total, longest: longest, threads: parallel.width, config: config)

        embedTokens(sequences, into: scratch.hidden, parallel: parallel)
        for layer in weights.layers {
            encoderLayer(layer, tokens: total, offsets: offsets, longest: longest, scratch: scratch, parallel: parallel)
        }
        // Mean over each sequence's tokens, then L2 (sentence-transformers' Pooling, Normalize).
        for i in sequences.indices {
            let out = output + i * h
            out.initialize(repeating: 0, count: h)
            for t in offsets[i]..<offsets[i + 1] {
                let row = scratch.hidden + t * h
                for k in 0..<h { out[k] += row[k] }
            }
            let inv = 1 / Float(offsets[i + 1] - offsets[i])
            var norm: Float = 0
            for k in 0..<h {
                out[k] *= inv
                norm += out[k] * out[k]
            }
            let scale = 1 / max(norm.squareRoot(), 1e-12)
            for k in 0..<h { out[k] *= scale }
        }
    }

    /// (word + token type 0) + position, then LayerNorm (BertEmbeddings, in torch's order).
    private func embedTokens(_ sequences: [[Int32]], into x: UnsafeMutablePointer<Float>, parallel: Parallel) {
        let c = config, h = c.hiddenSize
        let w = weights
        var row = 0
        for s in sequences {
            for (position, id) in s.enumerated() {
                let out = x + row * h
                let word = w.wordEmbeddings + Int(id) * h
                let pos = w.positionEmbeddings + position * h
                for k in 0..<h { out[k] = (word[k] + w.tokenTypeEmbedding[k]) + pos[k] }
                row += 1
            }
        }
        let shared = SharedPointer(base: x), rows = row
        parallel.run { j in
            let r = parallel.part(j, of: rows)
            Kernels.layerNorm(shared.base + r.lowerBound * h, rows: r.count, dim: h,
                              gamma: w.embeddingNormGamma, beta: w.embeddingNormBeta, eps: c.layerNormEps)
        }
    }

    private func encoderLayer(_ l: BertWeights.Layer, tokens t: Int, offsets: [Int], longest: Int,
                              scratch s: EncoderScratch, parallel p: Parallel) {
        let c = config
        let h = c.hiddenSize, i = c.intermediateSize, d = c.headSize, heads = c.heads
        let half = weights.halfPanels

        // Q, K, V for every token: [t, H] x [H, 3H], the bias pre-loaded into C.
        p.run { j in
            let cols = p.part(j, of: 3 * h, align: 16)
            for r in 0..<t { (s.qkv + r * 3 * h + cols.lowerBound).update(from: l.qkvBias + cols.lowerBound, count: cols.count) }
            linear(t, cols, h, s.hidden, l.qkvWeight, l.qkvPanels, half, s.qkv, 3 * h, beta: 1)
        }

        // Self-attention per sequence and head (Q is pre-scaled by 1/sqrt(d)); thread j takes
        // every width-th (sequence, head) pair, so each sequence's heads are spread evenly.
        let pairs = (offsets.count - 1) * heads
        p.run { j in
            let scores = s.scores(j, longest: longest)
            var pair = j
            while pair < pairs {
                let q = pair / heads, head = pair % heads
                let start = offsets[q], n = offsets[q + 1] - start
                let base = s.qkv + start * 3 * h
                let qh = base + head * d, kh = base + h + head * d, vh = base + 2 * h + head * d
                // scores[n, n] = Q_h K_h^T, softmax over keys, context[:, head] = P V_h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d),
                            1, qh, Int32(3 * h), kh, Int32(3 * h), 0, scores, Int32(n))
                Kernels.softmaxRows(scores, rows: n, cols: n)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n),
                            1, scores, Int32(n), vh, Int32(3 * h), 0, s.context + start * h + head * d, Int32(h))
                pair += p.width
            }
        }

        // Attention output projection (into the FFN buffer, free until the FFN), then
        // x = LayerNorm(x + projection + bias).
        p.run { j in linear(t, p.part(j, of: h, align: 16), h, s.context, l.attentionOutWeight, l.attentionOutPanels, half, s.intermediate, h, beta: 0) }
        p.run { j in
            let r = p.part(j, of: t)
            Kernels.addBiasResidualLayerNorm(s.hidden + r.lowerBound * h, s.intermediate + r.lowerBound * h,
                                             bias: l.attentionOutBias, rows: r.count, dim: h,
                                             gamma: l.attentionNormGamma, beta: l.attentionNormBeta, eps: c.layerNormEps)
        }
        // Feed-forward: GELU(x W1 + b1) W2 + b2, then x = LayerNorm(x + that).
        p.run { j in
            let cols = p.part(j, of: i, align: 16)
            linear(t, cols, h, s.hidden, l.intermediateWeight, l.intermediatePanels, half, s.intermediate, i, beta: 0)
            Kernels.addBiasGELU(s.intermediate + cols.lowerBound, bias: l.intermediateBias + cols.lowerBound,
                                rows: t, dim: cols.count, ld: i)
        }
        p.run { j in linear(t, p.part(j, of: h, align: 16), i, s.intermediate, l.outputWeight, l.outputPanels, half, s.context, h, beta: 0) }
        p.run { j in
            let r = p.part(j, of: t)
            Kernels.addBiasResidualLayerNorm(s.hidden + r.lowerBound * h, s.context + r.lowerBound * h,
                                             bias: l.outputBias, rows: r.count, dim: h,
                                             gamma: l.outputNormGamma, beta: l.outputNormBeta, eps: c.layerNormEps)
        }
    }
}

/// Columns `cols` of a Linear layer: C[m, cols] = A[m, k] W[k, cols] + beta C, the weight
/// transposed to [in, out] (`BertWeights`), W's and C's rows `ldc` apart (both are out wide).
/// A few rows (a query) go to the panel kernel when the weight has panels; a batch to OpenBLAS,
/// whose packing pays for itself over many rows.
@inline(__always)
private func linear(_ m: Int, _ cols: Range<Int>, _ k: Int, _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                    _ panels: UnsafeRawPointer?, _ half: Bool, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, beta: Float) {
    guard !cols.isEmpty else { return }
    if let panels, m <= BertEncoder.panelMaxRows, cols.lowerBound % 16 == 0, cols.count % 16 == 0 {
        let accumulate: Int32 = beta == 0 ? 0 : 1
        if half {
            emb_packed_linear_half(a, k, m, panels.assumingMemoryBound(to: UInt16.self), k, cols.lowerBound, cols.count, c, ldc, accumulate)
        } else {
            emb_packed_linear(a, k, m, panels.assumingMemoryBound(to: Float.self), k, cols.lowerBound, cols.count, c, ldc, accumulate)
        }
        return
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(cols.count), Int32(k),
                1, a, Int32(k), w + cols.lowerBound, Int32(ldc), beta, c + cols.lowerBound, Int32(ldc))
}
