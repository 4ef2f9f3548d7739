import COpenBLAS
import Embeddings
import JSON

/// Which text of an action a row holds. Rows are keyed by (action id, slot, text hash), never by
/// text alone: two actions with the same seed phrase keep two rows, and an edited seed never
/// reuses the old vector.
package struct SeedKey: Sendable, Hashable {
    /// The description's slot; seeds are 0, 1, 2... in catalog order.
    package static let descriptionSlot = -1

    package let actionId: String
    package let slot: Int
    package let textHash: UInt64

    package init(actionId: String, slot: Int, textHash: UInt64) {
        self.actionId = actionId
        self.slot = slot
        self.textHash = textHash
    }
}

/// Every seed (and description) vector of a catalog in one row-major [rows x dimension] array,
/// each action's rows contiguous, so scoring a query is one matrix-vector product
/// (`cblas_sgemv`: fast in debug builds too) and a pass over per-action row ranges.
package struct SeedMatrix: Sendable {
    package let modelId: String
    package let dimension: Int
    package let keys: [SeedKey]
    /// Row-major, `keys.count * dimension` floats, L2-normalised rows.
    let vectors: [Float]
    /// Per catalog action, its rows.
    let actionRows: [Range<Int>]
    /// Row of each key, for reuse by the next build.
    let rowOfKey: [SeedKey: Int]

    package var rowCount: Int { keys.count }

    /// The texts the prepared actions embed, in row order, and each action's rows.
    static func plannedRows(_ prepared: [PreparedAction]) -> (keys: [SeedKey], texts: [String], ranges: [Range<Int>]) {
        var keys: [SeedKey] = [], texts: [String] = [], ranges: [Range<Int>] = []
        let total = prepared.reduce(0) { $0 + $1.rows.count }
        keys.reserveCapacity(total)
        texts.reserveCapacity(total)
        ranges.reserveCapacity(prepared.count)
        for action in prepared {
            let start = keys.count
            for row in action.rows {
                keys.append(row.key)
                texts.append(row.text)
            }
            ranges.append(start..<keys.count)
        }
        return (keys, texts, ranges)
    }

    /// Where a build's rows came from, and how long the provider took for the rest.
    package struct BuildReport: Sendable, Hashable {
        /// Texts sent to the provider (identical texts of one build count once).
        package var embedded = 0
        /// Rows copied from the previous matrix (a reload).
        package var reused = 0
        /// Rows copied from a seed vector file.
        package var fromFile = 0
        package var embedMilliseconds = 0.0

        package init(embedded: Int = 0, reused: Int = 0, fromFile: Int = 0, embedMilliseconds: Double = 0) {
            self.embedded = embedded
            self.reused = reused
            self.fromFile = fromFile
            self.embedMilliseconds = embedMilliseconds
        }
    }

    /// Embeds the configuration's seeds with role `.passage`, in one batch, except the rows whose
    /// key `previous` or else `precomputed` already holds (same model and dimension): after an
    /// edit only new or changed texts are embedded, and a cold start with a current seed vector
    /// file embeds nothing. Identical texts in one build are embedded once.
    static func build(_ prepared: [PreparedAction], provider: any EmbeddingProvider, reusing previous: SeedMatrix?,
                      precomputed: SeedVectorFile? = nil) async throws -> (matrix: SeedMatrix, report: BuildReport) {
        let plan = plannedRows(prepared)
        let dim = provider.dimension
        let reusable = previous.flatMap { $0.modelId == provider.modelId && $0.dimension == dim ? $0 : nil }
        let file = precomputed.flatMap { $0.matches(modelId: provider.modelId, dimension: dim) ? $0 : nil }
        var sources = BuildReport()
        var vectors = [Float](repeating: 0, count: plan.keys.count * dim)
        var missingRowsByText: [String: [Int]] = [:]
        var missingOrder: [String] = []
        vectors.withUnsafeMutableBufferPointer { dst in
            func copy(_ src: [Float], row old: Int, to row: Int) {
                src.withUnsafeBufferPointer { s in
                    (dst.baseAddress! + row * dim).update(from: s.baseAddress! + old * dim, count: dim)
                }
            }
            for (row, key) in plan.keys.enumerated() {
                if let prev = reusable, let old = prev.rowOfKey[key] {
                    copy(prev.vectors, row: old, to: row)
                    sources.reused += 1
                } else if let file, let old = file.rowOfKey[key] {
                    copy(file.vectors, row: old, to: row)
                    sources.fromFile += 1
                } else {
                    let text = plan.texts[row]
                    if missingRowsByText[text] == nil { missingOrder.append(text) }
                    missingRowsByText[text, default: []].append(row)
                }
            }
        }
        if !missingOrder.isEmpty {
            let clock = ContinuousClock(), start = clock.now
            let embeddings = try await provider.embed(missingOrder, role: .passage)
            sources.embedMilliseconds = (clock.now - start).milliseconds
            guard embeddings.count == missingOrder.count else {
                throw EmbeddingError.malformedResponse("asked for \(missingOrder.count) embeddings, got \(embeddings.count)")
            }
            for (text, embedding) in zip(missingOrder, embeddings) {
                guard embedding.vector.count == dim else {
                    throw EmbeddingError.malformedResponse("a vector of \(embedding.vector.count) floats, expected \(dim)")
                }
                for row in missingRowsByText[text]! {
                    vectors.replaceSubrange(row * dim..<(row + 1) * dim, with: embedding.vector)
                }
            }
            sources.embedded = missingOrder.count
        }
        var rowOfKey: [SeedKey: Int] = [:]
        rowOfKey.reserveCapacity(plan.keys.count)
        for (row, key) in plan.keys.enumerated() { rowOfKey[key] = row }
        let matrix = SeedMatrix(modelId: provider.modelId, dimension: dim, keys: plan.keys, vectors: vectors,
                                actionRows: plan.ranges, rowOfKey: rowOfKey)
        return (matrix, sources)
    }

    /// The cosine of the query with every row (vectors are unit length).
    func similarities(_ query: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: keys.count)
        guard !keys.isEmpty, query.count == dimension else { return out }
        vectors.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { y in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(keys.count), Int32(dimension), 1,
                                m.baseAddress, Int32(dimension), q.baseAddress, 1, 0, y.baseAddress, 1)
                }
            }
        }
        return out
    }
}

/// One action's embedding evidence: the aggregated cosine and the row that matched best.
struct SeedAggregate {
    var cosine: Float
    var bestRow: Int?
}

extension SeedMatrix {
    /// Aggregates row similarities per action as the settings say.
    func aggregate(_ sims: [Float], settings: EmbeddingScoring) -> [SeedAggregate] {
        var out: [SeedAggregate] = []
        out.reserveCapacity(actionRows.count)
        var top: [Float] = []
        for range in actionRows {
            guard !range.isEmpty else {
                out.append(SeedAggregate(cosine: 0, bestRow: nil))
                continue
            }
            var best = range.lowerBound
            var sum: Float = 0
            for r in range {
                if sims[r] > sims[best] { best = r }
                sum += sims[r]
            }
            let maxValue = sims[best]
            let value: Float
            switch settings.aggregation {
            case .max: value = maxValue
            case .mean: value = sum / Float(range.count)
            case .maxMean:
                // The k best by insertion: k is a handful, an action a few dozen rows.
                let k = min(settings.meanTopK, range.count)
                top.removeAll(keepingCapacity: true)
                for r in range {
                    let v = sims[r]
                    if top.count < k {
                        top.append(v)
                    } else if v > top[k - 1] {
                        top[k - 1] = v
                    } else {
                        continue
                    }
                    var i = top.count - 1
                    while i > 0 && top[i] > top[i - 1] {
                        top.swapAt(i, i - 1)
                        i -= 1
                    }
                }
                var s: Float = 0
                for v in top { s += v }
                let w = Float(settings.meanWeight)
                value = (1 - w) * maxValue + w * s / Float(k)
            }
            out.append(SeedAggregate(cosine: value, bestRow: best))
        }
        return out
    }
}
