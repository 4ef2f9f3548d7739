import Testing
import IntentRouting

@Suite struct UIDecisionTests {
    let decision = UIDecision(thresholds: DecisionThresholds(clarifyBelow: 0.3, executeAt: 0.7, executeMargin: 0.15,
                                                             disambiguateMargin: 0.05, maxChoices: 3, topK: 5))

    /// "strategy: choices" for scores given best first, ids a0, a1...
    func decide(_ scores: Double...) -> String {
        let (strategy, choices) = decision.decide(scores.enumerated().map { (id: "a\($0.offset)", score: $0.element) })
        return "\(strategy.rawValue): \(choices.joined(separator: ","))"
    }

    @Test func executeNeedsAHighScoreAndAMargin() {
        #expect(decide(0.85, 0.5) == "execute: a0")
        #expect(decide(0.7, 0.5) == "execute: a0")         // execute_at is inclusive
        #expect(decide(0.9) == "execute: a0")
    }

    @Test func confirmForALikelyButUncertainWinner() {
        #expect(decide(0.85, 0.75) == "confirm: a0")      // high, margin too small
        #expect(decide(0.5, 0.3) == "confirm: a0")        // clear lead, score too low
        #expect(decide(0.69, 0.1) == "confirm: a0")
    }

    @Test func disambiguateWhenCandidatesAreClose() {
        #expect(decide(0.62, 0.6, 0.59, 0.58) == "disambiguate: a0,a1,a2")  // at most max_choices
        #expect(decide(0.62, 0.6, 0.4) == "disambiguate: a0,a1")
        // A close runner-up below clarify_below is not a candidate.
        #expect(decide(0.32, 0.29) == "confirm: a0")
    }

    @Test func clarifyWhenNothingIsRelevant() {
        #expect(decide(0.29, 0.28) == "clarify: ")
        #expect(decide() == "clarify: ")
    }

    @Test func messagesInTheRequestLanguageWithTitles() throws {
        let catalog = ActionCatalog(domains: ["d"], actions: [
            ActionDefinition(id: "a", domain: "d", intentType: "create", titles: [.vi: "đặt phòng họp", .en: "book a room"], seeds: ["x"]),
            ActionDefinition(id: "b", domain: "d", intentType: "create", titles: [.vi: "xin nghỉ phép"], seeds: ["y"]),
            ActionDefinition(id: "c", domain: "d", intentType: "create", seeds: ["z"]),
        ])
        let vi = RouterSettings.defaults.messages(for: .vi), en = RouterSettings.defaults.messages(for: .en)
        #expect(UIDecision.message(.confirm, choices: ["a"], catalog: catalog, messages: vi, language: .vi)
                == "Có phải bạn muốn đặt phòng họp?")
        #expect(UIDecision.message(.execute, choices: ["a"], catalog: catalog, messages: en, language: .en) == "Doing it: book a room.")
        // Missing English title: the other language's, then the id.
        #expect(UIDecision.message(.disambiguate, choices: ["a", "b", "c"], catalog: catalog, messages: en, language: .en)
                == "Which one do you mean: book a room, xin nghỉ phép or c?")
        #expect(UIDecision.message(.clarify, choices: [], catalog: catalog, messages: vi, language: .vi) == vi.clarify)
    }
}
