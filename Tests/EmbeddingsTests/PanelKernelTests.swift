import COpenBLAS
import Testing

/// The few-row Linear kernel against a plain triple loop: every row count up to 17 (blocks of
/// 8, 4, 2, 1), and column ranges of one panel, two, and an odd number (a thread's share).
@Suite struct PanelKernelTests {
    @Test func thePanelKernelComputesTheProduct() {
        guard emb_has_packed_linear(-1) != 0 else { return }  // AVX-512 only; OpenBLAS elsewhere
        var state: UInt64 = 1
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
        let k = 40, n = 80
        let w = (0..<(k * n)).map { _ in next() }
        // The kernel's aligned loads need 64-byte panels, as BertWeights allocates them.
        let aligned = UnsafeMutableRawPointer.allocate(byteCount: k * n * 4, alignment: 64).bindMemory(to: Float.self, capacity: k * n)
        defer { aligned.deallocate() }
        emb_pack_panels(w, k, n, n, aligned)
        for m in 1...17 {
            let a = (0..<(m * k)).map { _ in next() }
            for (col0, cols) in [(0, 80), (16, 16), (16, 48), (32, 32)] {
                for accumulate in [0, 1] {
                    var c = [Float](repeating: 0.5, count: m * n)
                    emb_packed_linear(a, k, m, aligned, k, col0, cols, &c, n, Int32(accumulate))
                    var worst: Float = 0
                    for i in 0..<m {
                        for j in 0..<n {
                            var expected: Float = j >= col0 && j < col0 + cols ? 0 : 0.5
                            if j >= col0 && j < col0 + cols {
                                for kk in 0..<k { expected += a[i * k + kk] * w[kk * n + j] }
                                if accumulate == 1 { expected += 0.5 }
                            }
                            worst = max(worst, abs(c[i * n + j] - expected))
                        }
                    }
                    #expect(worst < 1e-4, "m \(m), columns \(col0)..<\(col0 + cols), accumulate \(accumulate): off by \(worst)")
                }
            }
        }
    }
}
