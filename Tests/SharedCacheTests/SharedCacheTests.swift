import DocumentStore
import Embeddings
import Foundation
import FunctionServices
import RedisClient
import Stores
import Testing
import TestSupport

/// The query-vector cache's second level: Redis (a real redis-server) and the store, shared by
/// two providers as two warm processes would share them.
@Suite struct SharedCacheTests {
    static func native() throws -> any EmbeddingProvider {
        try EmbeddingProviders.nativeProvider(model: EmbeddingModelRegistry.defaultNative.id,
                                              directory: TestPaths.packageRoot + "/.models/multilingual-e5-small")
    }

    static func process(_ base: any EmbeddingProvider, _ shared: any SharedVectorCache) -> CachedEmbeddingProvider {
        CachedEmbeddingProvider(base, cache: QueryVectorCache(capacity: 16), shared: shared, sharedTTL: .seconds(60))
    }

    /// Two "processes" (each its own first level) over one shared level: the second finds what
    /// the first embedded, the very same vector, without running the model.
    func sharedBetweenTwoProcesses(_ shared: any SharedVectorCache) async throws {
        let base = try Self.native()
        let query = "nghỉ phép năm \(UUID().uuidString)"
        let first = Self.process(base, shared), second = Self.process(base, shared)
        let a = try await first.embed([query], role: .query)
        #expect(first.usage.sharedMisses == 1 && first.usage.sharedHits == 0 && first.usage.calls == 1)
        let b = try await second.embed([query, query], role: .query)
        #expect(second.usage.sharedHits == 1 && second.usage.calls == 0, "\(second.usage)")
        #expect(b[0] == a[0] && b[1] == a[0])
        // A passage is not a query: not cached, and never confused with one.
        _ = try await second.embed([query], role: .passage)
        #expect(second.usage.calls == 1)
    }

    @Test func redisSharesVectorsBetweenProcesses() async throws {
        let shared = RedisVectorCache(redis: try RedisConnection(url: try RedisTestServer.url()))
        try await sharedBetweenTwoProcesses(shared)
    }

    @Test(arguments: ["sqlite", "postgres"])
    func theStoreSharesVectorsBetweenProcesses(_ kind: String) async throws {
        let url: String
        if kind == "sqlite" {
            url = "sqlite://" + TestPaths.temporaryDirectory("shared-cache") + "/rag.sqlite"
        } else {
            url = try EmulatorStore.postgresEnvironment(schemaPrefix: "qc_")["DATABASE_URL"]!
        }
        let store = try Stores.open(url: url)
        try await sharedBetweenTwoProcesses(StoreVectorCache(store: store))
    }

    @Test func redisEntriesExpireOnTheirTTL() throws {
        let redis = try RedisConnection(url: try RedisTestServer.url())
        let cache = RedisVectorCache(redis: redis)
        let id = "qv1:test:\(UUID().uuidString)"
        try cache.put([(id, [1, 2, 3, 4])], ttl: .seconds(600))
        #expect(try cache.entries([id, id + "-missing"]) == [id: [1, 2, 3, 4]])
        guard case .integer(let ttl) = try redis.command("TTL", id) else { Issue.record("TTL answered no integer"); return }
        #expect((590...600).contains(ttl))
    }

    @Test func aDownSharedLevelIsAMissNotAFailure() async throws {
        // Nothing listens on port 1: every read and write fails, and queries still answer.
        let shared = RedisVectorCache(redis: try RedisConnection(url: "redis://127.0.0.1:1/0", timeout: .milliseconds(200)))
        let p = Self.process(try Self.native(), shared)
        let v = try await p.embed(["annual leave"], role: .query)
        #expect(v.count == 1 && v[0].vector.count == 384)
        #expect(p.usage.sharedErrors == 2 && p.usage.sharedMisses == 1 && p.usage.calls == 1)
    }

    @Test(arguments: ["http://x:6379", "redis://", "redis://h:6379/x"])
    func malformedRedisURLsAreRefused(_ url: String) {
        #expect(throws: RedisConnection.Failure.self) { try RedisConnection(url: url) }
    }

    @Test func cachedEmbeddingsReadBackExactly() {
        let e = Embedding(vector: [0.25, -1.5, .leastNonzeroMagnitude, 3], tokenCount: 7, untruncatedTokenCount: 9, truncated: true)
        #expect(Embedding(cacheBytes: e.cacheBytes, dimension: 4) == e)
        #expect(Embedding(cacheBytes: e.cacheBytes, dimension: 5) == nil)
        let k = QueryVectorKey(model: "m", dimension: 4, role: .query, text: "x")
        #expect(k.id == "qv1:m:4:query:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")
    }
}
