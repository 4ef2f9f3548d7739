import Embeddings
import Foundation
import Ingestion
import TestSupport

/// The real all-MiniLM-L6-v2 tokenizer (the model folder `scripts/model.sh` fills).
enum Tokenizer {
    static let bert: BertTokenizer = {
        var dir = EmbeddingModelDirectory.resolve(model: EmbeddingModelRegistry.miniLM.id)
        if !dir.hasPrefix("/") { dir = (TestPaths.packageRoot as NSString).appendingPathComponent(dir) }
        let path = (dir as NSString).appendingPathComponent("vocab.txt")
        guard let data = FileManager.default.contents(atPath: path), let tokenizer = try? BertTokenizer(vocabTxt: [UInt8](data)) else {
            fatalError("IngestionTests need the MiniLM vocabulary at \(path): run scripts/model.sh")
        }
        return tokenizer
    }()

    /// Tokens of a text without [CLS]/[SEP], as the worker will count them.
    static let counter = TokenCounter { bert.encode(String($0)).untruncatedCount - 2 }

    static func count(_ text: some StringProtocol) -> Int { bert.encode(String(text)).untruncatedCount - 2 }
}


extension String {
    /// Unicode scalars `start..<end` by plain array indexing: an independent check of offsets.
    func scalars(_ start: Int, _ end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: Array(unicodeScalars)[start..<end])
        return String(view)
    }

    /// Exact equality of scalars (Swift's `==` treats NFC and NFD as equal).
    func sameScalars(_ other: some StringProtocol) -> Bool { unicodeScalars.elementsEqual(other.unicodeScalars) }
}
