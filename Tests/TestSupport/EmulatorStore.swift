import Foundation
import PostgresClient

/// The environment that puts an emulator's handlers on a fresh schema of the real Postgres,
/// named through libpq's `options` as a deployment would (`search_path`, then `public` for
/// pgvector's type).
package enum EmulatorStore {
    package static func postgresEnvironment(schemaPrefix prefix: String) throws -> [String: String] {
        let url = try PostgresTestServer.url(schemaPrefix: prefix)
        let schema = PostgresTestServer.schemaName(prefix: prefix)
        _ = try PostgresConnection(url: url).execute("CREATE SCHEMA \(schema)")
        return ["DATABASE_URL": url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)%2Cpublic"]
    }
}
