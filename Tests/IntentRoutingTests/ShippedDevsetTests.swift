import Foundation
import IntentRouting
import Testing

/// The shipped devset through the shipped catalog with the real model. Measured when the
/// defaults were chosen (config/routing/README.md): router top-1 0.950, end-to-end accuracy
/// 0.929, against the nearest-seed baseline's 0.744 and 0.681. The floors leave room for model
/// and platform noise, not for regressions.
@Suite struct ShippedDevsetTests {
    static let top1Floor = 0.90
    static let accuracyFloor = 0.88
    static let baselineThreshold = 0.3

    @Test func routerClearsItsFloorsAndBeatsTheNearestSeedBaseline() async throws {
        let router = try await Shipped.router.value
        let examples = try LabelledText.load(path: Shipped.devset)
        #expect(examples.count >= 150)
        #expect(examples.filter { $0.label == LabelledText.outOfScope }.count >= 20)
        try Evaluation.checkLabels(examples, catalog: router.catalog, devset: Shipped.devset)

        let devset = try await Evaluation.embed(examples, provider: router.provider)
        let ours = EvaluationReport(outcomes: Evaluation.outcomes(router: router, devset: devset))
        let baseline = EvaluationReport(outcomes: Evaluation.outcomes(
            baseline: NearestSeedBaseline(router: router, threshold: Self.baselineThreshold), devset: devset))

        #expect(ours.top1 >= Self.top1Floor, "router top-1 \(ours.top1)")
        #expect(ours.accuracy >= Self.accuracyFloor, "router accuracy \(ours.accuracy)")
        #expect(ours.top3 >= ours.top1 && ours.mrr >= ours.top1)
        #expect((ours.oosRecall ?? 0) >= 0.8, "OOS recall \(String(describing: ours.oosRecall))")
        #expect(ours.top1 > baseline.top1 + 0.1, "router \(ours.top1) vs baseline \(baseline.top1)")
        #expect(ours.accuracy > baseline.accuracy + 0.1, "router \(ours.accuracy) vs baseline \(baseline.accuracy)")
    }

    @Test func devsetLinesAreNotCopiesOfSeeds() throws {
        let catalog = try RouterConfiguration.load(Shipped.paths).catalog
        let seeds = Set(catalog.actions.flatMap(\.seeds).map { NormalizedText($0).folded })
        let copies = try LabelledText.load(path: Shipped.devset).filter { seeds.contains(NormalizedText($0.text).folded) }
        #expect(copies.isEmpty, "\(copies.map(\.text))")
    }
}
