/// A JSON request body that cannot be used: what kind of problem, which field, and why, in words
/// for the caller. No HTTP here: the request parsers of Retrieval and Generation throw it, and
/// `ServiceErrors` gives it its status (400 for a body or field of the wrong shape, 422 for a
/// value out of its rules, 413 for one too large).
public struct JSONInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The body is not a JSON object.
        case notAnObject
        /// A field has the wrong JSON type (a string where a number goes).
        case malformed
        /// A field's value breaks a rule (empty, out of range, unknown).
        case invalid
        /// A field is larger than allowed.
        case tooLarge
    }

    public var kind: Kind
    /// The field's path (`filters.metadata.team`), nil for the body as a whole.
    public var field: String?
    public var message: String

    public init(_ kind: Kind, field: String?, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public static let notAnObject = JSONInputError(.notAnObject, field: nil, "The body must be a JSON object.")

    public var description: String { message }
}
