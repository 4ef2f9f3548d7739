import Retrieval
import Testing

/// The agreement figures the readiness report averages.
@Suite struct ShadowMetricsTests {
    @Test func overlapIsTheShareOfTheLiveTopTenTheCandidateAlsoHolds() {
        let live = (0..<12).map { "c\($0)" }
        #expect(ShadowMigration.overlap(live, live, at: 10) == 1)
        #expect(ShadowMigration.overlap(live, Array(live.reversed()), at: 10) == 0.8)  // c2...c11 reversed: c2-c9 shared
        #expect(ShadowMigration.overlap(live, ["x", "y"], at: 10) == 0)
        #expect(ShadowMigration.overlap([], [], at: 10) == 1)
        #expect(ShadowMigration.overlap(["a", "b"], ["b"], at: 10) == 0.5)
    }

    @Test func rankCorrelationIsSpearmansOverTheSharedItems() {
        #expect(ShadowMigration.spearman(["a", "b", "c", "d"], ["a", "b", "c", "d"]) == 1)
        #expect(ShadowMigration.spearman(["a", "b", "c", "d"], ["d", "c", "b", "a"]) == -1)
        // Only order among shared items counts; x and y are ignored.
        #expect(ShadowMigration.spearman(["a", "x", "b", "c"], ["a", "b", "y", "c"]) == 1)
        #expect(ShadowMigration.spearman(["a", "b"], ["a", "z"]) == nil)
        let r = ShadowMigration.spearman(["a", "b", "c"], ["b", "a", "c"])!
        #expect(abs(r - 0.5) < 1e-12)
    }
}
