import COpenBLAS
import Testing

/// The few-row Linear kernel against a plain triple loop, over float32 panels and half ones:
/// every row count up to 30 (one block of up to 12 rows, then two or three even blocks), and
/// column ranges of one panel, two, and an odd number (a thread's share).
@Suite struct PanelKernelTests {
    struct Fixture {
        var state: UInt64 = 1
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    @Test(arguments: [false, true])
    func thePanelKernelComputesTheProduct(half: Bool) {
        guard emb_has_packed_linear(-1) != 0 else { return }  // AVX-512 only; OpenBLAS elsewhere
        var f = Fixture()
        let k = 40, n = 80
        var w = (0..<(k * n)).map { _ in f.next() * 3 }
        // Half panels hold the weights rounded to half precision; the product is with those.
        if half { #expect(emb_round_to_half(&w, w.count) == 1) }
        // The kernel's aligned loads need 64-byte panels, as BertWeights allocates them.
        let panels = UnsafeMutableRawPointer.allocate(byteCount: k * n * 4, alignment: 64)
        defer { panels.deallocate() }
        if half {
            emb_pack_panels_half(w, k, n, n, panels.assumingMemoryBound(to: UInt16.self))
        } else {
            emb_pack_panels(w, k, n, n, panels.assumingMemoryBound(to: Float.self))
        }
        for m in 1...30 {
            let a = (0..<(m * k)).map { _ in f.next() }
            for (col0, cols) in [(0, 80), (16, 16), (16, 48), (32, 32)] {
                for accumulate in [0, 1] {
                    var c = [Float](repeating: 0.5, count: m * n)
                    if half {
                        emb_packed_linear_half(a, k, m, panels.assumingMemoryBound(to: UInt16.self), k, col0, cols, &c, n, Int32(accumulate))
                    } else {
                        emb_packed_linear(a, k, m, panels.assumingMemoryBound(to: Float.self), k, col0, cols, &c, n, Int32(accumulate))
                    }
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
                    #expect(worst < 1e-4, "m \(m), columns \(col0)..<\(col0 + cols), accumulate \(accumulate), half \(half): off by \(worst)")
                }
            }
        }
    }

    /// The rounding the half panels and OpenBLAS's copy share: nearest half, ties to even,
    /// subnormal halves included; out of range is refused.
    @Test func roundingToHalfIsTheNearestHalf() {
        var x: [Float] = [1, 1 + 1.0 / 2048, 1 + 3.0 / 2048, 65504, 65519, 0.1, -0.1, 1e-6, 5.960464477539063e-08 * 1.5, 0]
        #expect(emb_round_to_half(&x, x.count) == 1)
        // 1 + 2^-11 is the midpoint of 1 and 1 + 2^-10: ties go to the even mantissa (1);
        // 1 + 3 * 2^-11 to 1 + 2^-9. 0.1 is 0x2E66 in half: 0.0999755859375.
        #expect(x == [1, 1, 1 + 4.0 / 2048, 65504, 65504, 0.0999755859375, -0.0999755859375,
                      1.0132789611816406e-06, 1.1920928955078125e-07, 0])
        var big: [Float] = [1, 65520]
        #expect(emb_round_to_half(&big, big.count) == 0)
        var nan: [Float] = [.nan]
        #expect(emb_round_to_half(&nan, 1) == 0)
    }
}
