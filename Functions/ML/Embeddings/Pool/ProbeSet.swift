import Foundation
import JSON

/// The fixed texts every provider of a model embeds before it may serve (issue: several
/// providers of one model): English and Vietnamese, with and without accents, both roles, so a
/// server running another model, another size, another prefix convention or a broken tokenizer
/// disagrees with the reference somewhere.
package enum ProbeSet {
    package static let queries = [
        "how do I reset my password?",
        "chính sách hoàn tiền cho đơn hàng bị hủy",
    ]
    package static let passages = [
        "Refunds are issued to the original payment method within five business days of approval.",
        "Khách hàng có thể đổi trả sản phẩm trong vòng 30 ngày kể từ ngày nhận hàng.",
        "khach hang co the doi tra san pham trong vong 30 ngay",
        "The API returns HTTP 429 when the rate limit is exceeded; retry after the delay it states.",
        "Hà Nội, Đà Nẵng và Thành phố Hồ Chí Minh",
        "GPU memory 24 GB, batch size 64, sequence length 512",
    ]

    /// Cosine every probe's vector must reach against the reference's.
    package static let minimumCosine: Float = 0.999

    /// Why `candidate` disagrees with `reference` (vectors in probe order), or nil when it agrees.
    package static func disagreement(reference: [[Float]], candidate: [[Float]]) -> String? {
        guard candidate.count == reference.count else {
            return "answered \(candidate.count) vectors for \(reference.count) probe texts"
        }
        for (i, (r, c)) in zip(reference, candidate).enumerated() {
            guard r.count == c.count else {
                return "its vectors have \(c.count) dimensions, the model's have \(r.count)"
            }
            let cosine = Self.cosine(r, c)
            if !(cosine >= minimumCosine) {
                let text = i < queries.count ? queries[i] : passages[i - queries.count]
                return "cosine \(String(format: "%.4f", cosine)) < \(minimumCosine) against the reference on probe \(i + 1) (\"\(text.prefix(40))\")"
            }
        }
        return nil
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        let d = (na * nb).squareRoot()
        return d > 0 ? dot / d : 0
    }
}

/// A model's own vectors for `ProbeSet` (queries, then passages), shipped for the native models
/// under config/embedding/probes/ and written for any model by `embed --probe-reference FILE`
/// with a provider you trust. With one, every provider of the model (the first included) is
/// checked against it, and `health` can check HTTP providers without loading the model.
package struct ProbeReference: Sendable, Equatable {
    package var model: String
    package var vectors: [[Float]]

    package init(model: String, vectors: [[Float]]) {
        self.model = model
        self.vectors = vectors
    }

    /// The file name for `model`: its id with `/` and `@` made safe.
    package static func fileName(model: String) -> String {
        model.replacingOccurrences(of: "/", with: "__").replacingOccurrences(of: "@", with: "_at_") + ".json"
    }

    package func json() -> String {
        let rows = vectors.map { v in "    [" + v.map { String(format: "%.7g", $0) }.joined(separator: ",") + "]" }
        return "{\n  \"model\": \"\(model)\",\n  \"dimension\": \(vectors.first?.count ?? 0),\n  \"texts\": \(ProbeSet.queries.count + ProbeSet.passages.count),\n"
            + "  \"vectors\": [\n" + rows.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// Reads a file written by `json()`; nil when it is absent.
    package static func load(path: String) throws(EmbeddingError) -> ProbeReference? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let root = try? JSONValue.parse(Array(data)), let model = root["model"]?.stringValue,
              let rows = root["vectors"]?.arrayValue else {
            throw .configuration("\(path) is not a probe reference (model and vectors)")
        }
        let vectors = rows.map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        guard vectors.count == ProbeSet.queries.count + ProbeSet.passages.count, let d = vectors.first?.count, d > 0,
              vectors.allSatisfy({ $0.count == d }) else {
            throw .configuration("\(path) holds \(vectors.count) vectors; the probe set has \(ProbeSet.queries.count + ProbeSet.passages.count) texts "
                                 + "(write it again with embed --probe-reference)")
        }
        return ProbeReference(model: model, vectors: vectors)
    }

    /// Embeds the probe set with `provider`, queries then passages.
    package static func make(with provider: any EmbeddingProvider) async throws -> ProbeReference {
        var vectors: [[Float]] = []
        for q in ProbeSet.queries { vectors += try await provider.embed([q], role: .query).map(\.vector) }
        vectors += try await provider.embed(ProbeSet.passages, role: .passage).map(\.vector)
        return ProbeReference(model: provider.modelId, vectors: vectors)
    }
}
