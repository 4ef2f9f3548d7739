import DocumentStore
import Embeddings
import Foundation
import RedisClient

/// The query-vector cache's second level in the store (`DATABASE_URL`): every warm process and
/// instance of every function that embeds queries shares it, with no other service to run.
package struct StoreVectorCache: SharedVectorCache {
    let store: any Store
    package var kind: String { "store" }

    package init(store: any Store) { self.store = store }

    package func entries(_ ids: [String]) throws -> [String: [UInt8]] {
        try store.sharedCacheEntries(ids: ids)
    }

    package func put(_ entries: [(id: String, bytes: [UInt8])], ttl: Duration) throws {
        try store.putSharedCacheEntries(entries, expiresAt: Date().addingTimeInterval(Double(ttl.components.seconds)))
    }
}

/// The second level in Redis (`REDIS_URL`), seed 004's L2: `MGET` to read, `SET ... EX` to
/// write, so Redis expires entries itself.
package struct RedisVectorCache: SharedVectorCache {
    let redis: RedisConnection
    package var kind: String { "redis" }

    package init(redis: RedisConnection) { self.redis = redis }

    package func entries(_ ids: [String]) throws -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        let reply = try redis.command([Array("MGET".utf8)] + ids.map { Array($0.utf8) })
        guard case .array(let items?) = reply, items.count == ids.count else {
            throw RedisConnection.Failure(description: "MGET answered \(reply)")
        }
        var out: [String: [UInt8]] = [:]
        for (id, item) in zip(ids, items) { if case .bulk(let b?) = item { out[id] = b } }
        return out
    }

    package func put(_ entries: [(id: String, bytes: [UInt8])], ttl: Duration) throws {
        let seconds = String(max(1, ttl.components.seconds))
        for e in entries {
            let reply = try redis.command([Array("SET".utf8), Array(e.id.utf8), e.bytes, Array("EX".utf8), Array(seconds.utf8)])
            if case .error(let m) = reply { throw RedisConnection.Failure(description: "SET refused: \(m)") }
        }
    }
}

/// Which second level a function's query cache gets (`QUERY_CACHE_SHARED`, `REDIS_URL`).
package enum SharedVectorCaches {
    /// - Parameter store: the function's store, if it has one (`route` has none).
    package static func make(_ c: EmbeddingConfiguration, store: (any Store)?) throws -> (any SharedVectorCache)? {
        switch c.sharedCache {
        case .off: return nil
        case .store: return store.map(StoreVectorCache.init)
        case .redis, .auto:
            if let url = c.redisURL {
                do { return RedisVectorCache(redis: try RedisConnection(url: url)) } catch {
                    throw Services.StartupError.configuration(error.description)
                }
            }
            return store.map(StoreVectorCache.init)
        }
    }
}
