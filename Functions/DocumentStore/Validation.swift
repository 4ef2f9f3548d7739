import Foundation
import LambdaEvents

/// Input rules both stores enforce before touching the database, so they fail the same way.
public enum StoreValidation {
    /// Metadata is for filtering, not storage: 16 KB of JSON at most.
    public static let maxMetadataBytes = 16 * 1024
    public static let maxDimension = 4096

    public static func vector(_ v: [Float], dim: Int, field: String = "vector") throws(StoreError) {
        guard !v.isEmpty else { throw .invalidInput(field: field, reason: "the vector is empty") }
        guard v.count == dim else {
            throw .invalidInput(field: field, reason: "expected \(dim) dimensions, got \(v.count)")
        }
        guard v.allSatisfy(\.isFinite) else { throw .invalidInput(field: field, reason: "the vector holds NaN or infinity") }
    }

    /// Why a version of a model cannot take another size: vectors of one model id are compared
    /// with each other, so they must all have one size.
    public static func dimensionConflict(model: String, stored: Int, new: Int) -> String {
        "\(model) already has \(stored)-dimensional vectors in this store; a \(new)-dimensional version cannot join them. "
            + "Keep the model's size (EMBEDDING_DIMENSIONS=\(stored)) or re-embed under a new model id"
    }

    public static func dimension(_ dim: Int) throws(StoreError) {
        guard dim > 0, dim <= maxDimension else { throw .invalidInput(field: "dim", reason: "must be 1-\(maxDimension), not \(dim)") }
    }

    public static func metadata(_ m: [String: JSONValue]) throws(StoreError) -> String {
        let text = encode(m)
        guard text.utf8.count <= maxMetadataBytes else {
            throw .invalidInput(field: "metadata", reason: "\(text.utf8.count) bytes of JSON; at most \(maxMetadataBytes)")
        }
        return text
    }

    /// SQLite binds strings as C strings and libpq sends them as C strings, so a NUL would cut a
    /// value short and `id\0x` would select the row `id`. Every string a store method takes from
    /// a caller is checked first; the org needs no check (`OrgID` cannot hold one).
    public static func text(_ value: String, field: String) throws(StoreError) {
        guard !value.utf8.contains(0) else { throw .invalidInput(field: field, reason: "contains a NUL character (U+0000)") }
    }

    public static func text(_ value: String?, field: String) throws(StoreError) {
        if let value { try text(value, field: field) }
    }

    public static func texts(_ values: [String], field: String) throws(StoreError) {
        for v in values { try text(v, field: field) }
    }

    public static func encode(_ m: [String: JSONValue]) -> String {
        (try? JSONValue.object(m).encoded()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decodeObject(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let o)? = try? JSONValue.parse(Array(text.utf8)) else { return [:] }
        return o
    }

    public static func newId() -> String { UUID().uuidString.lowercased() }
}

extension NewDocument {
    /// The NUL rule over every string the document row takes (metadata travels as JSON text,
    /// where a NUL is escaped, but its keys and values are matched by filters, so they are
    /// checked too).
    public func validateText() throws(StoreError) {
        try StoreValidation.text(title, field: "title")
        try StoreValidation.text(filename, field: "filename")
        try StoreValidation.text(mimeType, field: "mime_type")
        try StoreValidation.text(sha256, field: "sha256")
        try StoreValidation.text(blobURI, field: "blob_uri")
        try StoreValidation.metadataText(metadata, field: "metadata")
    }
}

extension SearchFilter {
    public func validateText() throws(StoreError) {
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
    public static func metadataText(_ m: [String: JSONValue], field: String) throws(StoreError) {
        func walk(_ v: JSONValue) -> Bool {
            switch v {
            case .string(let s): return s.utf8.contains(0)
            case .array(let a): return a.contains(where: walk)
            case .object(let o): return o.contains { $0.key.utf8.contains(0) || walk($0.value) }
            default: return false
            }
        }
        if walk(.object(m)) { throw .invalidInput(field: field, reason: "contains a NUL character (U+0000)") }
    }
}
