import Foundation
import Testing
@testable import IntentRouting

/// The seed classifier: LDA with a shrunk covariance over the seed vectors.
@Suite struct SeedClassifierTests {
    static func unit(_ v: [Float]) -> [Float] {
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }

    /// Two actions whose seeds spread widely along a direction that does not separate them (the
    /// phrasing), and tightly along the one that does (the meaning). A request with action B's
    /// meaning, phrased like one of A's seeds, is nearest to that seed; the classifier, which
    /// learned that the phrasing direction is noise, says B.
    @Test func theDirectionThatSeparatesActionsWinsOverTheNearestSeed() throws {
        var rows: [[Float]] = []
        for p in [-1.0, -0.5, 0, 0.5, 1.0] as [Float] { rows.append(Self.unit([1, 0.1, p, 0.2])) }   // action A
        for p in [-0.3, -0.1, 0, 0.1, 0.3] as [Float] { rows.append(Self.unit([1, -0.1, p, 0.2])) }  // action B
        let clf = try #require(SeedClassifier(vectors: rows.flatMap { $0 }, dimension: 4, actionRows: [0..<5, 5..<10], shrinkage: 0.05))
        let query = Self.unit([1, -0.08, 0.9, 0.2])
        let nearest = rows.indices.max { a, b in
            zip(rows[a], query).reduce(0) { $0 + $1.0 * $1.1 } < zip(rows[b], query).reduce(0) { $0 + $1.0 * $1.1 }
        }!
        #expect(nearest < 5, "the nearest seed is A's")
        let p = clf.posteriors(query)
        #expect(p[1] > 0.7, "B wins: \(p)")
        #expect(abs(p.reduce(0, +) - 1) < 1e-9)
    }

    @Test func fullShrinkageIsTheNearestMeanAndDegenerateCatalogsHaveNone() throws {
        let rows: [[Float]] = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]].map(Self.unit)
        let clf = try #require(SeedClassifier(vectors: rows.flatMap { $0 }, dimension: 2, actionRows: [0..<2, 2..<4], shrinkage: 1))
        #expect(clf.posteriors(Self.unit([0.6, 0.4]))[0] > 0.5 && clf.posteriors(Self.unit([0.4, 0.6]))[1] > 0.5)
        // One action: nothing to tell apart.
        #expect(SeedClassifier(vectors: rows.flatMap { $0 }, dimension: 2, actionRows: [0..<4], shrinkage: 0.5) == nil)
        // A query of the wrong size gets no opinion (uniform), not a crash.
        #expect(clf.posteriors([1, 0, 0]) == [0.5, 0.5])
    }
}
