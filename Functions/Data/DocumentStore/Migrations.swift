import Foundation

/// One schema step: `infra/migrations/{dialect}/NNN_name.sql`.
package struct Migration: Sendable, Equatable {
    /// `001_init`: recorded in `schema_migrations` once applied.
    package var id: String
    package var sql: String
}

/// Finds and reads the migration files. They ship beside the code: the repo's
/// `infra/migrations` locally, `migrations/` in a Lambda package (`infra/package.sh` copies them).
package enum Migrations {
    /// `MIGRATIONS_DIR`, else `$LAMBDA_TASK_ROOT/migrations`, else `migrations/` in the working
    /// directory (a package's root: Lambda and AWS's RIE start `bootstrap` there, and the RIE
    /// does not set `LAMBDA_TASK_ROOT`), else `infra/migrations` in the working directory or above
    /// the executable.
    package static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        var candidates: [String] = []
        if let d = environment["MIGRATIONS_DIR"], !d.isEmpty { candidates.append(d) }
        if let root = environment["LAMBDA_TASK_ROOT"] { candidates.append(root + "/migrations") }
        candidates.append(FileManager.default.currentDirectoryPath + "/migrations")
        candidates.append(FileManager.default.currentDirectoryPath + "/infra/migrations")
        var dir = (CommandLine.arguments.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } ?? "") as NSString
        for _ in 0..<6 {
            dir = dir.deletingLastPathComponent as NSString
            if dir.length <= 1 { break }
            candidates.append(dir.appendingPathComponent("infra/migrations"))
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    package static func load(dialect: String, directory: String? = nil) throws(StoreError) -> [Migration] {
        guard let base = directory ?? Self.directory() else {
            throw .schema("No migrations folder found: set MIGRATIONS_DIR to the repo's infra/migrations.")
        }
        let folder = base + "/" + dialect
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw .schema("Cannot read migrations in \(folder).")
        }
        var out: [Migration] = []
        for name in names.filter({ $0.hasSuffix(".sql") }).sorted() {
            guard name.prefix(3).allSatisfy(\.isNumber), name.dropFirst(3).first == "_" else {
                throw .schema("Migration \(folder)/\(name) must be named NNN_name.sql.")
            }
            guard let sql = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else {
                throw .schema("Cannot read \(folder)/\(name).")
            }
            out.append(Migration(id: String(name.dropLast(4)), sql: sql))
        }
        guard Set(out.map { $0.id.prefix(3) }).count == out.count else {
            throw .schema("Two migrations in \(folder) share a number.")
        }
        return out
    }
}
