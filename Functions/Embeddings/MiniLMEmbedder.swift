import COpenBLAS
import LambdaEvents
import Dispatch
import Foundation
import Synchronization

/// all-MiniLM-L6-v2 (sentence-transformers), run natively: the tokenizer in Swift, the matrix
/// products in OpenBLAS. Matches `SentenceTransformer.encode(..., normalize_embeddings=True)`:
/// identical token ids, cosine >= 0.9999 with the reference vectors.
///
/// Threads: OpenBLAS is set to one thread and this type parallelises itself, by giving each
/// core a share of the batch's sequences (balanced by their cost) with its own buffers. The
/// element-wise steps (LayerNorm, GELU, softmax) then run in parallel too, where OpenBLAS's own
/// threads would only split the matrix products and leave them serial; the many small attention
/// products avoid a thread hand-off each; and concurrent callers do not fight over one pool.
public final class MiniLMEmbedder: EmbeddingProvider {
    public let modelId: String
    public let dimension: Int
    public let maxInputTokens: Int
    public let tokenizer: BertTokenizer
    public let modelDirectory: String
    /// How many sequences' shares run at once.
    public let threads: Int
    let encoder: BertEncoder
    private let scratchPool = Mutex<[EncoderScratch]>([])

    /// Texts larger than this are refused rather than tokenized (the untruncated count needs the
    /// whole text): chunk documents before embedding them.
    public static let maxTextBytes = 1 << 20
    /// Tokens per share per pass; bounds the activation buffers (about 14 KB a token).
    static let maxTokensPerPass = 4096

    /// Loads the model folder (`config.json`, `vocab.txt`, `model.safetensors`,
    /// optionally `sentence_bert_config.json`). Errors name the fix (`scripts/model.sh`).
    public init(modelDirectory: String = EmbeddingModelDirectory.resolve(), threads: Int? = nil) throws(EmbeddingError) {
        Self.configureBLAS
        self.modelDirectory = modelDirectory
        let config = try BertConfig(json: try EmbeddingModelDirectory.read("config.json", in: modelDirectory))
        let vocab = try EmbeddingModelDirectory.read("vocab.txt", in: modelDirectory)
        var maxLength = 256
        let st = (modelDirectory as NSString).appendingPathComponent("sentence_bert_config.json")
        if let data = FileManager.default.contents(atPath: st), let v = try? JSONValue.parse([UInt8](data)),
           let n = v["max_seq_length"]?.intValue, n >= 2 {
            maxLength = n
        }
        maxLength = min(maxLength, config.maxPositions)
        do {
            tokenizer = try BertTokenizer(vocabTxt: vocab, maxLength: maxLength)
        } catch {
            throw .modelCorrupt(path: modelDirectory, reason: error.description)
        }
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw .modelCorrupt(path: modelDirectory,
                                reason: "vocab.txt has \(tokenizer.vocabularySize) tokens, config.json says \(config.vocabSize)")
        }
        let weightsPath = (modelDirectory as NSString).appendingPathComponent("model.safetensors")
        do {
            encoder = BertEncoder(weights: try BertWeights(file: try SafeTensorsFile(path: weightsPath), config: config))
        } catch .fileMissing {
            throw .modelMissing(path: modelDirectory, reason: "model.safetensors is missing")
        } catch {
            throw .modelCorrupt(path: modelDirectory, reason: "model.safetensors: \(error.description)")
        }
        modelId = "sentence-transformers/all-MiniLM-L6-v2"
        dimension = config.hiddenSize
        maxInputTokens = maxLength
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Once per process, before the first product.
    private static let configureBLAS: Void = { openblas_set_num_threads(1) }()

    /// `role` is ignored: all-MiniLM-L6-v2 was trained without query/passage prefixes.
    public func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        // Seconds of CPU for a large batch: run it off the cooperative pool.
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<[Embedding], Error>) in
            DispatchQueue.global(qos: .userInitiated).async {
                k.resume(with: Result { () throws(EmbeddingError) -> [Embedding] in try self.embedNow(texts) })
            }
        }
    }

    /// The same, on the calling thread.
    public func embedNow(_ texts: [String]) throws(EmbeddingError) -> [Embedding] {
        var encodings: [BertTokenizer.Encoding] = []
        encodings.reserveCapacity(texts.count)
        for (i, t) in texts.enumerated() {
            do { encodings.append(try encode(t)) } catch { throw .invalidInput("text \(i): \(error.reason)") }
        }
        let vectors = embed(encodings.map(\.ids))
        return zip(encodings, vectors).map { e, v in
            Embedding(vector: v, tokenCount: e.ids.count, untruncatedTokenCount: e.untruncatedCount, truncated: e.truncated)
        }
    }

    /// The model input for one text; refuses texts over `maxTextBytes`.
    public func encode(_ text: String) throws(InputTooLarge) -> BertTokenizer.Encoding {
        guard text.utf8.count <= Self.maxTextBytes else { throw InputTooLarge(bytes: text.utf8.count) }
        return tokenizer.encode(text)
    }

    public struct InputTooLarge: Error, Sendable, Equatable {
        public let bytes: Int
        public var reason: String { "\(bytes) bytes is more than \(MiniLMEmbedder.maxTextBytes); chunk it first" }
    }

    /// Vectors for token id sequences (from `tokenizer.encode`), in order.
    public func embed(_ sequences: [[Int32]]) -> [[Float]] {
        let h = dimension
        let result = Mutex([[Float]](repeating: [], count: sequences.count))
        let lengths = sequences.map(\.count)
        var next = 0
        while next < sequences.count {
            // One pass: as many sequences as fit every share's token budget.
            var end = next, tokens = 0
            while end < sequences.count, end == next || tokens + lengths[end] <= Self.maxTokensPerPass * threads {
                tokens += lengths[end]
                end += 1
            }
            let shares = Self.balance(Array(next..<end), lengths: lengths, into: threads)
            let run = { @Sendable [encoder] (j: Int) in
                let share = shares[j]
                let scratch = self.takeScratch()
                defer { self.returnScratch(scratch) }
                var rows = [Float](repeating: 0, count: share.count * h)
                rows.withUnsafeMutableBufferPointer { out in
                    encoder.embed(share.map { sequences[$0] }, scratch: scratch, output: out.baseAddress!)
                }
                result.withLock { r in
                    for (k, index) in share.enumerated() { r[index] = Array(rows[(k * h)..<((k + 1) * h)]) }
                }
            }
            if shares.count == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: shares.count, execute: run) }
            next = end
        }
        return result.withLock { $0 }
    }

    /// Splits sequence indices into at most `parts` shares of about equal cost, longest first
    /// onto the least loaded share. A token costs its Linear layers plus attention over the
    /// sequence (about 2,300 : 1 per token of length, for this model).
    static func balance(_ indices: [Int], lengths: [Int], into parts: Int) -> [[Int]] {
        let parts = min(parts, indices.count)
        guard parts > 1 else { return [indices] }
        var shares = [[Int]](repeating: [], count: parts)
        var load = [Double](repeating: 0, count: parts)
        for i in indices.sorted(by: { lengths[$0] > lengths[$1] }) {
            let j = load.indices.min { load[$0] < load[$1] }!
            shares[j].append(i)
            load[j] += Double(lengths[i]) * (2300 + Double(lengths[i]))
        }
        return shares
    }

    private func takeScratch() -> EncoderScratch {
        scratchPool.withLock { $0.popLast() } ?? EncoderScratch()
    }

    private func returnScratch(_ s: EncoderScratch) {
        scratchPool.withLock { $0.append(s) }
    }
}
