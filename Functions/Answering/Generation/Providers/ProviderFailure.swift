/// Why one call to a provider failed, sorted by what the fallback chain does about it (see
/// `ProviderCall.classify`): wait and retry, retry then switch, shrink the prompt, disable the
/// provider for a while, or switch at once.
package struct ProviderFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, Equatable {
        /// 429: the provider asks us to slow down (`retryAfter` when it said how long).
        case rateLimited = "rate_limited"
        /// 5xx, 529 overloaded: retry with backoff, then switch.
        case serverError = "server_error"
        /// Refused or dropped connection, DNS: retry with backoff, then switch.
        case network = "network_error"
        /// No answer within the call's timeout: retry once with a longer one, then switch.
        case timedOut = "timed_out"
        /// 401/403, an invalid key: the provider is disabled for a cooldown.
        case unauthorized
        /// Credits or quota exhausted (402, OpenAI's `insufficient_quota`, Anthropic's credit
        /// balance): disabled for a cooldown, like a bad key.
        case billing
        /// The prompt is longer than the model takes: drop the lowest-ranked chunks and retry.
        case contextLength = "context_length"
        /// The provider refused to answer (safety filter, blocked prompt): switch.
        case contentFilter = "content_filter"
        /// 404: the model (or the URL) does not exist: try the fallback model, then switch.
        case notFound = "not_found"
        /// Any other 4xx: the request is wrong for this provider; switch.
        case badRequest = "bad_request"
        /// 200 with something that is not an answer (not JSON, no text).
        case malformed = "malformed_response"
        /// Stopped by us: the client of a streamed answer went away.
        case cancelled
    }

    package var kind: Kind
    package var message: String
    package var httpStatus: Int?
    package var retryAfter: Duration?

    package init(_ kind: Kind, _ message: String, httpStatus: Int? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    package var description: String {
        "\(kind.rawValue)" + (httpStatus.map { " (HTTP \($0))" } ?? "") + ": \(message)"
    }
}
