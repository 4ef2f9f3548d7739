import ArgumentParser
import Embeddings
import Foundation
import LambdaEvents

/// `embed`: JSON lines in (`{"text": ...}`), JSON lines out, one per input line and in order:
/// `{"input_ids": [...], "embedding": [...], "tokens": n, "truncated": bool}`, or
/// `{"error": "..."}` for a line that is not such an object. For checking the native model
/// against a reference, feeding a benchmark, or embedding files from a shell.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embeds JSON lines {\"text\": ...} from stdin with all-MiniLM-L6-v2; one JSON line out per line in.")

    @Option(help: "The model folder (default: $EMBEDDING_MODEL_DIR, else .models/all-MiniLM-L6-v2).")
    var modelDir: String?

    @Option(help: "Lines embedded together.")
    var batchSize = 32

    @Option(help: "Worker threads (default: one per core).")
    var threads: Int?

    @Flag(help: "Print load time and throughput to stderr.")
    var timing = false

    @Flag(help: "Leave input_ids out of the output.")
    var noIds = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let embedder: MiniLMEmbedder
        do {
            embedder = try MiniLMEmbedder(modelDirectory: EmbeddingModelDirectory.resolve(modelDir), threads: threads)
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
            func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15 }
            let sorted = batchTimes.sorted()
            func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : ms(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) }
            let s = ms(busy) / 1e3
            // One line, key=value, for scripts (infra/bench/embed.sh).
            let report = String(
                format: "embed: load_ms=%.1f texts=%d tokens=%d seconds=%.3f texts_per_s=%.1f tokens_per_s=%.0f batch_p50_ms=%.2f batch_p99_ms=%.2f",
                ms(loadTime), lines, tokens, s, Double(lines) / max(s, 1e-9), Double(tokens) / max(s, 1e-9),
                percentile(0.5), percentile(0.99)) + " blas=\(embedder.blasCore) threads=\(embedder.threads)\n"
            FileHandle.standardError.write(Data(report.utf8))
        }
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

EmbedCommand.main()
