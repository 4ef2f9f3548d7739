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

    public static func org(_ org: OrgID) throws(StoreError) {
        guard !org.isEmpty, org.utf8.count <= 200 else { throw .invalidInput(field: "org_id", reason: "must be 1-200 bytes") }
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
