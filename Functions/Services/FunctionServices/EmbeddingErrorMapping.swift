import Embeddings
import LambdaEvents
import ServiceErrors

/// The embedding errors' HTTP meaning, declared here where the embedder meets the handlers (the
/// Embeddings module knows nothing of HTTP).
extension EmbeddingError: APIErrorConvertible {
    package var apiError: APIError {
        switch self {
        case .invalidInput(let m): return .unprocessable(m)
        case .personalData: return .unprocessable(description)
        case .rateLimited(let after, _):
            return .tooManyRequests("The embedding provider is rate limiting; try again shortly.",
                                    retryAfterSeconds: after.map { Int($0.rounded(.up)) })
        case .unavailable, .unauthorized, .budgetExceeded, .badRequest, .malformedResponse, .providerFailed, .modelMissing, .modelCorrupt, .configuration:
            // The caller cannot fix any of these: the deployment (or the provider) must.
            return .serviceUnavailable(description)
        }
    }
}
