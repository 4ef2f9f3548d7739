import Foundation
import SearchEvaluation
import TestSupport
import Testing

/// The harness's arithmetic against values worked out by hand on a tiny set.
@Suite struct EvaluationMetricsTests {
    // Ranking d1 d2 d3 d4; judged d2 = 2, d4 = 1, d5 = 1 (never retrieved), d1 = 0.
    let ranking = ["d1", "d2", "d3", "d4"]
    let judged = ["d1": 0, "d2": 2, "d4": 1, "d5": 1]

    @Test func ndcgUsesLinearGradedGainsAndTheIdealOrder() {
        // DCG@10 = 2/log2(3) + 1/log2(5) = 1.2618595 + 0.4306766; IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 3.1309298.
        #expect(abs(RankingMetrics.ndcg(ranking: ranking, judgments: judged, k: 10) - 1.6925361 / 3.1309298) < 1e-6)
        // @2: DCG = 2/log2(3); IDCG = 2 + 1/log2(3).
        #expect(abs(RankingMetrics.ndcg(ranking: ranking, judgments: judged, k: 2) - 1.2618595 / 2.6309298) < 1e-6)
        #expect(RankingMetrics.ndcg(ranking: ["d2", "d4", "d5"], judgments: judged, k: 10) == 1)
        #expect(RankingMetrics.ndcg(ranking: ["d1", "d3"], judgments: judged, k: 10) == 0)
        // A document twice in a ranking counts once.
        #expect(RankingMetrics.ndcg(ranking: ["d2", "d2"], judgments: ["d2": 2], k: 10) == 1)
    }

    @Test func recallAndReciprocalRank() {
        #expect(abs(RankingMetrics.recall(ranking: ranking, judgments: judged, k: 10) - 2.0 / 3) < 1e-12)
        #expect(abs(RankingMetrics.recall(ranking: ranking, judgments: judged, k: 2) - 1.0 / 3) < 1e-12)
        #expect(RankingMetrics.reciprocalRank(ranking: ranking, judgments: judged, k: 10) == 0.5)
        #expect(RankingMetrics.reciprocalRank(ranking: ranking, judgments: judged, k: 1) == 0)
        #expect(RankingMetrics.recall(ranking: ranking, judgments: ["d1": 0], k: 10) == 0)
    }

    @Test func summaryAveragesOverJudgedQueriesOnly() {
        let qrels = ["q1": judged, "q2": ["x": 1], "q3": ["d1": 0]]  // q3 has nothing relevant: left out
        let s = MetricSummary.evaluate(rankings: ["q1": ranking, "q3": ["d1"]], qrels: qrels)  // q2 got no ranking: scores 0
        #expect(s.queries == 2)
        #expect(abs(s.ndcg10 - (1.6925361 / 3.1309298) / 2) < 1e-6)
        #expect(abs(s.recall10 - (2.0 / 3) / 2) < 1e-12)
        #expect(abs(s.recall100 - (2.0 / 3) / 2) < 1e-12)
        #expect(s.mrr10 == 0.25)
    }

    @Test func beirFilesLoadAndBadOnesAreRefused() throws {
        let dir = TestPaths.temporaryDirectory("beir")
        try FileManager.default.createDirectory(atPath: dir + "/qrels", withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        try write("corpus.jsonl", #"{"_id": "d1", "title": "Leave", "text": "Twelve days."}"# + "\n\n" + #"{"_id": 7, "text": "No title."}"# + "\n")
        try write("queries.jsonl", #"{"_id": "q1", "text": "leave days"}"# + "\n" + #"{"_id": "q2", "text": "unjudged"}"# + "\n")
        try write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\t7\t0\n")
        let d = try EvaluationDataset.load(folder: dir)
        #expect(d.corpus.map(\.id) == ["d1", "7"] && d.corpus[1].title.isEmpty)
        #expect(d.queries.map(\.id) == ["q1"])  // only judged queries are run
        #expect(d.qrels == ["q1": ["d1": 2, "7": 0]])
        #expect(try EvaluationDataset.parseQrels("q1 0 d1 1\n") == ["q1": ["d1": 1]])  // TREC's four columns

        try write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\tmissing\t1\n")
        #expect(throws: EvaluationDataset.LoadError.self) { try EvaluationDataset.load(folder: dir) }
        try write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\tvery\n")
        #expect(throws: EvaluationDataset.LoadError.self) { try EvaluationDataset.load(folder: dir) }
        try write("qrels/test.tsv", "q1\td1\t1\n")
        try write("corpus.jsonl", "not json\n")
        #expect(throws: EvaluationDataset.LoadError.self) { try EvaluationDataset.load(folder: dir) }
    }

    /// BEIR publishes its qrels with CRLF line endings (read as one line before: every metric 0).
    @Test(arguments: ["\r\n", "\r", "\n"]) func anyLineEndingReadsTheSame(_ eol: String) throws {
        let dir = TestPaths.temporaryDirectory("beir-eol")
        try FileManager.default.createDirectory(atPath: dir + "/qrels", withIntermediateDirectories: true)
        func write(_ name: String, _ lines: [String]) throws {
            try (lines.joined(separator: eol) + eol).write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("corpus.jsonl", [#"{"_id": "d1", "text": "Twelve days."}"#, #"{"_id": "d2", "text": "A VPN."}"#])
        try write("queries.jsonl", [#"{"_id": "q1", "text": "leave days"}"#, #"{"_id": "q2", "text": "vpn"}"#])
        try write("qrels/test.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q2\td2\t1"])
        let d = try EvaluationDataset.load(folder: dir)
        #expect(d.corpus.map(\.id) == ["d1", "d2"] && d.queries.map(\.id) == ["q1", "q2"])
        #expect(d.qrels == ["q1": ["d1": 2], "q2": ["d2": 1]] && d.skipped.isEmpty)
        let summary = MetricSummary.evaluate(rankings: ["q1": ["d1"], "q2": ["d2"]], qrels: d.qrels)
        #expect(summary.ndcg10 == 1)
    }

    /// Judgments for ids the files lack are set aside and counted; none left is an error.
    @Test func unknownIdsAreCountedAndNoneLeftIsRefused() throws {
        let dir = TestPaths.temporaryDirectory("beir-unknown")
        try FileManager.default.createDirectory(atPath: dir + "/qrels", withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        try write("corpus.jsonl", #"{"_id": "d1", "text": "Twelve days."}"# + "\n")
        try write("queries.jsonl", #"{"_id": "q1", "text": "leave"}"# + "\n")
        try write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td9\t1\nq1\td8\t1\nq7\td1\t1\n")
        let d = try EvaluationDataset.load(folder: dir)
        #expect(d.qrels == ["q1": ["d1": 1]])
        #expect(d.skipped.unknownDocumentLines == 2 && d.skipped.unknownDocumentIds.sorted() == ["d8", "d9"])
        #expect(d.skipped.unknownQueryLines == 1 && d.skipped.unknownQueryIds == ["q7"])
        #expect(d.skipped.report.count == 2)
        try write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq5\td5\t1\r\n")
        do {
            _ = try EvaluationDataset.load(folder: dir)
            Issue.record("a qrels file matching nothing was accepted")
        } catch {
            #expect("\(error)".contains("no judged query"))
        }
    }

    /// The shipped set is consistent (every judgment names a document and a query that exist).
    @Test func theShippedSetLoads() throws {
        let d = try EvaluationDataset.load(folder: TestPaths.packageRoot + "/config/search-eval")
        #expect(d.corpus.count >= 30 && d.queries.count >= 40)
        #expect(d.corpus.contains { $0.id.hasPrefix("vi-") } && d.queries.contains { $0.text == "xin nghi phep nam" })
    }
}
