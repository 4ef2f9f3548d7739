import ArgumentParser
import Embeddings
import Foundation
import JSON

/// `embed`: JSON lines in (`{"text": ...}`), JSON lines out, one per input line and in order:
/// `{"input_ids": [...], "embedding": [...], "tokens": n, "truncated": bool}`, or
/// `{"error": "..."}` for a line that is not such an object. For checking the native model
/// against a reference, feeding a benchmark, or embedding files from a shell.
///
/// The provider is the configured one (`EMBEDDING_PROVIDER`, `EMBEDDING_MODEL`...; see
/// `EmbeddingConfiguration`): the native model by default. HTTP providers have no token ids to
/// show, so their lines carry `embedding`, `tokens` (the provider's estimate) and `truncated`.
@main
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embeds JSON lines {\"text\": ...} from stdin with the configured provider; one JSON line out per line in.")

    @Option(help: "The model folder (default: $EMBEDDING_MODEL_DIR, else the model's folder under .models/).")
    var modelDir: String?

    @Option(help: "Lines embedded together.")
    var batchSize = 32

    @Option(help: "Worker threads (default: one per core).")
    var threads: Int?

    @Flag(help: "Print load time and throughput to stderr.")
    var timing = false

    @Flag(help: "Leave input_ids out of the output.")
    var noIds = false

    @Option(help: "query or passage: models with prefixes or task types embed them differently.")
    var role: String = "passage"

    @Option(help: "Write the model's probe reference (its vectors for the fixed probe set that every provider of the model must match) to this file, and exit. Use a provider you trust.")
    var probeReference: String?

    @Flag(help: "Run every matrix product through OpenBLAS, not the few-token panel kernel (the benchmark's baseline).")
    var noPanelKernel = false

    func validate() throws {
        guard EmbeddingRole(rawValue: role) != nil else { throw ValidationError("--role must be query or passage") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        var env = ProcessInfo.processInfo.environment
        if let modelDir { env[EmbeddingModelDirectory.environmentVariable] = modelDir }
        let configuration: EmbeddingConfiguration
        do {
            configuration = try EmbeddingConfiguration.fromEnvironment(env)
        } catch {
            FileHandle.standardError.write(Data("embed: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let probeReference {
            do {
                let reference = try await ProbeReference.make(with: try EmbeddingProviders.make(configuration))
                try reference.json().write(toFile: probeReference, atomically: true, encoding: .utf8)
                FileHandle.standardError.write(Data("embed: wrote the probe reference of \(reference.model) to \(probeReference)\n".utf8))
            } catch {
                FileHandle.standardError.write(Data("embed: \(error)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        if configuration.provider == .native, configuration.spec == EmbeddingModelRegistry.multilingualE5Small {
            try runE5(configuration)
        } else if configuration.provider == .native {
            try runNative(weights: configuration.weightPrecision)
        } else {
            try await runRemote(configuration)
        }
    }

    /// Through the provider protocol: one request per batch, lines in order.
    func runRemote(_ configuration: EmbeddingConfiguration) async throws {
        let provider: any EmbeddingProvider
        do { provider = try EmbeddingProviders.make(configuration) } catch {
            FileHandle.standardError.write(Data("embed: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let role = EmbeddingRole(rawValue: role) ?? .passage
        var batch: [Result<String, EmbeddingError>] = []
        var failed = false
        func flush() async {
            let texts = batch.compactMap { try? $0.get() }
            var out = ""
            do {
                var next = try await provider.embed(texts, role: role).makeIterator()
                for item in batch {
                    switch item {
                    case .failure(let error): out += Self.errorLine(error.description)
                    case .success:
                        let e = next.next()!
                        out += "{\"embedding\":[" + e.vector.map { $0.isFinite ? $0.description : "null" }.joined(separator: ",")
                            + "],\"tokens\":\(e.tokenCount),\"truncated\":\(e.truncated)}\n"
                    }
                }
            } catch {
                failed = true
                for _ in batch { out += Self.errorLine("\(error)") }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            batch.removeAll(keepingCapacity: true)
        }
        while let line = readLine(strippingNewline: true) {
            batch.append(Self.text(of: line))
            if batch.count >= batchSize { await flush() }
        }
        if !batch.isEmpty { await flush() }
        if failed { throw ExitCode(1) }
    }

    /// The process's peak resident memory (the weights are mapped, so they count once read).
    static func peakResidentMB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024  // kilobytes on Linux
    }

    static func errorLine(_ message: String) -> String {
        var w = JSONWriter(capacity: message.utf8.count + 16)
        w.raw("{\"error\":"); w.string(message); w.raw("}\n")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func runNative(weights: WeightPrecision) throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let embedder: MiniLMEmbedder
        do {
            embedder = try MiniLMEmbedder(modelDirectory: EmbeddingModelDirectory.resolve(modelDir, model: EmbeddingModelRegistry.miniLM.id), threads: threads,
                                          panelKernel: noPanelKernel ? false : MiniLMEmbedder.panelKernelByDefault, weights: weights)
        } catch {
            FileHandle.standardError.write(Data("embed: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let loadTime = clock.now - loadStart
        var lines = 0, tokens = 0
        var busy = Duration.zero
        var batchTimes: [Duration] = []
        var batch: [Result<BertTokenizer.Encoding, EmbeddingError>] = []
        func flush() {
            let start = clock.now
            // The ids come from the tokenizer, always valid.
            let vectors = try! embedder.embed(batch.compactMap { try? $0.get().ids })
            batchTimes.append(clock.now - start)
            busy += batchTimes.last!
            var w = JSONWriter(capacity: batch.count * 4096)
            var next = vectors.makeIterator()
            for item in batch {
                switch item {
                case .failure(let error):
                    w.raw("{\"error\":"); w.string(error.description); w.raw("}\n")
                case .success(let encoding):
                    let vector = next.next()!
                    tokens += encoding.ids.count
                    if !noIds {
                        w.raw("{\"input_ids\":[")
                        for (i, id) in encoding.ids.enumerated() {
                            if i > 0 { w.raw(",") }
                            w.int(Int64(id))
                        }
                        w.raw("],\"embedding\":[")
                    } else {
                        w.raw("{\"embedding\":[")
                    }
                    for (i, x) in vector.enumerated() {
                        if i > 0 { w.raw(",") }
                        w.bytes.append(contentsOf: (x.isFinite ? x.description : "null").utf8)
                    }
                    w.raw("],\"tokens\":"); w.int(Int64(encoding.ids.count))
                    w.raw(",\"truncated\":"); w.raw(encoding.truncated ? "true" : "false")
                    w.raw("}\n")
                }
            }
            FileHandle.standardOutput.write(Data(w.bytes))
            batch.removeAll(keepingCapacity: true)
        }
        while let line = readLine(strippingNewline: true) {
            lines += 1
            batch.append(Self.text(of: line).flatMap { text in Result { () throws(EmbeddingError) in try embedder.encode(text) } })
            if batch.count >= batchSize { flush() }
        }
        if !batch.isEmpty { flush() }
        if timing {
            Self.reportTiming(load: loadTime, lines: lines, tokens: tokens, busy: busy, batchTimes: batchTimes,
                              extra: "blas=\(embedder.blasCore) threads=\(embedder.threads) weights=\(embedder.weightPrecision.rawValue)")
        }
    }

    /// multilingual-e5-small: the role's prefix, e5.c's windows, the same output and timing line.
    func runE5(_ configuration: EmbeddingConfiguration) throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let embedder: MultilingualE5Embedder
        do {
            embedder = try MultilingualE5Embedder(path: configuration.modelDirectory, threads: threads)
        } catch {
            FileHandle.standardError.write(Data("embed: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let loadTime = clock.now - loadStart
        let prefix = embedder.spec.prefix(for: EmbeddingRole(rawValue: role) ?? .passage)
        var lines = 0, tokens = 0
        var busy = Duration.zero
        var batchTimes: [Duration] = []
        var batch: [Result<String, EmbeddingError>] = []
        func flush() {
            let start = clock.now
            // Tokenizing is part of the cost, as in the reference (e5.c tokenizes inside e5_embed).
            let contents = batch.compactMap { try? $0.get() }.map { embedder.tokenizer.contentIDs(prefix + $0) }
            let vectors = embedder.embed(contents: contents)
            batchTimes.append(clock.now - start)
            busy += batchTimes.last!
            var w = JSONWriter(capacity: batch.count * 4096)
            var next = zip(contents, vectors).makeIterator()
            for item in batch {
                switch item {
                case .failure(let error):
                    w.raw("{\"error\":"); w.string(error.description); w.raw("}\n")
                case .success:
                    let (ids, vector) = next.next()!
                    tokens += ids.count + 2
                    w.raw("{\"embedding\":[")
                    for (i, x) in vector.enumerated() {
                        if i > 0 { w.raw(",") }
                        w.bytes.append(contentsOf: (x.isFinite ? x.description : "null").utf8)
                    }
                    w.raw("],\"tokens\":"); w.int(Int64(ids.count + 2)); w.raw(",\"truncated\":false}\n")
                }
            }
            FileHandle.standardOutput.write(Data(w.bytes))
            batch.removeAll(keepingCapacity: true)
        }
        while let line = readLine(strippingNewline: true) {
            lines += 1
            batch.append(Self.text(of: line))
            if batch.count >= batchSize { flush() }
        }
        if !batch.isEmpty { flush() }
        if timing {
            Self.reportTiming(load: loadTime, lines: lines, tokens: tokens, busy: busy, batchTimes: batchTimes,
                              extra: "kernel=\(embedder.encoder.kernel) threads=\(embedder.threads)")
        }
    }

    /// The `--timing` line on stderr: one line, key=value, for scripts (infra/bench/embed.sh, e5.sh).
    static func reportTiming(load: Duration, lines: Int, tokens: Int, busy: Duration, batchTimes: [Duration], extra: String) {
        func ms(_ d: Duration) -> Double { d.milliseconds }
        let sorted = batchTimes.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : ms(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
        let s = ms(busy) / 1e3
        let report = String(
            format: "embed: load_ms=%.1f texts=%d tokens=%d seconds=%.3f texts_per_s=%.1f tokens_per_s=%.0f batch_p50_ms=%.2f batch_p99_ms=%.2f",
            ms(load), lines, tokens, s, Double(lines) / max(s, 1e-9), Double(tokens) / max(s, 1e-9),
            percentile(0.5), percentile(0.99)) + " peak_rss_mb=\(peakResidentMB()) \(extra)\n"
        FileHandle.standardError.write(Data(report.utf8))
    }

    static func text(of line: String) -> Result<String, EmbeddingError> {
        guard let value = try? JSONValue.parse(Array(line.utf8)) else {
            return .failure(.invalidInput("the line is not JSON"))
        }
        guard let text = value["text"]?.stringValue else {
            return .failure(.invalidInput("the line has no \"text\" string"))
        }
        return .success(text)
    }
}

