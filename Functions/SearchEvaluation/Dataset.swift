import Foundation

/// A retrieval test collection in BEIR's layout: `corpus.jsonl` (`{_id, title, text}`),
/// `queries.jsonl` (`{_id, text}`), and graded judgments `qrels/<split>.tsv`
/// (`query-id <tab> corpus-id <tab> score`, a header line first).
public struct EvaluationDataset: Sendable {
    public struct Document: Sendable, Equatable {
        public var id: String
        public var title: String
        public var text: String
    }

    public var corpus: [Document]
    /// Query id -> text, in file order.
    public var queries: [(id: String, text: String)]
    /// Query id -> corpus id -> grade.
    public var qrels: [String: [String: Int]]

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// BEIR's folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
    public static func load(folder: String, split: String = "test") throws -> EvaluationDataset {
        try load(corpus: folder + "/corpus.jsonl", queries: folder + "/queries.jsonl", qrels: folder + "/qrels/\(split).tsv")
    }

    /// Only the queries that have judgments are kept (BEIR evaluates those); judgments naming a
    /// document or query that does not exist are an error, since they would silently lower
    /// every figure.
    public static func load(corpus: String, queries: String, qrels: String) throws -> EvaluationDataset {
        let docs = try jsonLines(corpus).map { line, o in
            guard let id = Self.id(o["_id"]) else { throw LoadError(description: "\(corpus):\(line): `_id` is missing") }
            return Document(id: id, title: o["title"] as? String ?? "", text: o["text"] as? String ?? "")
        }
        let qs = try jsonLines(queries).map { line, o in
            guard let id = Self.id(o["_id"]), let text = o["text"] as? String else {
                throw LoadError(description: "\(queries):\(line): `_id` and `text` are required")
            }
            return (id: id, text: text)
        }
        let judgments = try parseQrels(try read(qrels), path: qrels)
        let docIds = Set(docs.map(\.id))
        guard docIds.count == docs.count else { throw LoadError(description: "\(corpus): duplicate `_id`s") }
        let queryIds = Set(qs.map(\.id))
        for (q, j) in judgments {
            guard queryIds.contains(q) else { throw LoadError(description: "\(qrels): query `\(q)` is not in \(queries)") }
            if let d = j.keys.first(where: { !docIds.contains($0) }) {
                throw LoadError(description: "\(qrels): document `\(d)` (query `\(q)`) is not in \(corpus)")
            }
        }
        return EvaluationDataset(corpus: docs, queries: qs.filter { judgments[$0.id] != nil }, qrels: judgments)
    }

    /// Tab- (or space-) separated `query-id corpus-id score`; a first line that is not a
    /// judgment (BEIR's header) is skipped; TREC's four-column form (`qid 0 docid score`) too.
    public static func parseQrels(_ text: String, path: String = "qrels") throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = raw.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
            if fields.isEmpty { continue }
            guard (3...4).contains(fields.count), let grade = Int(fields[fields.count - 1]) else {
                if i == 0 { continue }  // the header
                throw LoadError(description: "\(path):\(i + 1): expected `query-id corpus-id score`, got `\(raw)`")
            }
            out[fields[0], default: [:]][fields[fields.count - 2]] = grade
        }
        return out
    }

    static func id(_ v: Any?) -> String? {
        if let s = v as? String, !s.isEmpty { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError(description: "\(path): cannot read") }
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonLines(_ path: String) throws -> [(Int, [String: Any])] {
        try read(path).split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { i, line in
            if line.allSatisfy(\.isWhitespace) { return nil }
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw LoadError(description: "\(path):\(i + 1): not a JSON object")
            }
            return (i + 1, o)
        }
    }
}
