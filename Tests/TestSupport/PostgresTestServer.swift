import Foundation
import PostgresClient
import Synchronization

/// The real Postgres the tests use: `TEST_POSTGRES_URL` (set by scripts/test.sh), else the
/// server `infra/postgres.sh start` runs. Each suite gives its schemas a prefix of its own and
/// asks for the URL with it: schemas of that prefix left by earlier runs are dropped once per
/// process, and never another suite's (they run at the same time).
package enum PostgresTestServer {
    package struct Unavailable: Error, CustomStringConvertible { public let description: String }

    static let started: Result<String, Unavailable> = {
        let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"] ?? ""
        if !url.isEmpty { return .success(url) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [TestPaths.packageRoot + "/infra/postgres.sh", "start"]
        p.currentDirectoryURL = URL(fileURLWithPath: TestPaths.packageRoot)
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return .failure(Unavailable(description: "cannot run infra/postgres.sh: \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let started = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard p.terminationStatus == 0, !started.isEmpty else {
            return .failure(Unavailable(description: "infra/postgres.sh start failed (exit \(p.terminationStatus))"))
        }
        return .success(started)
    }()

    private static let cleaned = Mutex<Set<String>>([])

    /// - Parameter prefix: the calling suite's schema prefix, e.g. `t_`; names are the prefix
    ///   and 16 hex characters (`schemaName(prefix:)`).
    package static func url(schemaPrefix prefix: String) throws(Unavailable) -> String {
        let url = try started.get()
        cleaned.withLock { done in
            guard done.insert(prefix).inserted, let c = try? PostgresConnection(url: url),
                  let rows = try? c.query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", [.text(prefix)]) else { return }
            for row in rows {
                guard let name = try? row.string("nspname"), name.count == prefix.count + 16 else { continue }
                _ = try? c.execute("DROP SCHEMA IF EXISTS \(name) CASCADE")
            }
        }
        return url
    }

    /// A fresh schema name with the suite's prefix.
    package static func schemaName(prefix: String) -> String {
        prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    }
}
