import Foundation

/// The element-wise parts of the forward pass (everything but the matrix products). They run on
/// rows of the packed [tokens, features] activations, in place, without allocating.
enum Kernels {
    /// `x[r] = LayerNorm(x[r] + y[r] + bias)`: a residual connection, the bias of the Linear
    /// that produced `y`, and the norm, in one pass over the rows.
    static func addBiasResidualLayerNorm(
        _ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows: Int, dim: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
    ) {
        for r in 0..<rows {
            let xr = x + r * dim, yr = y + r * dim
            for k in 0..<dim { xr[k] = xr[k] + (yr[k] + bias[k]) }
            layerNormRow(xr, dim: dim, gamma: gamma, beta: beta, eps: eps)
        }
    }

    /// LayerNorm of one row, in place: biased variance, as torch.
    @inline(__always)
    static func layerNormRow(_ x: UnsafeMutablePointer<Float>, dim: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        var sum: Float = 0
        for k in 0..<dim { sum += x[k] }
        let mean = sum / Float(dim)
        var sq: Float = 0
        for k in 0..<dim {
            let d = x[k] - mean
            sq += d * d
        }
        let inv = 1 / (sq / Float(dim) + eps).squareRoot()
        for k in 0..<dim { x[k] = (x[k] - mean) * inv * gamma[k] + beta[k] }
    }

    /// `x = gelu(x + bias)` over `rows` rows of `dim`, the exact (erf) GELU BERT was trained with.
    static func addBiasGELU(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows {
            let xr = x + r * dim
            for k in 0..<dim {
                let v = xr[k] + bias[k]
                xr[k] = 0.5 * v * (1 + erf(v * 0.70710678118654752))
            }
        }
    }

    /// Softmax of each of `rows` rows of `cols` (row stride `cols`), in place.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = s + r * cols
            var m = -Float.infinity
            for k in 0..<cols { m = max(m, row[k]) }
            var sum: Float = 0
            for k in 0..<cols {
                let e = exp(row[k] - m)
                row[k] = e
                sum += e
            }
            let inv = 1 / sum
            for k in 0..<cols { row[k] *= inv }
        }
    }
}
