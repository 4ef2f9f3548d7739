import Foundation
import Synchronization

/// Recently embedded texts and their vectors, so a warm process answers a repeated query
/// without running the model (or paying an HTTP provider) again. Least recently used entries go
/// first once `capacity` is reached; entries older than `ttl` are never returned.
///
/// Keyed by (model, role, text): the same words embedded by another model or as a passage are a
/// different vector. Safe to share between concurrent invocations.
package final class QueryVectorCache: Sendable {
    package struct Key: Hashable, Sendable {
        package var model: String
        package var role: EmbeddingRole
        package var text: String

        package init(model: String, role: EmbeddingRole, text: String) {
            self.model = model
            self.role = role
            self.text = text
        }
    }

    package struct Statistics: Sendable, Equatable, Codable {
        package var hits: Int
        package var misses: Int
        package var evictions: Int
        package var expirations: Int
        package var entries: Int
        package var capacity: Int

        package var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    package let capacity: Int
    package let ttl: Duration
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<LRUState>

    /// - Parameters:
    ///   - capacity: entries kept (a 384-float vector is about 1.6 KB).
    ///   - clock: injectable so tests expire entries without sleeping.
    package init(capacity: Int = 4096, ttl: Duration = .seconds(3600),
                clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.capacity = max(1, capacity)
        self.ttl = ttl
        self.clock = clock
        state = Mutex(LRUState())
    }

    package func get(_ key: Key) -> Embedding? {
        let now = clock()
        return state.withLock { s in
            guard let i = s.index[key] else { s.misses += 1; return nil }
            if now - s.nodes[i].stored > ttl {
                s.remove(i)
                s.expirations += 1
                s.misses += 1
                return nil
            }
            s.moveToFront(i)
            s.hits += 1
            return s.nodes[i].value
        }
    }

    package func put(_ key: Key, _ value: Embedding) {
        let now = clock()
        state.withLock { s in
            if let i = s.index[key] {
                s.nodes[i].value = value
                s.nodes[i].stored = now
                s.moveToFront(i)
                return
            }
            if s.index.count >= capacity, let last = s.tail {
                s.remove(last)
                s.evictions += 1
            }
            s.insertAtFront(key: key, value: value, stored: now)
        }
    }

    package var statistics: Statistics {
        state.withLock { s in
            Statistics(hits: s.hits, misses: s.misses, evictions: s.evictions, expirations: s.expirations,
                       entries: s.index.count, capacity: capacity)
        }
    }

    package func removeAll() { state.withLock { $0 = LRUState() } }
}

/// A doubly linked list threaded through an array (indices, not references, so the whole state
/// is one value behind the lock), with a free list for reused slots.
private struct LRUState {
    struct Node {
        var key: QueryVectorCache.Key
        var value: Embedding
        var stored: ContinuousClock.Instant
        var prev: Int?
        var next: Int?
    }

    var nodes: [Node] = []
    var free: [Int] = []
    var index: [QueryVectorCache.Key: Int] = [:]
    var head: Int?
    var tail: Int?
    var hits = 0, misses = 0, evictions = 0, expirations = 0

    mutating func insertAtFront(key: QueryVectorCache.Key, value: Embedding, stored: ContinuousClock.Instant) {
        let node = Node(key: key, value: value, stored: stored, prev: nil, next: head)
        let i: Int
        if let slot = free.popLast() { nodes[slot] = node; i = slot } else { nodes.append(node); i = nodes.count - 1 }
        if let h = head { nodes[h].prev = i }
        head = i
        if tail == nil { tail = i }
        index[key] = i
    }

    mutating func unlink(_ i: Int) {
        let (p, n) = (nodes[i].prev, nodes[i].next)
        if let p { nodes[p].next = n } else { head = n }
        if let n { nodes[n].prev = p } else { tail = p }
        nodes[i].prev = nil
        nodes[i].next = nil
    }

    mutating func moveToFront(_ i: Int) {
        guard head != i else { return }
        unlink(i)
        nodes[i].next = head
        if let h = head { nodes[h].prev = i }
        head = i
        if tail == nil { tail = i }
    }

    mutating func remove(_ i: Int) {
        unlink(i)
        index[nodes[i].key] = nil
        nodes[i].value = Embedding(vector: [], tokenCount: 0, untruncatedTokenCount: 0, truncated: false)  // free the vector now
        free.append(i)
    }
}

/// Puts a `QueryVectorCache` in front of a provider, and behind it, when there is one, a second
/// level every process and instance shares (`SharedVectorCache`: the store or Redis), so a
/// query one warm process embedded is not embedded again by the next cold one. Only the roles
/// asked for are cached: queries repeat (users retry, dashboards poll), passages rarely do and
/// would crowd them out.
package struct CachedEmbeddingProvider: EmbeddingProvider, ReportsEmbeddingUsage {
    package let base: any EmbeddingProvider
    package let cache: QueryVectorCache
    package let cachedRoles: Set<EmbeddingRole>
    package let shared: (any SharedVectorCache)?
    package let sharedTTL: Duration
    private let counters = EmbeddingUsageCounters()

    package init(_ base: any EmbeddingProvider, cache: QueryVectorCache, roles: Set<EmbeddingRole> = [.query],
                shared: (any SharedVectorCache)? = nil, sharedTTL: Duration = .seconds(86_400)) {
        self.base = base
        self.cache = cache
        cachedRoles = roles
        self.shared = shared
        self.sharedTTL = sharedTTL
    }

    package var modelId: String { base.modelId }
    package var dimension: Int { base.dimension }
    package var maxInputTokens: Int { base.maxInputTokens }
    package var runsLocally: Bool { base.runsLocally }

    /// Calls and failures counted here (where the base was called), retries and the breaker from
    /// the base when it keeps them, hits and misses from the cache.
    package var usage: EmbeddingUsage {
        var u = counters.value
        if let b = (base as? any ReportsEmbeddingUsage)?.usage {
            u.retries = b.retries
            u.breakerOpen = b.breakerOpen
            u.piiBlocked = b.piiBlocked
            u.piiRedacted = b.piiRedacted
            u.failovers = b.failovers
            u.budgetDeferred = b.budgetDeferred
        }
        let s = cache.statistics
        u.cacheHits = s.hits
        u.cacheMisses = s.misses
        return u
    }

    private func counted(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        counters.record { $0.calls += 1 }
        do { return try await base.embed(texts, role: role) } catch {
            counters.record { $0.failures += 1 }
            throw error
        }
    }

    /// The first level's misses: from the shared level when it has them, else from the model
    /// (and then written to the shared level). The shared level failing is a miss, never an error.
    private func secondLevel(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        guard let shared else { return try await checked(texts, role: role) }
        let keys = texts.map { QueryVectorKey(model: base.modelId, dimension: base.dimension, role: role, text: $0).id }
        var found: [String: Embedding] = [:]
        do {
            for (id, bytes) in try shared.entries(keys) {
                if let e = Embedding(cacheBytes: bytes, dimension: base.dimension) { found[id] = e }
            }
            counters.record { $0.sharedHits += found.count; $0.sharedMisses += texts.count - found.count }
        } catch {
            counters.record { $0.sharedErrors += 1; $0.sharedMisses += texts.count }
        }
        let missing = texts.indices.filter { found[keys[$0]] == nil }
        if !missing.isEmpty {
            let fresh = try await checked(missing.map { texts[$0] }, role: role)
            for (i, e) in zip(missing, fresh) { found[keys[i]] = e }
            do { try shared.put(zip(missing, fresh).map { (keys[$0], $1.cacheBytes) }, ttl: sharedTTL) } catch {
                counters.record { $0.sharedErrors += 1 }
            }
        }
        return keys.map { found[$0]! }
    }

    private func checked(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        let fresh = try await counted(texts, role: role)
        guard fresh.count == texts.count else {
            throw EmbeddingError.malformedResponse("\(texts.count) texts gave \(fresh.count) embeddings")
        }
        return fresh
    }

    package func embed(_ texts: [String], role: EmbeddingRole) async throws -> [Embedding] {
        guard cachedRoles.contains(role) else { return try await counted(texts, role: role) }
        var results = [Embedding?](repeating: nil, count: texts.count)
        var missing: [Int] = []
        for (i, text) in texts.enumerated() {
            if let hit = cache.get(.init(model: base.modelId, role: role, text: text)) { results[i] = hit } else { missing.append(i) }
        }
        if !missing.isEmpty {
            // The same text twice in one call is embedded once.
            var unique: [String] = []
            var position: [String: Int] = [:]
            for i in missing where position[texts[i]] == nil {
                position[texts[i]] = unique.count
                unique.append(texts[i])
            }
            let fresh = try await secondLevel(unique, role: role)
            for (text, embedding) in zip(unique, fresh) { cache.put(.init(model: base.modelId, role: role, text: text), embedding) }
            for i in missing { results[i] = fresh[position[texts[i]]!] }
        }
        return results.map { $0! }
    }
}
