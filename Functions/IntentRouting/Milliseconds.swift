/// Durations as the fractional milliseconds the stats and logs report.
enum Milliseconds {
    static func of(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
