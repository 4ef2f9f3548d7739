import Foundation
import Testing
@testable import Embeddings

/// The element-wise kernels, each version (portable, AVX2, AVX-512: the ones this CPU has),
/// against double-precision references, on sizes with and without SIMD tails.
@Suite struct KernelTests {
    static let levels: [Int32] = [0, 1, 2]

    func random(_ n: Int, scale: Float, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    @Test(arguments: levels)
    func gelu(level: Int32) {
        for (rows, dim, ld) in [(3, 1536, 1536), (2, 37, 40), (4, 768, 1536)] {
            var x = random(rows * ld, scale: 8, seed: 1)
            let bias = random(dim, scale: 1, seed: 2)
            let before = x
            x.withUnsafeMutableBufferPointer { Kernels.addBiasGELU($0.baseAddress!, bias: bias, rows: rows, dim: dim, ld: ld, level: level) }
            for r in 0..<rows {
                for k in 0..<ld {
                    let i = r * ld + k
                    guard k < dim else { #expect(x[i] == before[i]); continue }  // outside the block: untouched
                    let v = Double(before[i]) + Double(bias[k])
                    let exact = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                    #expect(abs(Double(x[i]) - exact) < 2e-6 * max(1, abs(v)), "gelu(\(v)) = \(x[i]), exact \(exact)")
                }
            }
        }
    }

    @Test(arguments: levels)
    func softmax(level: Int32) {
        for (rows, cols) in [(5, 256), (3, 37), (2, 1), (4, 17)] {
            var s = random(rows * cols, scale: 12, seed: 3)
            let before = s
            s.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols, level: level) }
            for r in 0..<rows {
                let row = before[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let m = row.max()!
                let sum = row.reduce(0) { $0 + exp($1 - m) }
                for k in 0..<cols {
                    let exact = exp(row[k] - m) / sum
                    #expect(abs(Double(s[r * cols + k]) - exact) <= 1e-6 * exact + 1e-9)
                }
            }
        }
    }

    @Test(arguments: levels)
    func layerNormWithResidual(level: Int32) {
        for (rows, dim) in [(3, 384), (2, 20), (2, 8)] {
            var x = random(rows * dim, scale: 3, seed: 4)
            let y = random(rows * dim, scale: 2, seed: 5), bias = random(dim, scale: 0.5, seed: 6)
            let gamma = random(dim, scale: 1, seed: 7), beta = random(dim, scale: 0.2, seed: 8)
            let before = x
            x.withUnsafeMutableBufferPointer {
                Kernels.addBiasResidualLayerNorm($0.baseAddress!, y, bias: bias, rows: rows, dim: dim,
                                                 gamma: gamma, beta: beta, eps: 1e-12, level: level)
            }
            for r in 0..<rows {
                let v = (0..<dim).map { Double(before[r * dim + $0]) + (Double(y[r * dim + $0]) + Double(bias[$0])) }
                let mean = v.reduce(0, +) / Double(dim)
                let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(dim)
                for k in 0..<dim {
                    let exact = (v[k] - mean) / (variance + 1e-12).squareRoot() * Double(gamma[k]) + Double(beta[k])
                    #expect(abs(Double(x[r * dim + k]) - exact) < 1e-5)
                }
            }
        }
    }

    @Test func parallelPartsCoverTheRangeOnce() {
        for width in 1...4 {
            let p = Parallel(width: width, team: nil)
            for (n, align) in [(1152, 16), (384, 16), (7, 1), (1, 1), (20, 16)] {
                let parts = (0..<width).map { p.part($0, of: n, align: align) }
                #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == n)
                for k in 1..<parts.count {
                    #expect(parts[k].lowerBound == parts[k - 1].upperBound)
                    #expect(parts[k].lowerBound % align == 0 || parts[k].lowerBound == n)
                }
            }
        }
    }

    /// Thousands of fork-joins on the spinning team and on the Dispatch fallback: every index
    /// runs exactly once per join, and a second pass while the team is held gets no team.
    @Test func workerTeamRunsEveryIndexOncePerJoin() {
        let team = WorkerTeam(width: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        counts.initialize(repeating: 0, count: 3)
        defer { counts.deallocate() }
        let shared = SharedPointer(base: counts)
        for _ in 0..<3 {
            team.withTeam { held in
                #expect(held != nil)
                team.withTeam { nested in #expect(nested == nil) }
                for width in [3, 2, 3] {
                    Parallel(width: width, team: held).run { j in shared.base[j] += 1 }
                }
                Parallel(width: 3, team: nil).run { j in shared.base[j] += 1 }
            }
        }
        #expect(Array(UnsafeBufferPointer(start: counts, count: 3)) == [12, 12, 9])
    }

    /// Back-to-back fork-joins of changing widths, as a pass makes them: a worker still leaving
    /// one must never take part of the next one twice or run a finished one's body.
    @Test func workerTeamSurvivesRapidForkJoins() {
        let team = WorkerTeam(width: 3)
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        defer { slots.deallocate() }
        let shared = SharedPointer(base: slots)
        var expected = [0, 0, 0]
        team.withTeam { held in
            for round in 0..<20_000 {
                let width = 1 + round % 3
                slots.initialize(repeating: 0, count: 3)
                Parallel(width: width, team: held).run { j in shared.base[j] += 1 }
                for j in 0..<3 { expected[j] = j < width ? 1 : 0 }
                if Array(UnsafeBufferPointer(start: slots, count: 3)) != expected {
                    Issue.record("round \(round), width \(width): \(Array(UnsafeBufferPointer(start: slots, count: 3)))")
                    return
                }
            }
        }
    }

    @Test func openBLASUsesVectorKernels() {
        // A CPU with AVX2 or better must not be left on OpenBLAS's SSE3 fallback.
        _ = OpenBLASSetup.coreName
        if Kernels.level > 0 {
            #expect(OpenBLASSetup.betterCore(than: OpenBLASSetup.coreName, simdLevel: Kernels.level) == nil,
                    "OpenBLAS core \(OpenBLASSetup.coreName)")
        }
        #expect(OpenBLASSetup.betterCore(than: "Prescott", simdLevel: 2) == "SkylakeX")
        #expect(OpenBLASSetup.betterCore(than: "Prescott", simdLevel: 1) == "Haswell")
        #expect(OpenBLASSetup.betterCore(than: "Haswell", simdLevel: 2) == nil)
    }
}
