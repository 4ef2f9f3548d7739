#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// An error every endpoint reports the same way (docs/ARCHITECTURE.md, section 4):
/// `{"error":{"code":"...","message":"...","details":{}},"requestId":"..."}` with an honest status.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var details: JSONObject
    /// Extra response headers, e.g. `Allow` on a 405 or `Retry-After` on a 429.
    public var headers: [String: String]

    public init(status: Int, code: String, message: String, details: JSONObject = [:], headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String, code: String = "invalid_request", details: JSONObject = [:]) -> APIError {
        APIError(status: 400, code: code, message: message, details: details)
    }
    public static func unauthorized(_ message: String = "A valid bearer token is required.") -> APIError {
        APIError(status: 401, code: "unauthorized", message: message)
    }
    public static func forbidden(_ message: String) -> APIError {
        APIError(status: 403, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String = "Not found.") -> APIError {
        APIError(status: 404, code: "not_found", message: message)
    }
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(
            status: 405, code: "method_not_allowed", message: "\(method) is not allowed here.",
            details: ["allowed": .array(allowed.map { .string($0) })], headers: ["allow": allowed.joined(separator: ", ")])
    }
    public static func conflict(_ message: String) -> APIError {
        APIError(status: 409, code: "conflict", message: message)
    }
    public static func payloadTooLarge(_ message: String) -> APIError {
        APIError(status: 413, code: "payload_too_large", message: message)
    }
    public static func unsupportedMediaType(_ message: String) -> APIError {
        APIError(status: 415, code: "unsupported_media_type", message: message)
    }
    public static func unprocessable(_ message: String, details: JSONObject = [:]) -> APIError {
        APIError(status: 422, code: "validation_failed", message: message, details: details)
    }
    /// A field the caller must fix: 400 when its type is wrong (the body is malformed), 422 when
    /// the value is well-formed but not allowed. The field is named in `details.field`.
    public static func invalidField(_ field: String, _ message: String, malformed: Bool = false) -> APIError {
        malformed ? .badRequest(message, details: ["field": .string(field)]) : .unprocessable(message, details: ["field": .string(field)])
    }
    public static func tooManyRequests(_ message: String, retryAfterSeconds: Int? = nil) -> APIError {
        APIError(status: 429, code: "too_many_requests", message: message,
                 headers: retryAfterSeconds.map { ["retry-after": String($0)] } ?? [:])
    }
    public static func internalError(_ message: String = "Internal error.") -> APIError {
        APIError(status: 500, code: "internal_error", message: message)
    }
    public static func notImplemented(_ message: String) -> APIError {
        APIError(status: 501, code: "not_implemented", message: message)
    }
    public static func badGateway(_ message: String, code: String = "bad_gateway") -> APIError {
        APIError(status: 502, code: code, message: message)
    }
    public static func serviceUnavailable(_ message: String, details: JSONObject = [:]) -> APIError {
        APIError(status: 503, code: "service_unavailable", message: message, details: details)
    }
    public static func gatewayTimeout(_ message: String) -> APIError {
        APIError(status: 504, code: "timeout", message: message)
    }

    /// The documented body, as JSON bytes.
    public func body(requestId: String?) -> Data {
        let envelope = ErrorEnvelope(error: .init(code: code, message: message, details: details), requestId: requestId)
        return (try? HTTPBody.encoder.encode(envelope)) ?? Data(#"{"error":{"code":"internal_error","message":"unencodable error","details":{}}}"#.utf8)
    }
}

/// The wire form of an error, also what clients decode.
public struct ErrorEnvelope: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var details: JSONObject

        public init(code: String, message: String, details: JSONObject = [:]) {
            self.code = code
            self.message = message
            self.details = details
        }
    }
    public var error: Body
    public var requestId: String?

    public init(error: Body, requestId: String?) {
        self.error = error
        self.requestId = requestId
    }
}

enum HTTPBody {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()
}
