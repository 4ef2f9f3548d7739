import DocumentStore
import Embeddings
import LambdaEvents

/// Library errors to the documented HTTP error shape, one honest status per case: input the
/// caller can fix is 4xx, a dependency that is down is 503 (with its reason), and only a bug
/// is a 500.
public enum ErrorMapping {
    public static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as StoreError: return apiError(e)
        case let e as EmbeddingError: return apiError(e)
        default: return .internalError()
        }
    }

    public static func apiError(_ e: StoreError) -> APIError {
        switch e {
        case .invalidInput(let field, let reason):
            return .unprocessable("Invalid \(field): \(reason).", details: ["field": .string(field)])
        case .conflict(let m): return .conflict(m)
        case .notFound: return .notFound()
        case .leaseLost, .database: return .internalError()
        case .unavailable(let m): return .serviceUnavailable("The database is unavailable: \(m)")
        case .schema(let m): return .serviceUnavailable("The database schema is not ready: \(m)")
        }
    }

    public static func apiError(_ e: EmbeddingError) -> APIError {
        switch e {
        case .invalidInput(let m): return .unprocessable(m)
        case .rateLimited(let after, _):
            return .tooManyRequests("The embedding provider is rate limiting; try again shortly.",
                                    retryAfterSeconds: after.map { Int($0.rounded(.up)) })
        case .unavailable, .unauthorized, .badRequest, .malformedResponse, .providerFailed, .modelMissing, .modelCorrupt, .configuration:
            // The caller cannot fix any of these: the deployment (or the provider) must.
            return .serviceUnavailable(e.description)
        }
    }

    /// Runs `body`, mapping whatever it throws.
    public static func mapping<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        do { return try await body() } catch { throw apiError(error) }
    }
}
