/// A Prometheus histogram: cumulative-ready bucket counts, sum and count, in seconds.
struct Histogram: Sendable {
    /// Seconds, from a warm cached search (~1 ms) to a function timeout (15 min).
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900]

    /// Per bucket (not cumulative); the last is +Inf.
    var counts = [UInt64](repeating: 0, count: Histogram.bounds.count + 1)
    var sum = 0.0
    var count: UInt64 = 0

    mutating func observe(seconds v: Double) {
        guard v.isFinite else { return }
        var i = 0
        while i < Self.bounds.count, v > Self.bounds[i] { i += 1 }
        counts[i] += 1
        sum += v
        count += 1
    }
}

/// Nearest-rank quantiles of a small sample (the dashboard's window: at most a few thousand).
enum Quantiles {
    static func of(_ values: [Double], _ qs: [Double]) -> [Double?] {
        guard !values.isEmpty else { return qs.map { _ in nil } }
        let sorted = values.sorted()
        return qs.map { q in
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1]
        }
    }
}
