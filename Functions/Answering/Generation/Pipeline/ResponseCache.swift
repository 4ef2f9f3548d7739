import Foundation
import Ingestion
import Tenancy

/// Answers a warm process has given, for the same question over the same context: a model
/// call costs seconds and money, a lookup microseconds. Bounded by a TTL and an entry count
/// (least recently used first out). Only model answers are kept: a fallback is what a
/// passing outage produced, and the next request should try the providers again.
actor ResponseCache {
    private struct Entry {
        var response: GenerateResponse
        var expires: ContinuousClock.Instant
        var lastUsed: UInt64
    }

    private var entries: [String: Entry] = [:]
    private var tick: UInt64 = 0
    let ttl: Duration
    let maxEntries: Int

    init(ttl: Duration, maxEntries: Int) {
        self.ttl = ttl
        self.maxEntries = maxEntries
    }

    var count: Int { entries.count }

    func get(_ key: String, now: ContinuousClock.Instant = .now) -> GenerateResponse? {
        guard let e = entries[key] else { return nil }
        guard now < e.expires else {
            entries[key] = nil
            return nil
        }
        tick &+= 1
        entries[key]?.lastUsed = tick
        return e.response
    }

    func put(_ key: String, _ response: GenerateResponse, now: ContinuousClock.Instant = .now) {
        guard maxEntries > 0, ttl > .zero else { return }
        tick &+= 1
        entries[key] = Entry(response: response, expires: now + ttl, lastUsed: tick)
        if entries.count > maxEntries { evict(now: now) }
    }

    /// Expired entries, then the least recently used, down to 90% of the bound, so eviction's
    /// sort runs once per tenth of the bound's insertions rather than on every one.
    private func evict(now: ContinuousClock.Instant) {
        entries = entries.filter { now < $0.value.expires }
        let target = maxEntries - maxEntries / 10
        guard entries.count > target else { return }
        let oldest = entries.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(entries.count - target)
        for (k, _) in oldest { entries[k] = nil }
    }

    /// The key: a hash of everything the answer depends on. Chunk contents are in it, not just
    /// ids, since a caller's chunk (or a re-indexed one) can change under the same id.
    static func key(org: OrgID, query: String, language: Language, chunks: [ContextChunk], provider: String?,
                    templates: String, maxTokens: Int, temperature: Double) -> String {
        var h = SHA256()
        func add(_ s: String) {
            h.update(Array(s.utf8))
            h.update([0])
        }
        add(org.rawValue); add(query); add(language.rawValue); add(provider ?? "-"); add(templates)
        add(String(maxTokens)); add(String(temperature))
        for c in chunks { add(c.chunkId); add(c.content) }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
