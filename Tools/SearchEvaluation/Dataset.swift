import Foundation

/// A retrieval test collection in BEIR's layout: `corpus.jsonl` (`{_id, title, text}`),
/// `queries.jsonl` (`{_id, text}`), and graded judgments `qrels/<split>.tsv`
/// (`query-id <tab> corpus-id <tab> score`, a header line first).
package struct EvaluationDataset: Sendable {
    package struct Document: Sendable, Equatable {
        package var id: String
        package var title: String
        package var text: String
    }

    package var corpus: [Document]
    /// Query id -> text, in file order.
    package var queries: [(id: String, text: String)]
    /// Query id -> corpus id -> grade.
    package var qrels: [String: [String: Int]]

    package struct LoadError: Error, CustomStringConvertible {
        package let description: String
    }

    /// BEIR's folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
    package static func load(folder: String, split: String = "test") throws -> EvaluationDataset {
        try load(corpus: folder + "/corpus.jsonl", queries: folder + "/queries.jsonl", qrels: folder + "/qrels/\(split).tsv")
    }

    /// Judgments the loader set aside, counted, so a run says what it is not scoring.
    package var skipped = Skipped()

    package struct Skipped: Sendable, Equatable {
        /// qrels lines whose query id is not in the queries file.
        package var unknownQueryLines = 0
        package var unknownQueryIds: [String] = []
        /// qrels lines whose corpus id is not in the corpus.
        package var unknownDocumentLines = 0
        package var unknownDocumentIds: [String] = []

        package var isEmpty: Bool { unknownQueryLines == 0 && unknownDocumentLines == 0 }

        /// One line per kind, with a few example ids.
        package var report: [String] {
            func sample(_ ids: [String]) -> String { ids.prefix(3).map { "`\($0)`" }.joined(separator: ", ") + (ids.count > 3 ? ", ..." : "") }
            var out: [String] = []
            if unknownQueryLines > 0 {
                out.append("\(unknownQueryLines) qrels lines name \(unknownQueryIds.count) query ids not in the queries file (\(sample(unknownQueryIds))); skipped")
            }
            if unknownDocumentLines > 0 {
                out.append("\(unknownDocumentLines) qrels lines name \(unknownDocumentIds.count) corpus ids not in the corpus (\(sample(unknownDocumentIds))); skipped")
            }
            return out
        }
    }

    /// Only the queries that have judgments are kept (BEIR evaluates those). Judgments naming a
    /// document or query that is not in the files are left out and counted in `skipped` (a
    /// subset of a published corpus is a normal thing to evaluate on); when no judged query is
    /// left, loading fails, since every figure would be 0 (a qrels file for another collection,
    /// or one read wrongly).
    package static func load(corpus: String, queries: String, qrels: String) throws -> EvaluationDataset {
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
        let all = try parseQrels(try read(qrels), path: qrels)
        let docIds = Set(docs.map(\.id))
        guard docIds.count == docs.count else { throw LoadError(description: "\(corpus): duplicate `_id`s") }
        let queryIds = Set(qs.map(\.id))
        var skipped = Skipped()
        var judgments: [String: [String: Int]] = [:]
        for q in all.keys.sorted() {
            let j = all[q]!
            guard queryIds.contains(q) else {
                skipped.unknownQueryLines += j.count
                skipped.unknownQueryIds.append(q)
                continue
            }
            for d in j.keys.sorted() {
                if docIds.contains(d) {
                    judgments[q, default: [:]][d] = j[d]
                } else {
                    skipped.unknownDocumentLines += 1
                    if !skipped.unknownDocumentIds.contains(d) { skipped.unknownDocumentIds.append(d) }
                }
            }
        }
        guard !judgments.isEmpty else {
            let why = all.isEmpty ? "it holds no judgments" : skipped.report.joined(separator: "; ")
            throw LoadError(description: "\(qrels): no judged query is left to score: \(why)")
        }
        var data = EvaluationDataset(corpus: docs, queries: qs.filter { judgments[$0.id] != nil }, qrels: judgments)
        data.skipped = skipped
        return data
    }

    /// Tab- (or space-) separated `query-id corpus-id score`; a first line that is not a
    /// judgment (BEIR's header) is skipped; TREC's four-column form (`qid 0 docid score`) too.
    package static func parseQrels(_ text: String, path: String = "qrels") throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (i, raw) in lines(text).enumerated() {
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

    /// Lines ending in LF, CRLF or CR. BEIR's qrels files end theirs in CRLF, which Swift reads as
    /// one `Character` (`"\r\n"`), so splitting on `"\n"` alone never matched and a whole file
    /// was one line. Only these three: a JSON string may hold U+2028 unescaped.
    package static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
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
        try lines(try read(path)).enumerated().compactMap { i, line in
            if line.allSatisfy(\.isWhitespace) { return nil }
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw LoadError(description: "\(path):\(i + 1): not a JSON object")
            }
            return (i + 1, o)
        }
    }
}
