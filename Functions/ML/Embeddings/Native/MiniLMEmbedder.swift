import Dispatch
import Foundation
import JSON
import Synchronization

/// all-MiniLM-L6-v2 (sentence-transformers), run natively: the tokenizer in Swift, the matrix
/// products in OpenBLAS. Matches `SentenceTransformer.encode(..., normalize_embeddings=True)`:
/// identical token ids, cosine >= 0.9999 with the reference vectors.
///
/// Threads: a batch that shares out evenly gives each thread whole sequences (balanced by their
/// cost) and its own buffers; a single text or a few uneven ones get every step of the pass split
/// across the threads instead (`Parallel`, on a spinning `WorkerTeam`). OpenBLAS itself runs
/// single-threaded inside each (see `OpenBLASSetup`).
package final class MiniLMEmbedder: EmbeddingProvider {
    package let modelId: String
    package let dimension: Int
    package let maxInputTokens: Int
    package let tokenizer: BertTokenizer
    package let modelDirectory: String
    /// Threads one call uses (default: one per core).
    package let threads: Int
    /// OpenBLAS's kernel family (`SkylakeX`, `Haswell`...), for logs and benchmarks.
    package var blasCore: String { OpenBLASSetup.coreName }
    package var runsLocally: Bool { true }
    /// How the layers' weights are held (`.half` unless asked for `.float32`).
    package var weightPrecision: WeightPrecision { encoder.weights.precision }
    let encoder: BertEncoder
    private let scratchPool = Mutex<[EncoderScratch]>([])

    /// Texts larger than this are refused rather than tokenized (the untruncated count needs the
    /// whole text): chunk documents before embedding them.
    package static let maxTextBytes = 1 << 20
    /// Tokens per share per pass; bounds the activation buffers (about 14 KB a token).
    static let maxTokensPerPass = 4096

    /// Loads the model folder (`config.json`, `vocab.txt`, `model.safetensors`,
    /// optionally `sentence_bert_config.json`). Errors name the fix (`scripts/model.sh`).
    /// Whether short passes use the panel kernel unless told: in optimized builds. A debug
    /// build compiles the kernel (a C header) without optimization, several times slower than
    /// OpenBLAS, which is prebuilt optimized; there it stays off unless asked for (tests do).
    #if DEBUG
    package static let panelKernelByDefault = false
    #else
    package static let panelKernelByDefault = true
    #endif

    /// `panelKernel: false` runs every product through OpenBLAS: the benchmark's baseline.
    /// `weights`: the layers' matrices in half precision (default) or as stored (`WeightPrecision`).
    package init(modelDirectory: String = EmbeddingModelDirectory.resolve(model: EmbeddingModelRegistry.miniLM.id), threads: Int? = nil,
                panelKernel: Bool = MiniLMEmbedder.panelKernelByDefault, weights: WeightPrecision = .half) throws(EmbeddingError) {
        _ = OpenBLASSetup.coreName
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
            encoder = BertEncoder(weights: try BertWeights(file: try SafeTensorsFile(path: weightsPath), config: config,
                                                                  packPanels: panelKernel, precision: weights))
        } catch .fileMissing {
            throw .modelMissing(path: modelDirectory, reason: "model.safetensors is missing")
        } catch {
            throw .modelCorrupt(path: modelDirectory, reason: "model.safetensors: \(error.description)")
        }
        modelId = Self.nativeModelId
        dimension = config.hiddenSize
        maxInputTokens = maxLength
        self.threads = max(1, threads ?? SchedulableCPUs.count)
    }

    /// `role` is ignored: all-MiniLM-L6-v2 was trained without query/passage prefixes.
    package func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        // Seconds of CPU for a large batch: run it on a thread of its own. Not a Dispatch global
        // queue: on Linux those share threads with the Swift concurrency executor, and a few
        // concurrent batches starved every other task of the process for seconds.
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<[Embedding], Error>) in
            let thread = Thread {
                k.resume(with: Result { () throws(EmbeddingError) -> [Embedding] in try self.embedNow(texts) })
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// The same, on the calling thread.
    package func embedNow(_ texts: [String]) throws(EmbeddingError) -> [Embedding] {
        var encodings: [BertTokenizer.Encoding] = []
        encodings.reserveCapacity(texts.count)
        for (i, t) in texts.enumerated() {
            guard t.utf8.count <= Self.maxTextBytes else { throw .invalidInput("text \(i): \(Self.tooLarge(t))") }
            encodings.append(tokenizer.encode(t))
        }
        let vectors = try embed(encodings.map(\.ids))
        return zip(encodings, vectors).map { e, v in
            Embedding(vector: v, tokenCount: e.ids.count, untruncatedTokenCount: e.untruncatedCount, truncated: e.truncated)
        }
    }

    /// The model input for one text; refuses texts over `maxTextBytes`.
    package func encode(_ text: String) throws(EmbeddingError) -> BertTokenizer.Encoding {
        guard text.utf8.count <= Self.maxTextBytes else { throw .invalidInput(Self.tooLarge(text)) }
        return tokenizer.encode(text)
    }

    private static func tooLarge(_ text: String) -> String {
        "\(text.utf8.count) bytes is more than \(maxTextBytes); chunk it first"
    }

    /// Vectors for token id sequences (from `encode`), in order. Each must be 1 to
    /// `maxPositions` ids from the vocabulary.
    package func embed(_ sequences: [[Int32]]) throws(EmbeddingError) -> [[Float]] {
        let c = encoder.config
        for (i, s) in sequences.enumerated() {
            guard !s.isEmpty, s.count <= c.maxPositions else {
                throw .invalidInput("sequence \(i) has \(s.count) ids; 1 to \(c.maxPositions) are allowed")
            }
            guard s.allSatisfy({ $0 >= 0 && Int($0) < c.vocabSize }) else {
                throw .invalidInput("sequence \(i) has an id outside the vocabulary (0..<\(c.vocabSize))")
            }
        }
        let h = dimension
        var result: [[Float]] = []
        result.reserveCapacity(sequences.count)
        let lengths = sequences.map(\.count)
        var next = 0
        while next < sequences.count {
            // One pass: as many sequences as fit the token budget.
            var end = next, tokens = 0
            while end < sequences.count, end == next || tokens + lengths[end] <= Self.maxTokensPerPass * threads {
                tokens += lengths[end]
                end += 1
            }
            let indices = Array(next..<end), first = next
            let output = UnsafeMutablePointer<Float>.allocate(capacity: indices.count * h)
            defer { output.deallocate() }
            let rows = SharedPointer(base: output)
            let (shares, imbalance) = Self.balance(indices, lengths: lengths, into: threads)
            if threads == 1 {
                run(indices, of: sequences, from: first, parallel: .serial, into: rows)
            } else {
                WorkerTeam.shared.withTeam { team in
                    if shares.count > 1, imbalance <= Self.maxImbalance {
                        // Whole sequences per thread: no synchronisation inside the pass.
                        Parallel(width: shares.count, team: team).run { j in
                            run(shares[j], of: sequences, from: first, parallel: .serial, into: rows)
                        }
                    } else {
                        // One query, or a few uneven texts: every step split across the threads.
                        run(indices, of: sequences, from: first, parallel: Parallel(width: threads, team: team), into: rows)
                    }
                }
            }
            for k in indices.indices { result.append(Array(UnsafeBufferPointer(start: output + k * h, count: h))) }
            next = end
        }
        return result
    }

    /// Sharing out whole sequences wins (measured: ~15% more throughput on full batches) unless a
    /// thread would get this much more work than the average; then splitting each step is faster
    /// despite its 7 joins per layer.
    static let maxImbalance = 1.15

    /// Embeds `sequences[indices]` into rows `index - first` of `output`.
    private func run(_ indices: [Int], of sequences: [[Int32]], from first: Int, parallel: Parallel,
                     into output: SharedPointer<Float>) {
        let h = dimension
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        let local = UnsafeMutablePointer<Float>.allocate(capacity: indices.count * h)
        defer { local.deallocate() }
        encoder.embed(indices.map { sequences[$0] }, scratch: scratch, output: local, parallel: parallel)
        for (k, index) in indices.enumerated() {
            (output.base + (index - first) * h).update(from: local + k * h, count: h)
        }
    }

    /// Splits sequence indices into at most `parts` shares of about equal cost, longest first
    /// onto the least loaded share; also returns the largest share's cost over the mean. A
    /// token costs its Linear layers plus attention over its sequence (about 2,300 : 1 per
    /// token of length, for this model).
    static func balance(_ indices: [Int], lengths: [Int], into parts: Int) -> (shares: [[Int]], imbalance: Double) {
        let parts = min(parts, indices.count)
        guard parts > 1 else { return ([indices], 1) }
        var shares = [[Int]](repeating: [], count: parts)
        var load = [Double](repeating: 0, count: parts)
        for i in indices.sorted(by: { lengths[$0] > lengths[$1] }) {
            let j = load.indices.min { load[$0] < load[$1] }!
            shares[j].append(i)
            load[j] += Double(lengths[i]) * (2300 + Double(lengths[i]))
        }
        return (shares, load.max()! / (load.reduce(0, +) / Double(parts)))
    }

    private func takeScratch() -> EncoderScratch {
        scratchPool.withLock { $0.popLast() } ?? EncoderScratch()
    }

    private func returnScratch(_ s: EncoderScratch) {
        scratchPool.withLock { $0.append(s) }
    }
}

extension MiniLMEmbedder {
    /// The id vectors from this model are stored under.
    package static let nativeModelId = "sentence-transformers/all-MiniLM-L6-v2"

    /// The model's files are there and agree with each other, without loading the weights:
    /// `config.json`, the size of `vocab.txt`, and the `model.safetensors` header (every tensor's
    /// byte range inside the file, the word embeddings `[vocab, hidden]`). For a process that
    /// checks the model but never embeds (`health`): loading it costs about 90 MB resident.
    /// - Returns: the vector size, the hidden size `config.json` gives.
    package static func verifyFiles(modelDirectory: String) throws(EmbeddingError) -> Int {
        let config = try BertConfig(json: try EmbeddingModelDirectory.read("config.json", in: modelDirectory))
        let tokenizer: BertTokenizer
        do {
            tokenizer = try BertTokenizer(vocabTxt: try EmbeddingModelDirectory.read("vocab.txt", in: modelDirectory), maxLength: 8)
        } catch {
            throw .modelCorrupt(path: modelDirectory, reason: error.description)
        }
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw .modelCorrupt(path: modelDirectory, reason: "vocab.txt has \(tokenizer.vocabularySize) tokens, config.json says \(config.vocabSize)")
        }
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: (modelDirectory as NSString).appendingPathComponent("model.safetensors"))
        } catch .fileMissing {
            throw .modelMissing(path: modelDirectory, reason: "model.safetensors is missing")
        } catch {
            throw .modelCorrupt(path: modelDirectory, reason: "model.safetensors: \(error.description)")
        }
        let words = file.tensors["embeddings.word_embeddings.weight"] ?? file.tensors["bert.embeddings.word_embeddings.weight"]
        guard let words, words.shape == [config.vocabSize, config.hiddenSize] else {
            throw .modelCorrupt(path: modelDirectory, reason: "model.safetensors has no word embeddings of shape [\(config.vocabSize), \(config.hiddenSize)]")
        }
        return config.hiddenSize
    }
}

extension MiniLMEmbedder: CountsTokens {
    package func countTokens(_ text: String) -> Int { tokenizer.wordPieces(text).count }
}
