import DocumentStore
import Ingestion
import JSON
import LambdaEvents

/// What a re-embed asks for: the model and chunking of the version to build, and whether to
/// rebuild a version that already matches. Stored in the job's `params`, so the job a request
/// queued is the job the worker runs; absent values mean "the deployment's model" and "the
/// document's current chunking (or the defaults for a document with no ready version)".
package struct ReembedParameters: Sendable, Equatable {
    package var model: String?
    package var chunkSize: Int?
    package var chunkOverlap: Int?
    package var force: Bool = false

    package init(model: String? = nil, chunkSize: Int? = nil, chunkOverlap: Int? = nil, force: Bool = false) {
        self.model = model
        self.chunkSize = chunkSize
        self.chunkOverlap = chunkOverlap
        self.force = force
    }

    /// The fields a request may send (and a job's `params` holds).
    static let fields: Set<String> = ["model", "chunk_size", "chunk_overlap", "force"]

    /// From a request body (absent, `null` or `{}` asks for the defaults). Field errors name the
    /// field: 400 for a wrong type, 422 for a value out of range.
    package static func parse(_ body: JSONValue?, extraFields: Set<String> = []) throws(APIError) -> ReembedParameters {
        guard let body, body != .null else { return ReembedParameters() }
        guard case .object(let o) = body else { throw APIError.badRequest("The body must be a JSON object.", code: "invalid_json") }
        let known = fields.union(extraFields)
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.invalidField(unknown, "Unknown field `\(unknown)`; expected one of \(known.sorted().joined(separator: ", ")).")
        }
        var p = ReembedParameters()
        if let m = o["model"], m != .null {
            guard let s = m.stringValue else { throw APIError.invalidField("model", "`model` must be a string.", malformed: true) }
            let trimmed = s.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.utf8.count <= 200 else { throw APIError.invalidField("model", "`model` must be 1-200 bytes.") }
            p.model = trimmed
        }
        func whole(_ name: String) throws(APIError) -> Int? {
            guard let v = o[name], v != .null else { return nil }
            guard let n = v.intValue, Double(n) == v.doubleValue else {
                throw APIError.invalidField(name, "`\(name)` must be a whole number.", malformed: true)
            }
            return n
        }
        p.chunkSize = try whole("chunk_size")
        p.chunkOverlap = try whole("chunk_overlap")
        if let f = o["force"], f != .null {
            guard let b = f.boolValue else { throw APIError.invalidField("force", "`force` must be true or false.", malformed: true) }
            p.force = b
        }
        // Checked here so a bad size is the caller's 422, not a job that dies in the worker. An
        // overlap given alone is checked against the largest size here and against each
        // document's own size when its job is planned (`ReembedAPI`).
        if let size = p.chunkSize {
            do {
                _ = try ChunkerConfiguration(chunkSize: size, overlap: p.chunkOverlap ?? min(ChunkerConfiguration.defaultOverlap, size / 2 - 1))
            } catch {
                throw APIError.invalidField(p.chunkOverlap != nil && ChunkerConfiguration.chunkSizeRange.contains(size) ? "chunk_overlap" : "chunk_size",
                                            "\(error).")
            }
        } else if let overlap = p.chunkOverlap, overlap < 0 || overlap * 2 >= ChunkerConfiguration.chunkSizeRange.upperBound {
            throw APIError.invalidField("chunk_overlap",
                                        "`chunk_overlap` must be from 0 to less than half the largest chunk size (\(ChunkerConfiguration.chunkSizeRange.upperBound)).")
        }
        return p
    }

    /// A job's `params`.
    package init(params: JSONObject) {
        model = params["model"]?.stringValue
        chunkSize = params["chunk_size"]?.intValue
        chunkOverlap = params["chunk_overlap"]?.intValue
        force = params["force"]?.boolValue ?? false
    }

    package var params: JSONObject {
        var out: JSONObject = [:]
        if let model { out["model"] = .string(model) }
        if let chunkSize { out["chunk_size"] = .number(Double(chunkSize)) }
        if let chunkOverlap { out["chunk_overlap"] = .number(Double(chunkOverlap)) }
        if force { out["force"] = .bool(true) }
        return out
    }

    /// The chunking a version built for this request uses: what was asked, else what the
    /// document's ready version used (a model change keeps a document's chunking), else the
    /// deployment's default. An overlap left out shrinks to fit a small asked-for size.
    package func chunking(current: DocVersion?, defaults: ChunkerConfiguration) throws(ChunkerConfigurationError) -> ChunkerConfiguration {
        let size = chunkSize ?? current?.chunkSize ?? defaults.chunkSize
        var overlap = chunkOverlap ?? (chunkSize == nil ? current?.chunkOverlap : nil) ?? defaults.overlap
        if chunkOverlap == nil, overlap * 2 >= size { overlap = max(0, (size - 1) / 2) }
        return try ChunkerConfiguration(chunkSize: size, overlap: overlap)
    }
}

/// The version a job would build, fully resolved: what "already up to date" compares against.
package struct VersionTarget: Sendable, Equatable {
    package var model: String
    package var chunking: ChunkerConfiguration
    package var chunkerVersion: String

    package init(model: String, chunking: ChunkerConfiguration, chunkerVersion: String = Chunker.version) {
        self.model = model
        self.chunking = chunking
        self.chunkerVersion = chunkerVersion
    }

    /// True when `version` was built exactly this way from `sourceSha256`.
    package func matches(_ version: DocVersion, sourceSha256: String) -> Bool {
        version.embedModel == model && version.chunkSize == chunking.chunkSize && version.chunkOverlap == chunking.overlap
            && version.chunkerVersion == chunkerVersion && version.sourceSha256 == sourceSha256
    }

    /// The idempotency key of a re-embed job for this target: the same request while its job is
    /// live gets that job back.
    package func jobKey(documentId: String, force: Bool) -> String {
        "reembed:\(documentId):\(model):\(chunking.chunkSize):\(chunking.overlap):\(chunkerVersion)\(force ? ":force" : "")"
    }
}
