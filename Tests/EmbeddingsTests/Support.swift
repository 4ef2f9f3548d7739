import Embeddings
import Foundation
import JSON
import TestSupport

/// The model and the reference fixtures, loaded once for the whole target.
enum Shared {
    /// `EMBEDDING_MODEL_DIR`, else the repository's `.models/all-MiniLM-L6-v2` (scripts/model.sh).
    static let modelDirectory: String = {
        if let dir = ProcessInfo.processInfo.environment[EmbeddingModelDirectory.environmentVariable], !dir.isEmpty { return dir }
        return (TestPaths.packageRoot as NSString).appendingPathComponent(EmbeddingModelDirectory.miniLMPath)
    }()

    static let loaded: Result<MiniLMEmbedder, EmbeddingError> = Result { () throws(EmbeddingError) in
        try MiniLMEmbedder(modelDirectory: modelDirectory)
    }

    static func embedder() throws -> MiniLMEmbedder { try loaded.get() }

    struct Case: Sendable {
        let name: String
        let text: String
        let inputIds: [Int32]
        let untruncatedCount: Int
        let truncated: Bool
        let embedding: [Float]
    }

    /// `../shared/fixtures/minilm_reference.json` next to the repository (the shared fixtures),
    /// or `MINILM_REFERENCE`: sentence-transformers' own ids and vectors for 40 texts.
    static let fixturePath: String = {
        if let p = ProcessInfo.processInfo.environment["MINILM_REFERENCE"], !p.isEmpty { return p }
        // A copy lives in the repository, so a fresh clone (CI) has it without the folder beside it.
        let inRepo = TestPaths.packageRoot + "/Tests/Fixtures/minilm_reference.json"
        if FileManager.default.fileExists(atPath: inRepo) { return inRepo }
        return ((TestPaths.packageRoot as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("shared/fixtures/minilm_reference.json")
    }()

    static let cases: Result<[Case], FixtureMissing> = {
        guard let data = FileManager.default.contents(atPath: fixturePath),
              let json = try? JSONValue.parse([UInt8](data)), let list = json["cases"]?.arrayValue
        else { return .failure(FixtureMissing(path: fixturePath)) }
        return .success(list.map { c in
            Case(
                name: c["name"]?.stringValue ?? "",
                text: c["text"]?.stringValue ?? "",
                inputIds: (c["input_ids"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int32.init) },
                untruncatedCount: c["untruncated_num_tokens"]?.intValue ?? -1,
                truncated: c["truncated"]?.boolValue ?? false,
                embedding: (c["embedding"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) })
        })
    }()

    struct FixtureMissing: Error, CustomStringConvertible {
        let path: String
        var description: String { "reference fixtures not found at \(path) (set MINILM_REFERENCE)" }
    }

    static func fixtureCases() throws -> [Case] { try cases.get() }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}
