import COpenBLAS

/// The element-wise steps of the forward pass, over rows of the packed [tokens, features]
/// activations, in place and without allocating. The work is in `embedding_kernels.h`
/// (AVX-512 / AVX2 / portable, picked at run time); `level` forces a version for tests.
enum Kernels {
    /// The best version the CPU runs.
    static let best: Int32 = -1

    /// `x[r] = LayerNorm(x[r] + (y[r] + bias))`: the residual, the bias of the Linear that made
    /// `y`, and the norm, in one pass.
    static func addBiasResidualLayerNorm(
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, dim: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float, level: Int32 = best
    ) {
        emb_layernorm(level, x, y, bias, rows, dim, gamma, beta, eps)
    }

    /// `x[r] = LayerNorm(x[r])`.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, eps: Float, level: Int32 = best) {
        emb_layernorm(level, x, nil, nil, rows, dim, gamma, beta, eps)
    }

    /// `x = gelu(x + bias)` on `dim` columns of `rows` rows `ld` apart, the exact (erf) GELU
    /// BERT was trained with.
    static func addBiasGELU(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, dim: Int,
                            ld: Int, level: Int32 = best) {
        emb_bias_gelu(level, x, bias, rows, dim, ld)
    }

    /// Softmax of each row of a [rows, cols] matrix, in place.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int, level: Int32 = best) {
        emb_softmax_rows(level, s, rows, cols)
    }

    /// Which version `best` is: 2 AVX-512, 1 AVX2, 0 portable.
    static var level: Int { Int(emb_simd_level()) }
}
