import Foundation

/// Where the model files are: `EMBEDDING_MODEL_DIR`, else the template's default, a git-ignored
/// folder `scripts/model.sh` fills.
package enum EmbeddingModelDirectory {
    package static let environmentVariable = "EMBEDDING_MODEL_DIR"
    /// The folder scripts/model.sh fills.
    package static let miniLMPath = ".models/all-MiniLM-L6-v2"

    /// The folder scripts/model.sh or scripts/model-e5.sh fills for a native model.
    package static func defaultPath(model: String) -> String {
        EmbeddingModelRegistry.spec(for: model) == EmbeddingModelRegistry.multilingualE5Small ? MultilingualE5Embedder.defaultDirectory : miniLMPath
    }

    /// `explicit` if given (a `--model-dir` option), else the environment's, else the model's
    /// default folder. Relative paths are taken from the working directory, as the template's default is.
    package static func resolve(_ explicit: String? = nil, model: String = EmbeddingModelRegistry.defaultNative.id,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath(model: model)
    }

    /// Reads one of the model's files whole, as a missing-model error if it is not there.
    static func read(_ name: String, in directory: String) throws(EmbeddingError) -> [UInt8] {
        let path = (directory as NSString).appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .modelMissing(path: directory, reason: "the folder does not exist")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw .modelMissing(path: directory, reason: "\(name) is missing")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .modelCorrupt(path: directory, reason: "\(name) cannot be read")
        }
        return [UInt8](data)
    }
}
