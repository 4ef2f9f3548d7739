/// Why a store call failed, typed so handlers map each case to an honest status.
package enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Input the store refuses (empty or wrong-dimension vector, NaN, oversized metadata...):
    /// a 4xx, never a 500.
    case invalidInput(field: String, reason: String)
    /// The row exists but is in a state that forbids the change (publishing a failed version).
    case conflict(String)
    case notFound(String)
    /// A worker no longer holds the job's lease (it expired and another worker took it).
    case leaseLost(jobId: String)
    /// The database cannot be reached or refused the connection: a 503.
    case unavailable(String)
    /// The schema is not what this build expects (migrations missing or from the future).
    case schema(String)
    /// Anything else from the database, with its message.
    case database(String)

    package var description: String {
        switch self {
        case .invalidInput(let f, let r): "Invalid \(f): \(r)"
        case .conflict(let m): "Conflict: \(m)"
        case .notFound(let m): "Not found: \(m)"
        case .leaseLost(let id): "The lease on job \(id) was lost."
        case .unavailable(let m): "The database is unavailable: \(m)"
        case .schema(let m): "Schema: \(m)"
        case .database(let m): "Database error: \(m)"
        }
    }
}
