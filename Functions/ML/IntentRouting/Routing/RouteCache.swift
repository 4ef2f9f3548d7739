/// Route results by (catalog version, normalised text), dropped after a TTL and, when full, least
/// recently used first. A value type: `RouterHost` keeps it inside its mutex.
///
/// Keying by the catalog version means a reload can never serve a result from the old catalog,
/// even for a request that raced the swap.
struct RouteCache {
    struct Key: Hashable {
        let catalogVersion: String
        let text: String
    }

    struct Entry {
        var result: RouteResult
        let expires: ContinuousClock.Instant
        var lastUsed: UInt64
    }

    let ttl: Duration
    let capacity: Int
    private(set) var entries: [Key: Entry] = [:]
    private var tick: UInt64 = 0

    init(ttl: Duration, capacity: Int) {
        self.ttl = ttl
        self.capacity = capacity
    }

    var count: Int { entries.count }

    mutating func get(_ key: Key, now: ContinuousClock.Instant) -> RouteResult? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > now else {
            entries[key] = nil
            return nil
        }
        tick &+= 1
        entries[key]!.lastUsed = tick
        return entry.result
    }

    mutating func put(_ key: Key, _ result: RouteResult, now: ContinuousClock.Instant) {
        guard capacity > 0, ttl > .zero else { return }
        if entries[key] == nil && entries.count >= capacity { evict(now: now) }
        tick &+= 1
        entries[key] = Entry(result: result, expires: now + ttl, lastUsed: tick)
    }

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    /// Expired entries first; if none, the least recently used one. A linear scan: at the sizes
    /// a function keeps (about a thousand) it costs microseconds and needs no linked list.
    private mutating func evict(now: ContinuousClock.Instant) {
        let before = entries.count
        entries = entries.filter { $0.value.expires > now }
        guard entries.count == before, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) else { return }
        entries[oldest.key] = nil
    }
}
