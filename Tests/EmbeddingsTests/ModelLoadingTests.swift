import Embeddings
import Foundation
import TestSupport
import Testing

/// A missing or damaged model folder fails at load with a typed error that says how to fix it.
@Suite struct ModelLoadingTests {
    @Test func missingFolderNamesTheFix() throws {
        let dir = TestPaths.temporaryDirectory("emb") + "/nowhere"
        #expect {
            _ = try MiniLMEmbedder(modelDirectory: dir)
        } throws: { error in
            guard case .modelMissing(let path, _) = error as? EmbeddingError else { return false }
            let message = String(describing: error)
            return path == dir && message.contains("scripts/model.sh") && message.contains("EMBEDDING_MODEL_DIR")
        }
    }

    @Test func missingWeightsFileNamesTheFix() throws {
        let dir = try partialModel(weights: nil)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect {
            _ = try MiniLMEmbedder(modelDirectory: dir)
        } throws: { error in
            guard case .modelMissing(_, let reason) = error as? EmbeddingError else { return false }
            return reason.contains("model.safetensors") && String(describing: error).contains("scripts/model.sh")
        }
    }

    @Test func truncatedWeightsAreCorrupt() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Shared.modelDirectory + "/model.safetensors"))
        let dir = try partialModel(weights: full.prefix(full.count / 2))
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect {
            _ = try MiniLMEmbedder(modelDirectory: dir)
        } throws: { error in
            guard case .modelCorrupt(_, let reason) = error as? EmbeddingError else { return false }
            return reason.contains("truncated") && String(describing: error).contains("scripts/model.sh")
        }
    }

    @Test func configThatDoesNotMatchTheWeightsIsCorrupt() throws {
        let full = try Data(contentsOf: URL(fileURLWithPath: Shared.modelDirectory + "/model.safetensors"))
        let dir = try partialModel(weights: full)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try String(contentsOfFile: dir + "/config.json", encoding: .utf8)
            .replacingOccurrences(of: "\"intermediate_size\": 1536", with: "\"intermediate_size\": 3072")
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        #expect {
            _ = try MiniLMEmbedder(modelDirectory: dir)
        } throws: { error in
            guard case .modelCorrupt(_, let reason) = error as? EmbeddingError else { return false }
            return reason.contains("intermediate.dense.weight") && reason.contains("[1536, 384]")
        }
    }

    @Test func directoryResolution() {
        #expect(EmbeddingModelDirectory.resolve("/x", environment: ["EMBEDDING_MODEL_DIR": "/y"]) == "/x")
        #expect(EmbeddingModelDirectory.resolve(nil, environment: ["EMBEDDING_MODEL_DIR": "/y"]) == "/y")
        #expect(EmbeddingModelDirectory.resolve(nil, environment: [:]) == ".models/multilingual-e5-small")
        #expect(EmbeddingModelDirectory.resolve(nil, model: "all-MiniLM-L6-v2", environment: [:]) == ".models/all-MiniLM-L6-v2")
    }

    @Test func oversizedTextIsInvalidInput() async throws {
        let embedder = try Shared.embedder()
        await #expect(throws: EmbeddingError.self) {
            _ = try await embedder.embed(["ok", String(repeating: "a", count: MiniLMEmbedder.maxTextBytes + 1)], role: .passage)
        }
    }

    /// A copy of the model folder's small files, with `weights` as model.safetensors (or none).
    private func partialModel(weights: Data?) throws -> String {
        let dir = TestPaths.temporaryDirectory("emb-model")
        for f in ["config.json", "vocab.txt", "sentence_bert_config.json"] {
            try FileManager.default.copyItem(atPath: Shared.modelDirectory + "/" + f, toPath: dir + "/" + f)
        }
        if let weights { try weights.write(to: URL(fileURLWithPath: dir + "/model.safetensors")) }
        return dir
    }
}

@Suite struct TokenIdInputTests {
    @Test func idsOutsideTheVocabularyOrTooManyAreRefused() throws {
        let embedder = try Shared.embedder()
        #expect(throws: EmbeddingError.self) { try embedder.embed([[101, 30522, 102]]) }
        #expect(throws: EmbeddingError.self) { try embedder.embed([[101, -1, 102]]) }
        #expect(throws: EmbeddingError.self) { try embedder.embed([[]]) }
        #expect(throws: EmbeddingError.self) { try embedder.embed([[Int32](repeating: 1000, count: 513)]) }
        #expect(try embedder.embed([[101, 102]]).first?.count == 384)
    }
}
