import DocumentStore
import Foundation
import PostgresStore
import SQLiteStore

/// Opens the store `DATABASE_URL` names: `sqlite:///path/to/file` (the embedded default) or
/// `postgres://user:pass@host:5432/db` (pgvector). Handlers call this once at init and keep the
/// store for every warm invocation.
package enum Stores {
    /// - Parameter migrate: apply pending migrations first (safe when processes race).
    package static func open(url: String, migrate: Bool = true, migrationsDirectory: String? = nil) throws(StoreError) -> any Store {
        let store: any Store
        if url.hasPrefix("sqlite:") {
            store = try SQLiteStore(url: url, migrationsDirectory: migrationsDirectory)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            store = try PostgresStore(url: url, migrationsDirectory: migrationsDirectory,
                                      maxConnections: try maxConnections(ProcessInfo.processInfo.environment))
        } else {
            throw .invalidInput(field: "DATABASE_URL",
                                reason: "expected sqlite:///path/to/file or postgres://user:pass@host:5432/db, got \(redacted(url))")
        }
        if migrate { try store.migrate() }
        return store
    }

    /// `POSTGRES_MAX_CONNECTIONS` (1-16, default 2): connections one warm process may hold. A
    /// Lambda process serves one request at a time, and two let hybrid search's arms overlap;
    /// 1 suits a server short of connection slots.
    static func maxConnections(_ environment: [String: String]) throws(StoreError) -> Int {
        guard let raw = environment["POSTGRES_MAX_CONNECTIONS"], !raw.isEmpty else { return 2 }
        guard let n = Int(raw), (1...16).contains(n) else {
            throw .invalidInput(field: "POSTGRES_MAX_CONNECTIONS", reason: "expected a whole number from 1 to 16, got \(raw)")
        }
        return n
    }

    /// The URL without its password, for messages and logs.
    package static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"),
              let colon = url[scheme.upperBound..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}
