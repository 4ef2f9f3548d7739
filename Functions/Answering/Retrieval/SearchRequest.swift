import DocumentStore
import Foundation
import JSON

/// `POST /v1/search`'s body, decoded and checked. Every rule here is a 400/422 with the field
/// named, never a store error later.
package struct SearchRequest: Sendable, Equatable {
    package enum Mode: String, Sendable, Codable, CaseIterable { case hybrid, dense, keyword }
    package enum Grouping: String, Sendable, Codable { case chunk, document }

    package var query: String
    package var limit: Int
    package var mode: Mode
    package var filter: SearchFilter
    package var groupBy: Grouping
    package var minScore: Float?
    /// Per-request RRF settings (hybrid only); nil fields use the deployment's. They exist so
    /// the evaluation harness can sweep k and the weights through the real API.
    package var fusion: FusionOverride
    /// Reorder the best fused candidates with the deployment's reranker (`RERANK_PROVIDER`).
    package var rerank = false

    package struct FusionOverride: Sendable, Equatable {
        package var k: Double?
        package var denseWeight: Double?
        package var keywordWeight: Double?
        package init(k: Double? = nil, denseWeight: Double? = nil, keywordWeight: Double? = nil) {
            self.k = k
            self.denseWeight = denseWeight
            self.keywordWeight = keywordWeight
        }
        package var isEmpty: Bool { k == nil && denseWeight == nil && keywordWeight == nil }
    }

    package static let maxLimit = 100
    package static let maxQueryCharacters = 2_000
    package static let maxDocumentIds = 1_000

    package init(query: String, limit: Int = 10, mode: Mode = SearchDefaults.mode, filter: SearchFilter = SearchFilter(),
                groupBy: Grouping = .chunk, minScore: Float? = nil, fusion: FusionOverride = FusionOverride()) {
        self.query = query
        self.limit = limit
        self.mode = mode
        self.filter = filter
        self.groupBy = groupBy
        self.minScore = minScore
        self.fusion = fusion
    }

    /// Parses and validates a JSON body.
    package static func parse(_ body: JSONValue) throws(JSONInputError) -> SearchRequest {
        guard case .object(let o) = body else { throw JSONInputError.notAnObject }
        let known: Set<String> = ["query", "limit", "mode", "filters", "group_by", "min_score", "fusion", "rerank"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown field `\(unknown)`; expected one of \(known.sorted().joined(separator: ", "))", field: unknown)
        }
        guard let q = o["query"] else { throw invalid("`query` is required", field: "query") }
        guard let query = q.stringValue else { throw invalid("`query` must be a string", field: "query", status: 400) }
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw invalid("`query` is empty", field: "query") }
        guard trimmed.count <= maxQueryCharacters else {
            throw invalid("`query` has \(trimmed.count) characters; at most \(maxQueryCharacters)", field: "query")
        }
        var r = SearchRequest(query: trimmed)
        if let l = o["limit"], l != .null {
            guard let n = l.intValue, Double(n) == l.doubleValue else { throw invalid("`limit` must be a whole number", field: "limit", status: 400) }
            guard (1...maxLimit).contains(n) else { throw invalid("`limit` must be 1-\(maxLimit), not \(n)", field: "limit") }
            r.limit = n
        }
        if let m = o["mode"], m != .null {
            guard let s = m.stringValue, let mode = Mode(rawValue: s) else {
                throw invalid("`mode` must be hybrid, dense or keyword", field: "mode")
            }
            r.mode = mode
        }
        if let g = o["group_by"], g != .null {
            guard let s = g.stringValue, let grouping = Grouping(rawValue: s) else {
                throw invalid("`group_by` must be chunk or document", field: "group_by")
            }
            r.groupBy = grouping
        }
        if let s = o["min_score"], s != .null {
            guard let x = s.doubleValue, x.isFinite else { throw invalid("`min_score` must be a number", field: "min_score", status: 400) }
            r.minScore = Float(x)
        }
        if let f = o["filters"], f != .null { r.filter = try parseFilter(f) }
        if let v = o["rerank"], v != .null {
            guard let b = v.boolValue else { throw invalid("`rerank` must be true or false", field: "rerank", status: 400) }
            r.rerank = b
        }
        if let f = o["fusion"], f != .null {
            r.fusion = try parseFusion(f)
            guard r.mode == .hybrid || r.fusion.isEmpty else {
                throw invalid("`fusion` applies to mode hybrid only", field: "fusion")
            }
        }
        return r
    }

    /// `{"k": 60, "dense_weight": 1, "keyword_weight": 1}`, each optional.
    static func parseFusion(_ f: JSONValue) throws(JSONInputError) -> FusionOverride {
        guard case .object(let o) = f else { throw invalid("`fusion` must be an object", field: "fusion", status: 400) }
        let known: Set<String> = ["k", "dense_weight", "keyword_weight"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown fusion setting `\(unknown)`; expected one of \(known.sorted().joined(separator: ", "))", field: "fusion.\(unknown)")
        }
        var out = FusionOverride()
        for (name, path, range) in [("k", \FusionOverride.k, 0.0...10_000), ("dense_weight", \FusionOverride.denseWeight, 0...100),
                                    ("keyword_weight", \FusionOverride.keywordWeight, 0...100)] {
            guard let v = o[name], v != .null else { continue }
            guard let x = v.doubleValue, x.isFinite else { throw invalid("`fusion.\(name)` must be a number", field: "fusion.\(name)", status: 400) }
            guard range.contains(x) else {
                throw invalid("`fusion.\(name)` must be \(Int(range.lowerBound))-\(Int(range.upperBound)), not \(x)", field: "fusion.\(name)")
            }
            out[keyPath: path] = x
        }
        if out.denseWeight == 0, out.keywordWeight == 0 {
            throw invalid("`fusion.dense_weight` and `fusion.keyword_weight` cannot both be 0", field: "fusion")
        }
        return out
    }

    static func parseFilter(_ f: JSONValue) throws(JSONInputError) -> SearchFilter {
        guard case .object(let o) = f else { throw invalid("`filters` must be an object", field: "filters", status: 400) }
        let known: Set<String> = ["document_ids", "metadata", "created_after", "created_before"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown filter `\(unknown)`; expected one of \(known.sorted().joined(separator: ", "))", field: "filters.\(unknown)")
        }
        var filter = SearchFilter()
        if let ids = o["document_ids"], ids != .null {
            guard let array = ids.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw invalid("`filters.document_ids` must be an array of strings", field: "filters.document_ids", status: 400)
            }
            guard array.count <= maxDocumentIds else {
                throw invalid("`filters.document_ids` has \(array.count) ids; at most \(maxDocumentIds)", field: "filters.document_ids")
            }
            filter.documentIds = array.compactMap(\.stringValue)
        }
        if let m = o["metadata"], m != .null {
            guard case .object(let conditions) = m else {
                throw invalid("`filters.metadata` must be an object", field: "filters.metadata", status: 400)
            }
            for (key, value) in conditions {
                if case .object(let op) = value {
                    guard op.count == 1, let values = op["$in"]?.arrayValue else {
                        throw invalid("`filters.metadata.\(key)` must be a value or {\"$in\": [values]}", field: "filters.metadata.\(key)")
                    }
                    guard values.allSatisfy(\.isScalar) else {
                        throw invalid("`filters.metadata.\(key).$in` must hold strings, numbers or booleans", field: "filters.metadata.\(key)")
                    }
                    filter.metadata[key] = .isIn(values)
                } else {
                    guard value.isScalar else {
                        throw invalid("`filters.metadata.\(key)` must be a string, number or boolean", field: "filters.metadata.\(key)")
                    }
                    filter.metadata[key] = .equals(value)
                }
            }
        }
        for (name, path) in [("created_after", \SearchFilter.createdAfter), ("created_before", \SearchFilter.createdBefore)] {
            guard let v = o[name], v != .null else { continue }
            guard let s = v.stringValue, let date = parseDate(s) else {
                throw invalid("`filters.\(name)` must be an RFC 3339 date (2026-01-31) or date-time (2026-01-31T09:00:00Z, or with an offset such as +07:00)", field: "filters.\(name)")
            }
            filter[keyPath: path] = date
        }
        if let a = filter.createdAfter, let b = filter.createdBefore, a >= b {
            throw invalid("`filters.created_after` must be before `filters.created_before`", field: "filters")
        }
        return filter
    }

    static func parseDate(_ s: String) -> Date? { RFC3339Date.parse(s) }

    static func invalid(_ message: String, field: String, status: Int = 422) -> JSONInputError {
        JSONInputError(status == 400 ? .malformed : .invalid, field: field, message.prefix(1).uppercased() + message.dropFirst() + ".")
    }
}

extension JSONValue {
    var isScalar: Bool {
        switch self {
        case .string, .number, .bool: true
        default: false
        }
    }
}
