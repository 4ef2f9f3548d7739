import DocumentStore
import LambdaEvents

/// An error from a library below the handlers that has an HTTP meaning. The libraries do not
/// know HTTP: the conformance is declared beside the code that joins them to a handler
/// (`FunctionServices` for the embedding errors), and `ErrorMapping` is the one place that asks.
package protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}

/// Library errors to the documented HTTP error shape, one honest status per case: input the
/// caller can fix is 4xx, a dependency that is down is 503 (with its reason), and only a bug
/// is a 500. A module of its own, apart from the embedding code, so that a handler that never
/// embeds (`upload`) maps store errors without linking the model's BLAS.
package enum ErrorMapping {
    package static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as StoreError: return apiError(e)
        case let e as any APIErrorConvertible: return e.apiError
        default: return .internalError()
        }
    }

    package static func apiError(_ e: StoreError) -> APIError {
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

    /// Runs `body`, mapping whatever it throws.
    package static func mapping<T>(_ body: () async throws -> T) async throws(APIError) -> T {
        do { return try await body() } catch { throw apiError(error) }
    }
}

/// Why a function could not start: its configuration, named for the operator.
package enum StartupError: Error, CustomStringConvertible {
    case configuration(String)
    package var description: String {
        switch self { case .configuration(let m): m }
    }
}
