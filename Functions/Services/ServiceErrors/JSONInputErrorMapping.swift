import JSON
import LambdaEvents

/// A request body's problem as the documented error: 400 for a body or field of the wrong
/// shape, 422 for a value that breaks a rule, 413 for one too large; the field in `details`.
extension JSONInputError: APIErrorConvertible {
    package var apiError: APIError {
        switch kind {
        case .notAnObject: return .badRequest(message, code: "invalid_json")
        case .malformed: return .invalidField(field ?? "", message, malformed: true)
        case .invalid: return .invalidField(field ?? "", message)
        case .tooLarge:
            return APIError(status: 413, code: "payload_too_large", message: message,
                            details: field.map { ["field": .string($0)] } ?? [:])
        }
    }
}
