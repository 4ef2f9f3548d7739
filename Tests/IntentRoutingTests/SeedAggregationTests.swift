import Embeddings
import Foundation
import Testing
@testable import IntentRouting

@Suite struct SeedAggregationTests {
    func configuration(_ actions: [ActionDefinition], aggregation: SeedAggregation = .max,
                       includeDescription: Bool = false) throws -> RouterConfiguration {
        var settings = RouterSettings.defaults
        settings.embedding.aggregation = aggregation
        settings.embedding.includeDescription = includeDescription
        return try RouterConfiguration(catalog: ActionCatalog(domains: ["d"], actions: actions), settings: settings)
    }

    /// Two actions sharing a seed text keep a row each, under their own (action id, seed index),
    /// and both get that seed's similarity: keying by text would have dropped one of them.
    @Test func identicalSeedTextsInTwoActionsStayDistinct() async throws {
        let provider = CountingProvider(try Model.embedder())
        let c = try configuration([
            ActionDefinition(id: "room.book", domain: "d", intentType: "create", seeds: ["book a room", "reserve a meeting room"]),
            ActionDefinition(id: "room.cancel", domain: "d", intentType: "cancel", seeds: ["cancel my booking", "book a room"]),
        ])
        let router = try await Router.build(c, provider: provider).router
        #expect(router.seeds.keys.map(\.actionId) == ["room.book", "room.book", "room.cancel", "room.cancel"])
        #expect(router.seeds.keys.map(\.slot) == [0, 1, 0, 1])
        #expect(router.seeds.keys[0].textHash == router.seeds.keys[3].textHash)
        #expect(Set(router.seeds.keys).count == 4)
        // The shared text was embedded once, its vector stored in both rows.
        #expect(provider.passages.sorted() == ["book a room", "cancel my booking", "reserve a meeting room"])

        let query = try await provider.embed(["book a room"], role: .query)[0].vector
        let aggregates = router.seeds.aggregate(router.seeds.similarities(query), settings: c.settings.embedding)
        #expect(abs(aggregates[0].cosine - 1) < 1e-4 && abs(aggregates[1].cosine - 1) < 1e-4)
        #expect(aggregates[0].bestRow == 0 && aggregates[1].bestRow == 3)
    }

    @Test func maxMeanAndMaxMeanAggregation() async throws {
        let model = try Model.embedder()
        let seeds = ["reset my password", "I forgot my password", "unlock my account", "the printer is jammed"]
        let actions = [ActionDefinition(id: "a", domain: "d", intentType: "update", seeds: seeds)]
        let query = try await model.embed(["password reset please"], role: .query)[0].vector
        let vectors = try await model.embed(seeds, role: .passage).map(\.vector)
        let cosines = vectors.map { v in zip(v, query).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
        let top3 = cosines.sorted(by: >).prefix(3)

        func score(_ a: SeedAggregation) async throws -> Float {
            let router = try await Router.build(try configuration(actions, aggregation: a), provider: model).router
            return router.seeds.aggregate(router.seeds.similarities(query), settings: router.configuration.settings.embedding)[0].cosine
        }
        let w = Float(RouterSettings.defaults.embedding.meanWeight)
        #expect(abs(try await score(.max) - cosines.max()!) < 1e-4)
        #expect(abs(try await score(.mean) - cosines.reduce(0, +) / 4) < 1e-4)
        #expect(abs(try await score(.maxMean) - ((1 - w) * cosines.max()! + w * top3.reduce(0, +) / 3)) < 1e-4)
    }

    @Test func descriptionIsARowOfItsOwnWhenIncluded() async throws {
        let provider = CountingProvider(try Model.embedder())
        let actions = [ActionDefinition(id: "a", domain: "d", intentType: "create", description: "Book a meeting room.",
                                        seeds: ["đặt phòng họp"])]
        let with = try await Router.build(try configuration(actions, includeDescription: true), provider: provider).router
        #expect(with.seeds.keys.map(\.slot) == [SeedKey.descriptionSlot, 0])
        let without = try await Router.build(try configuration(actions), provider: provider).router
        #expect(without.seeds.keys.map(\.slot) == [0])
    }
}
