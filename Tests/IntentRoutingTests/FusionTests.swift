import Testing
import IntentRouting

@Suite struct FusionTests {
    let settings = FusionSettings(
        weights: FusionWeights(rule: 0.4, embedding: 0.4, lexical: 0.2),
        domainWeights: ["leave": FusionWeightOverride(rule: 0.7, embedding: 0.3, lexical: 0)],
        intentTypeWeights: ["cancel": FusionWeightOverride(rule: 0.8)],
        patternBonus: 0.15, negativePenalty: 0.3)

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-9 }

    @Test func defaultWeightsAreNormalised() {
        let w = ScoreFusion(settings: settings).weights(domain: "it", intentType: "create", hasRule: true)
        #expect(close(w.rule, 0.4) && close(w.embedding, 0.4) && close(w.lexical, 0.2))
        let f = ScoreFusion(settings: settings)
        #expect(close(f.fuse(rule: 1, embedding: 0.5, lexical: 0, weights: w, patternFired: false, negativeStrength: 0), 0.6))
    }

    @Test func domainOverrideReplacesDefaults() {
        let w = ScoreFusion(settings: settings).weights(domain: "leave", intentType: "create", hasRule: true)
        #expect(close(w.rule, 0.7) && close(w.embedding, 0.3) && close(w.lexical, 0))
    }

    @Test func intentOverrideWinsOverDomainFieldByField() {
        // leave: {0.7, 0.3, 0}; cancel sets rule 0.8 only -> {0.8, 0.3, 0} / 1.1
        let w = ScoreFusion(settings: settings).weights(domain: "leave", intentType: "cancel", hasRule: true)
        #expect(close(w.rule, 0.8 / 1.1) && close(w.embedding, 0.3 / 1.1) && close(w.lexical, 0))
        // Without a domain override: {0.8, 0.4, 0.2} / 1.4
        let v = ScoreFusion(settings: settings).weights(domain: "it", intentType: "cancel", hasRule: true)
        #expect(close(v.rule, 0.8 / 1.4) && close(v.embedding, 0.4 / 1.4) && close(v.lexical, 0.2 / 1.4))
    }

    @Test func actionWithoutRuleIsScoredByTheOtherTwo() {
        let w = ScoreFusion(settings: settings).weights(domain: "it", intentType: "create", hasRule: false)
        #expect(close(w.rule, 0) && close(w.embedding, 0.4 / 0.6) && close(w.lexical, 0.2 / 0.6))
    }

    @Test func patternBonusIsAdded() {
        let f = ScoreFusion(settings: settings)
        let w = f.weights(domain: "it", intentType: "create", hasRule: true)
        let plain = f.fuse(rule: 0.5, embedding: 0.5, lexical: 0.5, weights: w, patternFired: false, negativeStrength: 0)
        let bonus = f.fuse(rule: 0.5, embedding: 0.5, lexical: 0.5, weights: w, patternFired: true, negativeStrength: 0)
        #expect(close(plain, 0.5) && close(bonus, 0.65))
    }

    @Test func negativePenaltyScalesWithTheNegativeWeight() {
        let f = ScoreFusion(settings: settings)
        let w = f.weights(domain: "it", intentType: "create", hasRule: true)
        #expect(close(f.fuse(rule: 0, embedding: 1, lexical: 1, weights: w, patternFired: false, negativeStrength: 0.5), 0.6 - 0.15))
    }

    @Test func finalScoreIsClampedToTheUnitInterval() {
        let f = ScoreFusion(settings: settings)
        let w = f.weights(domain: "it", intentType: "create", hasRule: true)
        #expect(f.fuse(rule: 1, embedding: 1, lexical: 1, weights: w, patternFired: true, negativeStrength: 0) == 1)
        #expect(f.fuse(rule: 0, embedding: 0.1, lexical: 0, weights: w, patternFired: false, negativeStrength: 1) == 0)
    }

    @Test func allZeroWeightsGiveZeroNotNaN() {
        var s = settings
        s.weights = FusionWeights(rule: 0, embedding: 0, lexical: 0)
        let f = ScoreFusion(settings: s)
        let w = f.weights(domain: "it", intentType: "create", hasRule: true)
        #expect(f.fuse(rule: 1, embedding: 1, lexical: 1, weights: w, patternFired: false, negativeStrength: 0) == 0)
    }
}
