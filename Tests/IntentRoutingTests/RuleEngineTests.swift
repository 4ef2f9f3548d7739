import Testing
@testable import IntentRouting

@Suite struct RuleEngineTests {
    /// One action with the given rule; the catalog's seeds do not matter to rules.
    func engine(_ rule: ActionRule, entities: [String: [String]] = [:], missingFactor: Double = 0.5) throws -> RuleEngine {
        let catalog = ActionCatalog(domains: ["d"], actions: [ActionDefinition(id: "a", domain: "d", intentType: "create", seeds: ["x"])])
        var settings = RouterSettings.defaults
        settings.rules.missingEntityFactor = missingFactor
        let configuration = try RouterConfiguration(catalog: catalog, rules: RoutingRules(entities: entities, rules: ["a": rule]),
                                                    settings: settings)
        return RuleEngine(configuration: configuration)
    }

    func match(_ engine: RuleEngine, _ text: String) -> RuleMatch {
        engine.match(0, request: RuleEngine.Request(engine: engine, text: NormalizedText(text)))
    }

    @Test func weightedKeywordsCombineAsNoisyOr() throws {
        let e = try engine(ActionRule(keywords: [WeightedKeyword("nghỉ phép", weight: 0.6), WeightedKeyword("xin", weight: 0.5)]))
        #expect(abs(match(e, "nghỉ phép").score - 0.6) < 1e-9)
        // 1 - (1 - 0.6)(1 - 0.5) = 0.8: more evidence saturates instead of adding past 1.
        #expect(abs(match(e, "xin nghỉ phép").score - 0.8) < 1e-9)
        #expect(match(e, "xin nghỉ phép").reasons.contains { $0.contains("keyword 'nghỉ phép'") })
        #expect(match(e, "đặt phòng").score == 0)
    }

    @Test func keywordsMatchWholeWordsInOrder() throws {
        let e = try engine(ActionRule(keywords: [WeightedKeyword("nghỉ phép", weight: 0.6)]))
        #expect(match(e, "phép nghỉ").score == 0)        // wrong order
        #expect(match(e, "nghiphep").score == 0)          // not whole words
        #expect(match(e, "NGHỈ PHÉP mai").score > 0)
    }

    @Test func diacriticFoldingMatchesTextTypedWithoutAccents() throws {
        let e = try engine(ActionRule(keywords: [WeightedKeyword("xin nghỉ phép", weight: 0.7)],
                                      patterns: [WeightedPattern(name: "days", regex: #"nghỉ phép \d+ ngày"#, weight: 0.5)]))
        let typedPlain = match(e, "xin nghi phep 2 ngay")
        #expect(typedPlain.score > 0.8)
        #expect(typedPlain.patternFired)
        #expect(abs(typedPlain.score - match(e, "xin nghỉ phép 2 ngày").score) < 1e-12)
    }

    @Test func patternsFireAndAreReported() throws {
        let e = try engine(ActionRule(patterns: [WeightedPattern(name: "amount", regex: #"\d+\s?(trieu|usd)"#, weight: 0.6)]))
        let m = match(e, "tạm ứng 5 triệu")
        #expect(m.patternFired)
        #expect(abs(m.score - 0.6) < 1e-9)
        #expect(m.reasons == ["pattern amount '5 trieu' (0.60)"])
        #expect(!match(e, "tạm ứng").patternFired)
    }

    @Test func negativeKeywordsRemoveTheirWeight() throws {
        let e = try engine(ActionRule(keywords: [WeightedKeyword("nghỉ phép", weight: 0.8)],
                                      negativeKeywords: [WeightedKeyword("hủy", weight: 1.0), WeightedKeyword("bao nhiêu", weight: 0.5)]))
        let cancel = match(e, "huy don nghi phep")
        #expect(cancel.score == 0)
        #expect(cancel.negativeStrength == 1.0)
        #expect(cancel.reasons.contains("negative 'hủy' (-1.00)"))
        let howMany = match(e, "còn bao nhiêu ngày nghỉ phép")
        #expect(abs(howMany.score - 0.4) < 1e-9)
        #expect(howMany.negativeStrength == 0.5)
    }

    @Test func requiredEntityPresentOrMissing() throws {
        let e = try engine(ActionRule(keywords: [WeightedKeyword("nghỉ phép", weight: 0.8)], requiredEntities: ["date"]),
                           entities: ["date": [#"\b(ngay mai|\d{1,2}/\d{1,2})\b"#]], missingFactor: 0.5)
        let present = match(e, "nghỉ phép ngày mai")
        #expect(abs(present.score - 0.8) < 1e-9)
        #expect(present.reasons.contains("entity date 'ngay mai'"))
        let missing = match(e, "nghỉ phép")
        #expect(abs(missing.score - 0.4) < 1e-9)
        #expect(missing.reasons.contains { $0.hasPrefix("missing entity date") })
        // No evidence at all: nothing to scale, nothing to report.
        #expect(match(e, "đặt phòng").reasons.isEmpty)
    }

    @Test func actionsWithoutRulesScoreZero() throws {
        let catalog = ActionCatalog(domains: ["d"], actions: [ActionDefinition(id: "a", domain: "d", intentType: "create", seeds: ["x"])])
        let e = RuleEngine(configuration: try RouterConfiguration(catalog: catalog))
        #expect(!e.hasRule(0))
        #expect(match(e, "anything").score == 0)
    }

    @Test func aRegexSharedByRulesIsCompiledOnce() throws {
        let catalog = ActionCatalog(domains: ["d"], actions: ["a", "b"].map {
            ActionDefinition(id: $0, domain: "d", intentType: "create", seeds: ["x"])
        })
        let shared = WeightedPattern(name: "n", regex: #"\d+ ngay"#, weight: 0.5)
        let e = RuleEngine(configuration: try RouterConfiguration(
            catalog: catalog,
            rules: RoutingRules(entities: ["days": [#"\d+ ngay"#]],
                                rules: ["a": ActionRule(patterns: [shared]), "b": ActionRule(patterns: [shared], requiredEntities: ["days"])])))
        #expect(e.regexes.count == 1)
        let request = RuleEngine.Request(engine: e, text: NormalizedText("nghỉ 2 ngày"))
        #expect(e.match(0, request: request).patternFired && e.match(1, request: request).patternFired)
        #expect(e.match(1, request: request).reasons.contains("entity days '2 ngay'"))
    }

    @Test func reasoningNumbersHaveTwoDecimals() {
        #expect(Fixed2.format(0.5) == "0.50")
        #expect(Fixed2.format(0.125) == "0.13")
        #expect(Fixed2.format(1) == "1.00")
        #expect(Fixed2.format(0.05) == "0.05")
        #expect(Fixed2.format(-0.3) == "-0.30")
        #expect(Fixed2.format(-0.001) == "0.00")
    }

    @Test func accentedPatternSourceIsFoldedButEscapesKeepTheirMeaning() {
        #expect(PatternCompiler.foldedSource(#"nghỉ\s+phép \D"#) == #"nghi\s+phep \D"#)
        #expect(PatternCompiler.foldedSource("[đĐ]ặt") == "[dd]at")
    }
}
