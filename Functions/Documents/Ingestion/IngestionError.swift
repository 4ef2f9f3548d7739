
/// Why a document cannot be ingested. The first two are the client's (415/422 at upload, a
/// failed job in the worker that retrying will not fix); the last two are the deployment's
/// or the moment's (5xx, worth retrying once fixed).
package enum IngestionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not one of the accepted types (a PNG, a ZIP, a declared `image/png`...). 415.
    /// `detected`: what the bytes are (a MIME type), `declared`: the Content-Type as given.
    case unsupportedType(detected: String, declared: String?)
    /// A text type in a character encoding we do not convert (Shift_JIS, KOI8-R...). 415.
    case unsupportedCharset(String)
    /// One of our types but unusable: invalid UTF-8, invalid JSON, an encrypted or image-only
    /// PDF, no text at all. 422. The reason is a sentence a user can act on.
    case invalidContent(String)
    /// A tool the extraction needs is not installed (`pdftotext`). 503: a deployment problem.
    case extractorUnavailable(String)
    /// The extraction did not finish in time (the process was killed). Retryable (504).
    case extractionTimedOut(seconds: Double)

    package var description: String {
        switch self {
        case .unsupportedType(let detected, let declared):
            let accepted = DocumentType.allCases.map(\.mimeType).joined(separator: ", ")
            let what = detected == "application/octet-stream" ? "binary data" : detected
            if let declared, !declared.isEmpty, MediaType(declared).essence != detected {
                return "unsupported document type: the content is \(what) (declared as \(declared)); accepted types: \(accepted)"
            }
            return "unsupported document type: \(what); accepted types: \(accepted)"
        case .unsupportedCharset(let charset):
            let accepted = TextEncoding.allCases.map(\.rawValue).joined(separator: ", ")
            return "unsupported charset \(charset): convert the text to UTF-8 (accepted charsets: \(accepted))"
        case .invalidContent(let reason):
            return "the document cannot be read: \(reason)"
        case .extractorUnavailable(let reason):
            return "text extraction is unavailable: \(reason)"
        case .extractionTimedOut(let seconds):
            return "text extraction did not finish within \(Self.format(seconds)) s and was stopped"
        }
    }

    /// The HTTP status the upload API answers with.
    package var httpStatus: Int {
        switch self {
        case .unsupportedType, .unsupportedCharset: 415
        case .invalidContent: 422
        case .extractorUnavailable: 503
        case .extractionTimedOut: 504
        }
    }

    /// Whether the same bytes can succeed later (after a deployment fix or on a quieter
    /// machine): the worker retries these with backoff and fails the others at once.
    package var isRetryable: Bool {
        switch self {
        case .unsupportedType, .unsupportedCharset, .invalidContent: false
        case .extractorUnavailable, .extractionTimedOut: true
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
