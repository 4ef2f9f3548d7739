import Ingestion
import JSON
import LambdaEvents

extension IngestionError: APIErrorConvertible {
    /// The documented error body (docs/ARCHITECTURE.md, section 4) for an ingestion error: what an upload
    /// or a job answers. Declared here, beside the handlers; the Ingestion library knows no HTTP.
    package var apiError: APIError {
        switch self {
        case .unsupportedType(let detected, let declared):
            var details: JSONObject = [
                "detected": .string(detected),
                "accepted": .array(DocumentType.allCases.map { .string($0.mimeType) }),
            ]
            if let declared { details["declared"] = .string(declared) }
            return APIError(status: 415, code: "unsupported_media_type", message: description, details: details)
        case .unsupportedCharset(let charset):
            return APIError(status: 415, code: "unsupported_media_type", message: description,
                            details: ["charset": .string(charset), "accepted": .array(TextEncoding.allCases.map { .string($0.rawValue) })])
        case .invalidContent:
            return APIError(status: 422, code: "invalid_document", message: description)
        case .extractorUnavailable:
            return APIError(status: 503, code: "extractor_unavailable", message: description)
        case .extractionTimedOut:
            return APIError(status: 504, code: "extraction_timeout", message: description)
        }
    }
}
