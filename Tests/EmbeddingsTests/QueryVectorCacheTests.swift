import Embeddings
import Foundation
import Synchronization
import Testing

/// A clock the tests move by hand, so expiry is tested without sleeping.
final class ManualClock: Sendable {
    private let now = Mutex(ContinuousClock.now)
    func read() -> ContinuousClock.Instant { now.withLock { $0 } }
    func advance(_ d: Duration) { now.withLock { $0 += d } }
}

/// Counts what reaches the real model behind the cache.
final class CountingProvider: EmbeddingProvider {
    let base: any EmbeddingProvider
    let calls = Mutex<[[String]]>([])
    init(base: any EmbeddingProvider) { self.base = base }
    var modelId: String { base.modelId }
    var dimension: Int { base.dimension }
    var maxInputTokens: Int { base.maxInputTokens }
    func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        calls.withLock { $0.append(texts) }
        return try await base.embed(texts, role: role)
    }
    var embeddedTexts: [String] { calls.withLock { $0.flatMap { $0 } } }
}

@Suite struct QueryVectorCacheTests {
    func entry(_ x: Float) -> Embedding { Embedding(vector: [x], tokenCount: 3, untruncatedTokenCount: 3, truncated: false) }
    func key(_ text: String, role: EmbeddingRole = .query, model: String = "m") -> QueryVectorCache.Key {
        .init(model: model, role: role, text: text)
    }

    @Test func leastRecentlyUsedGoesFirst() {
        let cache = QueryVectorCache(capacity: 2)
        cache.put(key("a"), entry(1))
        cache.put(key("b"), entry(2))
        #expect(cache.get(key("a"))?.vector == [1])  // a is now the most recent
        cache.put(key("c"), entry(3))                // evicts b
        #expect(cache.get(key("b")) == nil)
        #expect(cache.get(key("a"))?.vector == [1])
        #expect(cache.get(key("c"))?.vector == [3])
        let s = cache.statistics
        #expect(s.entries == 2 && s.evictions == 1 && s.hits == 3 && s.misses == 1)
    }

    @Test func modelAndRoleArePartOfTheKey() {
        let cache = QueryVectorCache(capacity: 10)
        cache.put(key("same words"), entry(1))
        #expect(cache.get(key("same words", role: .passage)) == nil)
        #expect(cache.get(key("same words", model: "other")) == nil)
        #expect(cache.get(key("same words"))?.vector == [1])
    }

    @Test func entriesExpireAfterTheirTTL() {
        let clock = ManualClock()
        let cache = QueryVectorCache(capacity: 10, ttl: .seconds(60), clock: { clock.read() })
        cache.put(key("q"), entry(1))
        clock.advance(.seconds(59))
        #expect(cache.get(key("q")) != nil)
        clock.advance(.seconds(2))
        #expect(cache.get(key("q")) == nil)
        #expect(cache.statistics.expirations == 1)
        #expect(cache.statistics.entries == 0)
        // A refreshed entry lives a full TTL again.
        cache.put(key("q"), entry(2))
        clock.advance(.seconds(30))
        #expect(cache.get(key("q"))?.vector == [2])
    }

    @Test func slotsAreReusedAndTheBoundHoldsUnderChurn() {
        let cache = QueryVectorCache(capacity: 100)
        for i in 0..<10_000 { cache.put(key("q\(i)"), entry(Float(i))) }
        #expect(cache.statistics.entries == 100)
        #expect(cache.get(key("q9999"))?.vector == [9999])
        #expect(cache.get(key("q9900"))?.vector == [9900])
        #expect(cache.get(key("q9900 ")) == nil)
        #expect(cache.get(key("q9899")) == nil)
    }

    @Test func concurrentCallersAreSafe() async {
        let cache = QueryVectorCache(capacity: 64)
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<2_000 {
                        let k = key("q\((i * 7 + t) % 100)")
                        if cache.get(k) == nil { cache.put(k, entry(Float(i))) }
                    }
                }
            }
        }
        let s = cache.statistics
        #expect(s.entries <= 64)
        #expect(s.hits + s.misses == 16_000)
    }

    @Test func repeatedQueriesSkipTheModelAndGetTheSameVector() async throws {
        let counting = CountingProvider(base: try Shared.embedder())
        let cached = CachedEmbeddingProvider(counting, cache: QueryVectorCache(capacity: 100))
        let first = try await cached.embed(["xin nghỉ phép ngày mai", "reset my password"], role: .query)
        let second = try await cached.embed(["reset my password", "book a meeting room", "xin nghỉ phép ngày mai", "book a meeting room"], role: .query)
        #expect(second[0] == first[1])
        #expect(second[2] == first[0])
        #expect(second[1] == second[3])
        // Only the one new text reached the model, once although asked twice.
        #expect(counting.embeddedTexts == ["xin nghỉ phép ngày mai", "reset my password", "book a meeting room"])
        #expect(cached.cache.statistics.hits == 2)
        // And the cached vector is the model's own.
        let direct = try await Shared.embedder().embed(["book a meeting room"], role: .query)
        #expect(direct[0].vector == second[1].vector)
    }

    @Test func passagesAreNotCachedByDefault() async throws {
        let counting = CountingProvider(base: try Shared.embedder())
        let cached = CachedEmbeddingProvider(counting, cache: QueryVectorCache(capacity: 100))
        _ = try await cached.embed(["a passage"], role: .passage)
        _ = try await cached.embed(["a passage"], role: .passage)
        #expect(counting.embeddedTexts.count == 2)
        #expect(cached.cache.statistics.entries == 0)
    }
}
