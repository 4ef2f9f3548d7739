import Foundation
import IntentRouting
import Testing

@Suite struct RouterTests {
    func fixtureRouter(rules: String = Fixture.rules, settings: String = Fixture.settings) async throws -> Router {
        let folder = ConfigFolder()
        defer { folder.remove() }
        try folder.write("catalog.yaml", Fixture.catalog)
        try folder.write("rules.yaml", rules)
        try folder.write("router.yaml", settings)
        return try await Router.build(try RouterConfiguration.load(folder.paths), provider: try Model.embedder()).router
    }

    @Test func routesVietnameseWithAndWithoutAccentsAndEnglish() async throws {
        let router = try await Shipped.router.value
        for text in ["cho em xin nghỉ phép thứ sáu", "cho em xin nghi phep thu sau", "I'd like a day off on Friday"] {
            let result = try await router.route(text, requestId: "r1")
            #expect(result.topActions.first?.actionId == "leave.request", "\(text)")
            #expect(result.uiStrategy != .clarify, "\(text)")
            #expect(result.requestId == "r1")
            #expect(result.catalogVersion == router.catalogVersion)
        }
    }

    @Test func messageFollowsTheRequestLanguage() async throws {
        let router = try await Shipped.router.value
        let vi = try await router.route("quên mật khẩu email")
        #expect(vi.language == .vi)
        #expect(vi.topActions[0].actionId == "password.reset")
        #expect(vi.message.contains("đặt lại mật khẩu"))
        let en = try await router.route("I forgot the password of my email")
        #expect(en.language == .en)
        #expect(en.topActions[0].actionId == "password.reset")
        #expect(en.message.contains("reset a password"))
        let oos = try await router.route("what's the weather like in Hanoi")
        #expect(oos.uiStrategy == .clarify)
        #expect(oos.message == RouterSettings.defaults.messages(for: .en).clarify)
        #expect(oos.choices.isEmpty)
    }

    @Test func reasoningSaysWhatFired() async throws {
        let router = try await Shipped.router.value
        let result = try await router.route("xin nghi phep ngay mai")
        let top = try #require(result.topActions.first)
        #expect(top.actionId == "leave.request")
        #expect(top.reasoning.contains { $0.hasPrefix("keyword 'xin nghỉ'") })
        #expect(top.reasoning.contains { $0.hasPrefix("entity date") })
        #expect(top.reasoning.contains { $0.hasPrefix("embedding ") && $0.contains("closest") })
        #expect(top.reasoning.contains { $0.hasPrefix("weights rule") })
        #expect(top.ruleScore > 0 && top.lexicalScore > 0 && top.finalScore > 0)
        #expect(result.topActions.count == RouterSettings.defaults.decision.topK)
        // The cancel request sees the negative keyword push creation down.
        let cancel = try await router.route("hủy đơn nghỉ phép ngày mai")
        #expect(cancel.topActions[0].actionId == "leave.cancel")
        let create = try #require(cancel.topActions.first { $0.actionId == "leave.request" })
        #expect(create.reasoning.contains { $0.hasPrefix("negative 'hủy'") })
    }

    @Test func rankingCoversEveryActionAndIsSorted() async throws {
        let router = try await fixtureRouter()
        let text = NormalizedText("đặt phòng họp ngày mai")
        let vector = try await router.provider.embed([text.normalized], role: .query)[0].vector
        let ranked = router.rank(text, queryVector: vector)
        #expect(ranked.count == 3)
        #expect(ranked[0].actionId == "room.book")
        #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.finalScore >= $1.finalScore })
        #expect(ranked.allSatisfy { (0...1).contains($0.finalScore) && (0...1).contains($0.embedScore) })
    }

    @Test func emptyRequestIsClarifiedWithoutEmbedding() async throws {
        let counting = CountingProvider(try Model.embedder())
        let c = try RouterConfiguration.load(Shipped.paths)
        let router = try await Router.build(c, provider: counting).router
        counting.reset()
        let result = try await router.route("   ")
        #expect(result.uiStrategy == .clarify)
        #expect(result.topActions.isEmpty)
        #expect(counting.queries.isEmpty)
    }

    @Test func queriesAreEmbeddedWithTheQueryRoleAndNormalised() async throws {
        let counting = CountingProvider(try Model.embedder())
        let router = try await Router.build(try RouterConfiguration.load(Shipped.paths), provider: counting).router
        #expect(!counting.passages.isEmpty)
        #expect(counting.queries.isEmpty)
        _ = try await router.route("  Đặt   PHÒNG họp ")
        #expect(counting.queries == ["đặt phòng họp"])
    }

    @Test func resultEncodesWithSnakeCaseKeys() throws {
        let result = RouteResult(
            requestId: "abc", topActions: [ScoredAction(actionId: "a", ruleScore: 0.5, embedScore: 0.25, lexicalScore: 0.125,
                                                        finalScore: 0.75, reasoning: ["keyword 'x' (0.50)"])],
            uiStrategy: .confirm, message: "m", language: .vi, choices: ["a"], catalogVersion: "v1")
        let data = try JSONEncoder().encode(result)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(json.keys) == ["request_id", "top_actions", "ui_strategy", "message", "language", "choices", "catalog_version"])
        let action = try #require((json["top_actions"] as? [[String: Any]])?.first)
        #expect(Set(action.keys) == ["action_id", "rule_score", "embed_score", "lexical_score", "final_score", "reasoning"])
        #expect(json["ui_strategy"] as? String == "confirm")
        #expect(try JSONDecoder().decode(RouteResult.self, from: data) == result)
    }
}
