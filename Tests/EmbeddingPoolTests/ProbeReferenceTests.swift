import EmbeddingPolicies
import Embeddings
import Foundation
import Testing
import TestSupport

/// The probe references shipped for the native models are those models' vectors: a provider
/// checked against them is checked against the model.
@Suite struct ProbeReferenceTests {
    static let folder = TestPaths.packageRoot + "/config/embedding/probes/"

    @Test func theShippedReferencesAreTheNativeModelsOwnVectors() async throws {
        for model in [Models.e5, Models.miniLMFloat32] {
            let path = Self.folder + ProbeReference.fileName(model: model.modelId)
            let shipped = try #require(try ProbeReference.load(path: path), "\(path) is missing")
            let now = try await ProbeReference.make(with: model)
            #expect(shipped.model == model.modelId)
            #expect(ProbeSet.disagreement(reference: shipped.vectors, candidate: now.vectors) == nil)
            for (a, b) in zip(shipped.vectors, now.vectors) {
                let cos = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                // Not bit-exact: e5's int8 re-quantisation and the kernel level (AVX-512, AVX2,
                // scalar) move a vector by up to 2e-4 in cosine.
                #expect(cos > 0.9995, "\(model.modelId): \(cos)")
            }
        }
    }

    @Test func aBrokenOrForeignReferenceIsRefusedWithTheFix() throws {
        let dir = TestPaths.temporaryDirectory("probe-ref")
        try "{\"model\":\"x\",\"vectors\":[[1,0]]}".write(toFile: dir + "/short.json", atomically: true, encoding: .utf8)
        #expect(throws: EmbeddingError.self) { try ProbeReference.load(path: dir + "/short.json") }
        #expect(try ProbeReference.load(path: dir + "/absent.json") == nil)
        let c = try EmbeddingConfiguration.fromEnvironment([:])
        let foreign = Self.folder + ProbeReference.fileName(model: "sentence-transformers/all-MiniLM-L6-v2")
        #expect(throws: EmbeddingError.configuration("\(foreign) is the probe reference of sentence-transformers/all-MiniLM-L6-v2, not intfloat/multilingual-e5-small")) {
            try EmbeddingPools.reference(c, environment: ["EMBEDDING_PROBE_REFERENCE": foreign])
        }
    }
}
