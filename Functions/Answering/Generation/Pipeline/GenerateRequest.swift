import Foundation
import JSON

/// `POST /v1/generate`'s body, decoded and checked (the seed's input shape and security limits).
/// A wrong type is 400, a value out of bounds 422, too much context 413; the field is named.
package struct GenerateRequest: Sendable, Equatable {
    package var query: String
    /// nil: retrieve from the org. Given (even empty): used as given.
    package var contextChunks: [ContextChunk]?
    package var userContext: [String: String]?
    package var history: [ChatMessage]
    package var preferredProvider: String?
    /// nil: detected from the query.
    package var language: Language?
    package var maxTokens: Int?
    package var temperature: Double?
    /// `"stream": true`: the answer as server-sent events (`GenerationEvent`).
    package var stream = false

    package init(query: String, contextChunks: [ContextChunk]? = nil, userContext: [String: String]? = nil, history: [ChatMessage] = [],
                preferredProvider: String? = nil, language: Language? = nil, maxTokens: Int? = nil, temperature: Double? = nil) {
        self.query = query
        self.contextChunks = contextChunks
        self.userContext = userContext
        self.history = history
        self.preferredProvider = preferredProvider
        self.language = language
        self.maxTokens = maxTokens
        self.temperature = temperature
    }

    /// A personalised answer (who asks, what was said before) is never served from the cache.
    package var isPersonalised: Bool { !(userContext ?? [:]).isEmpty || !history.isEmpty }

    static let known: Set<String> = ["query", "context_chunks", "user_context", "conversation_history", "preferred_provider",
                                     "language", "max_tokens", "temperature", "stream"]
    static let chunkKeys: Set<String> = ["chunk_id", "content", "metadata", "document_id", "title", "page", "score"]

    /// - Parameter providers: the configured provider names `preferred_provider` may name.
    package static func parse(_ body: JSONValue, limits: InputLimits, providers: [String]) throws(JSONInputError) -> GenerateRequest {
        guard case .object(let o) = body else { throw JSONInputError.notAnObject }
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown field `\(unknown)`; expected one of \(known.sorted().joined(separator: ", "))", field: unknown)
        }
        guard let q = o["query"], q != .null else { throw invalid("`query` is required", field: "query") }
        guard let rawQuery = q.stringValue else { throw invalid("`query` must be a string", field: "query", status: 400) }
        let query = rawQuery.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { throw invalid("`query` is empty", field: "query") }
        guard query.count <= limits.maxQueryCharacters else {
            throw invalid("`query` has \(query.count) characters; at most \(limits.maxQueryCharacters)", field: "query")
        }
        var r = GenerateRequest(query: query)
        if let v = o["stream"], v != .null {
            guard case .bool(let b) = v else { throw invalid("`stream` must be true or false", field: "stream", status: 400) }
            r.stream = b
        }

        if let c = o["context_chunks"], c != .null {
            guard let items = c.arrayValue else { throw invalid("`context_chunks` must be an array", field: "context_chunks", status: 400) }
            guard items.count <= limits.maxContextChunks else {
                throw invalid("`context_chunks` has \(items.count) chunks; at most \(limits.maxContextChunks)", field: "context_chunks")
            }
            var chunks: [ContextChunk] = []
            var total = 0
            for (i, item) in items.enumerated() {
                let chunk = try parseChunk(item, index: i, limits: limits)
                total += chunk.content.count
                chunks.append(chunk)
            }
            guard total <= limits.maxContextCharacters else {
                throw JSONInputError(.tooLarge, field: "context_chunks", "`context_chunks` hold \(total) characters in all; at most \(limits.maxContextCharacters).")
            }
            r.contextChunks = chunks
        }

        if let u = o["user_context"], u != .null {
            guard case .object(let fields) = u else { throw invalid("`user_context` must be an object", field: "user_context", status: 400) }
            var out: [String: String] = [:]
            for (k, v) in fields where v != .null {
                switch v {
                case .string(let s): out[k] = s
                case .number, .bool: out[k] = v.textValue
                default: throw invalid("`user_context.\(k)` must be a string", field: "user_context.\(k)", status: 400)
                }
                guard out[k]!.count <= 200 else { throw invalid("`user_context.\(k)` is longer than 200 characters", field: "user_context.\(k)") }
            }
            guard out.count <= 20 else { throw invalid("`user_context` has more than 20 fields", field: "user_context") }
            r.userContext = out
        }

        if let h = o["conversation_history"], h != .null {
            guard let turns = h.arrayValue else {
                throw invalid("`conversation_history` must be an array", field: "conversation_history", status: 400)
            }
            guard turns.count <= limits.maxHistoryTurns else {
                throw invalid("`conversation_history` has \(turns.count) turns; at most \(limits.maxHistoryTurns)", field: "conversation_history")
            }
            var total = 0
            for (i, t) in turns.enumerated() {
                let field = "conversation_history[\(i)]"
                guard case .object(let turn) = t else { throw invalid("`\(field)` must be an object", field: field, status: 400) }
                guard let roleText = turn["role"]?.stringValue, let role = ChatMessage.Role(rawValue: roleText) else {
                    throw invalid("`\(field).role` must be user or assistant", field: "\(field).role")
                }
                guard let content = turn["content"]?.stringValue else {
                    throw invalid("`\(field).content` must be a string", field: "\(field).content", status: 400)
                }
                total += content.count
                r.history.append(ChatMessage(role: role, content: content))
            }
            guard total <= limits.maxHistoryCharacters else {
                throw JSONInputError(.tooLarge, field: "conversation_history", "`conversation_history` holds \(total) characters; at most \(limits.maxHistoryCharacters).")
            }
        }

        if let p = o["preferred_provider"], p != .null {
            guard let name = p.stringValue else { throw invalid("`preferred_provider` must be a string", field: "preferred_provider", status: 400) }
            guard providers.contains(name) else {
                throw invalid("`preferred_provider` `\(name)` is not configured; expected one of \(providers.joined(separator: ", "))",
                              field: "preferred_provider")
            }
            r.preferredProvider = name
        }
        if let l = o["language"], l != .null {
            guard let s = l.stringValue else { throw invalid("`language` must be a string", field: "language", status: 400) }
            if s != "auto" {
                guard let language = Language(rawValue: s.lowercased()) else { throw invalid("`language` must be vi, en or auto", field: "language") }
                r.language = language
            }
        }
        if let m = o["max_tokens"], m != .null {
            guard let n = m.intValue else { throw invalid("`max_tokens` must be a whole number", field: "max_tokens", status: 400) }
            guard (1...limits.maxOutputTokens).contains(n) else {
                throw invalid("`max_tokens` must be 1-\(limits.maxOutputTokens), not \(n)", field: "max_tokens")
            }
            r.maxTokens = n
        }
        if let t = o["temperature"], t != .null {
            guard let x = t.doubleValue, x.isFinite else { throw invalid("`temperature` must be a number", field: "temperature", status: 400) }
            guard (0...2).contains(x) else { throw invalid("`temperature` must be 0-2, not \(x)", field: "temperature") }
            r.temperature = x
        }
        return r
    }

    static func parseChunk(_ item: JSONValue, index i: Int, limits: InputLimits) throws(JSONInputError) -> ContextChunk {
        let field = "context_chunks[\(i)]"
        guard case .object(let c) = item else { throw invalid("`\(field)` must be an object", field: field, status: 400) }
        if let unknown = c.keys.sorted().first(where: { !chunkKeys.contains($0) }) {
            throw invalid("unknown field `\(field).\(unknown)`; expected one of \(chunkKeys.sorted().joined(separator: ", "))",
                          field: "\(field).\(unknown)")
        }
        guard let content = c["content"]?.stringValue else {
            throw invalid("`\(field).content` is required and must be a string", field: "\(field).content", status: c["content"] == nil ? 422 : 400)
        }
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw invalid("`\(field).content` is empty", field: "\(field).content")
        }
        guard content.count <= limits.maxChunkCharacters else {
            throw JSONInputError(.tooLarge, field: "\(field).content", "`\(field).content` has \(content.count) characters; at most \(limits.maxChunkCharacters).")
        }
        if let raw = c["chunk_id"], raw != .null, raw.stringValue == nil {
            throw invalid("`\(field).chunk_id` must be a string", field: "\(field).chunk_id", status: 400)
        }
        guard let id = c["chunk_id"]?.stringValue, !id.isEmpty, id.count <= 200 else {
            throw invalid("`\(field).chunk_id` is required: a string of 1-200 characters", field: "\(field).chunk_id")
        }
        let meta: JSONObject
        switch c["metadata"] {
        case nil, .null?: meta = [:]
        case .object(let m)?: meta = m
        default: throw invalid("`\(field).metadata` must be an object", field: "\(field).metadata", status: 400)
        }
        func text(_ key: String) -> String? { (c[key] ?? meta[key])?.stringValue }
        let page = (c["page"] ?? meta["page"])?.intValue
        var relevance: Double? = nil
        // The score may come as `score` or in the metadata (`confidence_score`, `score`); errors name
        // the one that was given.
        let scoreField = c["score"] != nil ? "score" : meta["confidence_score"] != nil ? "metadata.confidence_score" : "metadata.score"
        if let s = c["score"] ?? meta["confidence_score"] ?? meta["score"], s != .null {
            guard let x = s.doubleValue else {
                throw invalid("`\(field).\(scoreField)` must be a number", field: "\(field).\(scoreField)", status: 400)
            }
            guard x.isFinite, (0...1).contains(x) else {
                throw invalid("`\(field).\(scoreField)` must be a number in 0-1", field: "\(field).\(scoreField)")
            }
            relevance = x
        }
        return ContextChunk(chunkId: id, documentId: text("document_id"), title: text("title"), page: page, content: content,
                            relevance: relevance)
    }

    static func invalid(_ message: String, field: String, status: Int = 422) -> JSONInputError {
        JSONInputError(status == 400 ? .malformed : .invalid, field: field, message.prefix(1).uppercased() + message.dropFirst() + ".")
    }
}
