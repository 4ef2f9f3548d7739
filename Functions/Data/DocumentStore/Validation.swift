import Foundation
import JSON

/// Input rules both stores enforce before touching the database, so they fail the same way.
package enum StoreValidation {
    /// Metadata is for filtering, not storage: 16 KB of JSON at most.
    package static let maxMetadataBytes = 16 * 1024
    package static let maxDimension = 4096

    package static func vector(_ v: [Float], dim: Int, field: String = "vector") throws(StoreError) {
        guard !v.isEmpty else { throw .invalidInput(field: field, reason: "the vector is empty") }
        guard v.count == dim else {
            throw .invalidInput(field: field, reason: "expected \(dim) dimensions, got \(v.count)")
        }
        guard v.allSatisfy(\.isFinite) else { throw .invalidInput(field: field, reason: "the vector holds NaN or infinity") }
    }

    /// Why a version of a model cannot take another size: vectors of one model id are compared
    /// with each other, so they must all have one size.
    package static func dimensionConflict(model: String, stored: Int, new: Int) -> String {
        "\(model) already has \(stored)-dimensional vectors in this store; a \(new)-dimensional version cannot join them. "
            + "Keep the model's size (EMBEDDING_DIMENSIONS=\(stored)) or re-embed under a new model id"
    }

    package static func dimension(_ dim: Int) throws(StoreError) {
        guard dim > 0, dim <= maxDimension else { throw .invalidInput(field: "dim", reason: "must be 1-\(maxDimension), not \(dim)") }
    }

    /// Metadata nests at most this deep (a filter matches top-level keys; deeper JSON is kept as
    /// it is). JSON's encoders give up near 512 levels, and the API's responses wrap metadata in a
    /// few more: without a bound, a 509-level object was stored and every later list of the org
    /// failed to encode.
    package static let maxMetadataDepth = 32

    /// Why `m` cannot be stored as metadata, or nil: too deep, or a number JSON cannot hold
    /// (`1e400` parses as infinity).
    package static func metadataProblem(_ m: JSONObject) -> String? {
        /// `depth`: how many objects and arrays `v` sits in, itself included when it is one.
        func walk(_ v: JSONValue, _ depth: Int) -> String? {
            let tooDeep = "nests objects and arrays deeper than \(maxMetadataDepth) levels"
            switch v {
            case .number(let n): return n.isFinite ? nil : "holds a number JSON cannot represent"
            case .array(let a):
                if depth > maxMetadataDepth { return tooDeep }
                for x in a { if let p = walk(x, depth + 1) { return p } }
                return nil
            case .object(let o):
                if depth > maxMetadataDepth { return tooDeep }
                // A plain loop: `lazy.compactMap(...).first` runs the closure twice per element,
                // which over nested levels is 2^depth walks.
                for x in o.values { if let p = walk(x, depth + 1) { return p } }
                return nil
            default: return nil
            }
        }
        return walk(.object(m), 1)
    }

    package static func metadata(_ m: JSONObject) throws(StoreError) -> String {
        if let problem = metadataProblem(m) { throw .invalidInput(field: "metadata", reason: problem) }
        let text = encode(m)
        guard text.utf8.count <= maxMetadataBytes else {
            throw .invalidInput(field: "metadata", reason: "\(text.utf8.count) bytes of JSON; at most \(maxMetadataBytes)")
        }
        return text
    }

    /// SQLite binds strings as C strings and libpq sends them as C strings, so a NUL would cut a
    /// value short and `id\0x` would select the row `id`. Every string a store method takes from
    /// a caller is checked first; the org needs no check (`OrgID` cannot hold one).
    package static func text(_ value: String, field: String) throws(StoreError) {
        guard !value.utf8.contains(0) else { throw .invalidInput(field: field, reason: "contains a NUL character (U+0000)") }
    }

    package static func text(_ value: String?, field: String) throws(StoreError) {
        if let value { try text(value, field: field) }
    }

    package static func texts(_ values: [String], field: String) throws(StoreError) {
        for v in values { try text(v, field: field) }
    }

    package static func encode(_ m: JSONObject) -> String {
        (try? JSONValue.object(m).encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    package static func decodeObject(_ text: String?) -> JSONObject {
        guard let text, case .object(let o)? = try? JSONValue.parse(Array(text.utf8)) else { return [:] }
        return o
    }

    package static func newId() -> String { UUID().uuidString.lowercased() }
}

extension NewDocument {
    /// The NUL rule over every string the document row takes (metadata travels as JSON text,
    /// where a NUL is escaped, but its keys and values are matched by filters, so they are
    /// checked too).
    package func validateText() throws(StoreError) {
        try StoreValidation.text(title, field: "title")
        try StoreValidation.text(filename, field: "filename")
        try StoreValidation.text(mimeType, field: "mime_type")
        try StoreValidation.text(sha256, field: "sha256")
        try StoreValidation.text(blobURI, field: "blob_uri")
        try StoreValidation.metadataText(metadata, field: "metadata")
    }
}

extension SearchFilter {
    package func validateText() throws(StoreError) {
        try StoreValidation.texts(documentIds ?? [], field: "filter.document_ids")
        for (key, condition) in metadata {
            try StoreValidation.text(key, field: "filter.metadata")
            switch condition {
            case .equals(let v): try StoreValidation.metadataText(["": v], field: "filter.metadata.\(key)")
            case .isIn(let vs): try StoreValidation.metadataText(["": .array(vs)], field: "filter.metadata.\(key)")
            }
        }
    }
}

extension StoreValidation {
    /// NUL anywhere in a JSON value's keys or strings.
    package static func metadataText(_ m: JSONObject, field: String) throws(StoreError) {
        if JSONValue.object(m).pathHoldingNUL() != nil {
            throw .invalidInput(field: field, reason: "contains a NUL character (U+0000)")
        }
    }
}
