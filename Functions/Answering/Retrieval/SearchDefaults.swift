/// The defaults `POST /v1/search` uses when a request does not say. RRF with k = 60 and equal
/// weights is the published starting point; `search-eval` on the shipped set (README, Search
/// evaluation) found hybrid best of the three modes and no k or weighting better by more than
/// one or two of its 42 queries, so these stay until a larger set says otherwise.
package enum SearchDefaults {
    package static let mode: SearchRequest.Mode = .hybrid
    /// RRF's k: larger flattens the rank curve, so agreement between the arms matters more than
    /// one arm's top rank.
    package static let rrfK: Double = 60
    package static let denseWeight: Double = 1
    package static let keywordWeight: Double = 1
    /// Candidates each arm contributes before fusion: enough that a chunk ranked low by one arm
    /// and high by the other is still seen.
    package static func candidates(limit: Int, grouping: SearchRequest.Grouping) -> Int {
        min(1_000, max(50, limit * (grouping == .document ? 10 : 4)))
    }
}
