extension Duration {
    /// Fractional milliseconds, for timings in logs, frames, responses and benchmarks.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
