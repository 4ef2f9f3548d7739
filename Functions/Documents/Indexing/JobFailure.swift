import Documents
import Foundation
import DocumentStore
import Embeddings
import Ingestion
import JSON

/// Why an attempt failed, and whether trying again later can help. Kept on the job (and on
/// the failed version) word for word, so `GET /v1/jobs/{id}` says what went wrong.
package struct JobFailure: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    /// False: the same input will fail the same way (unreadable content, a missing blob), so
    /// the job goes `dead` at once instead of burning its attempts.
    package var retryable: Bool
    /// Set when the job must wait rather than fail (a spent budget): it goes back to the queue
    /// until then without spending an attempt.
    package var deferUntil: Date?

    package init(_ message: String, retryable: Bool, deferUntil: Date? = nil) {
        self.message = message
        self.retryable = retryable
        self.deferUntil = deferUntil
    }

    package var description: String { message }

    /// Any error an attempt can meet, classified.
    package static func from(_ error: any Error) -> JobFailure {
        switch error {
        case let f as JobFailure:
            return f
        case let e as IngestionError:
            return JobFailure("extraction failed: \(e.description)", retryable: e.isRetryable)
        case let e as EmbeddingError:
            switch e {
            case .invalidInput, .badRequest, .modelMissing, .modelCorrupt, .configuration, .personalData:
                return JobFailure("embedding failed: \(e.description)", retryable: false)
            case .providerFailed, .unauthorized, .rateLimited, .unavailable, .malformedResponse:
                // A key can be fixed and a provider can come back: worth the backoff.
                return JobFailure("embedding failed: \(e.description)", retryable: true)
            case .budgetExceeded(let until, _):
                return JobFailure("deferred until \(Timestamps.iso8601Seconds(Int64(until.timeIntervalSince1970 * 1000))): \(e.description)", retryable: true, deferUntil: until)
            }
        case let e as BlobStoreError:
            switch e {
            case .notFound, .invalidURI: return JobFailure("the document's file is gone: \(e.description)", retryable: false)
            case .io, .unavailable: return JobFailure("reading the document's file failed: \(e.description)", retryable: true)
            // A bucket policy or a bucket can be fixed while the job waits out its backoff.
            case .accessDenied, .noSuchBucket: return JobFailure("reading the document's file failed: \(e.description)", retryable: true)
            case .configuration: return JobFailure("the blob store is misconfigured: \(e.description)", retryable: false)
            }
        case let e as StoreError:
            switch e {
            case .invalidInput: return JobFailure("the store refused the version: \(e.description)", retryable: false)
            default: return JobFailure("store error: \(e.description)", retryable: true)
            }
        default:
            return JobFailure("\(error)", retryable: true)
        }
    }
}
