import Foundation
import IntentRouting
import Testing

@Suite struct EvaluationTests {
    /// Seven hand-made outcomes; every figure below is worked out by hand in the comments.
    static let outcomes = [
        EvaluationOutcome(text: "1", label: "a", ranking: ["a", "b", "c"], strategy: .execute),          // rank 1
        EvaluationOutcome(text: "2", label: "a", ranking: ["b", "a", "c"], strategy: .confirm),          // rank 2, a -> b
        EvaluationOutcome(text: "3", label: "b", ranking: ["c", "a", "b"], strategy: .clarify),          // rank 3, b -> oos
        EvaluationOutcome(text: "4", label: "c", ranking: ["a", "b", "d", "c"], strategy: .confirm),     // rank 4, c -> a
        EvaluationOutcome(text: "5", label: "oos", ranking: ["a", "b"], strategy: .clarify),             // right
        EvaluationOutcome(text: "6", label: "oos", ranking: ["b", "a"], strategy: .confirm),             // oos -> b
        EvaluationOutcome(text: "7", label: "b", ranking: ["b", "a", "c"], strategy: .disambiguate),     // rank 1
    ]

    @Test func metricsMatchHandComputedValues() {
        let r = EvaluationReport(outcomes: Self.outcomes)
        #expect(r.lines == 7 && r.inScope == 5 && r.outOfScope == 2)
        #expect(abs(r.top1 - 2.0 / 5) < 1e-12)                                  // lines 1, 7
        #expect(abs(r.top3 - 4.0 / 5) < 1e-12)                                  // lines 1, 2, 3, 7
        #expect(abs(r.mrr - (1 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4 + 1) / 5) < 1e-12)
        #expect(abs(r.accuracy - 3.0 / 7) < 1e-12)                              // lines 1, 5, 7
        #expect(r.oosPrecision == 0.5)                                          // clarify on 3 (wrong) and 5 (right)
        #expect(r.oosRecall == 0.5)                                             // oos lines 5 (caught) and 6 (missed)
        #expect(r.strategies == ["execute": 1, "confirm": 3, "clarify": 2, "disambiguate": 1])
        #expect(r.perAction == [
            ActionAccuracy(actionId: "a", support: 2, top1: 1, accuracy: 0.5),
            ActionAccuracy(actionId: "b", support: 2, top1: 1, accuracy: 0.5),
            ActionAccuracy(actionId: "c", support: 1, top1: 0, accuracy: 0),
        ])
        #expect(r.confusions == [
            ConfusionPair(expected: "a", predicted: "b", count: 1),
            ConfusionPair(expected: "b", predicted: "oos", count: 1),
            ConfusionPair(expected: "c", predicted: "a", count: 1),
            ConfusionPair(expected: "oos", predicted: "b", count: 1),
        ])
    }

    @Test func confusionPairsAreCountedAndSortedByFrequency() {
        let o = [
            EvaluationOutcome(text: "", label: "x", ranking: ["y"], strategy: .confirm),
            EvaluationOutcome(text: "", label: "x", ranking: ["y"], strategy: .execute),
            EvaluationOutcome(text: "", label: "z", ranking: ["y"], strategy: .execute),
        ]
        #expect(EvaluationReport(outcomes: o).confusions.first == ConfusionPair(expected: "x", predicted: "y", count: 2))
    }

    @Test func undefinedOutOfScopeFiguresAreNil() {
        let r = EvaluationReport(outcomes: [EvaluationOutcome(text: "", label: "a", ranking: ["a"], strategy: .execute)])
        #expect(r.oosPrecision == nil && r.oosRecall == nil)
        #expect(r.top1 == 1 && r.mrr == 1 && r.accuracy == 1)
    }

    @Test func devsetLabelsMustBeCatalogActions() throws {
        let catalog = ActionCatalog(domains: ["d"], actions: [ActionDefinition(id: "a", domain: "d", intentType: "create", seeds: ["x"])])
        try Evaluation.checkLabels([LabelledText(text: "t", label: "a"), LabelledText(text: "u", label: "oos")], catalog: catalog, devset: "dev")
        #expect(throws: ConfigurationError.unknownAction(file: "dev", action: "b", field: "label")) {
            try Evaluation.checkLabels([LabelledText(text: "t", label: "b")], catalog: catalog, devset: "dev")
        }
    }

    /// A seeds-only catalog (the `--seeds` path) evaluated end to end with the real model.
    @Test func seedsOnlyCatalogEvaluates() async throws {
        let seeds = [
            LabelledText(text: "book a flight to Hanoi", label: "travel"),
            LabelledText(text: "I need a plane ticket", label: "travel"),
            LabelledText(text: "what is my account balance", label: "balance"),
            LabelledText(text: "how much money do I have", label: "balance"),
        ]
        let router = try await Router.build(try RouterConfiguration.fromSeeds(seeds), provider: try Model.embedder()).router
        let report = try await Evaluation.run(router: router, examples: [
            LabelledText(text: "get me a flight to Da Nang", label: "travel"),
            LabelledText(text: "show the balance of my account", label: "balance"),
        ])
        #expect(report.top1 == 1)
        #expect(report.mrr == 1)
    }
}
