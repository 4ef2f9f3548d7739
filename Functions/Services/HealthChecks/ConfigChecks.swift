#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Checks of the configuration every data-touching function shares.
extension ReadinessCheck {
    /// `DATABASE_URL` names a store this build supports and, for SQLite, a place it can write.
    package static func databaseURL(_ value: String?, environment: [String: String] = [:], timeout: Duration = .seconds(2)) -> ReadinessCheck {
        ReadinessCheck("database_url", timeout: timeout) {
            guard let value, !value.isEmpty else {
                throw CheckFailure("DATABASE_URL is not set; use sqlite:///path/to/file or postgres://user@host/db.")
            }
            switch DatabaseLocation.parse(value) {
            case .sqlite(let path):
                if RunPlace.isLambda(environment) {
                    throw CheckFailure("on Lambda, a SQLite file is one database per instance on a disk that does not last: "
                                       + "set DATABASE_URL to postgres://user:pass@host:5432/db")
                }
                try WritableDirectory.ensure(path.directory, what: "the SQLite file's folder")
            case .postgres:
                break
            case nil:
                throw CheckFailure("DATABASE_URL has an unknown scheme; use sqlite:///path/to/file or postgres://user@host/db.")
            }
        }
    }

    /// A folder the function writes to exists (or can be created) and is writable.
    package static func writableDirectory(_ name: String, path: String?, variable: String, timeout: Duration = .seconds(2)) -> ReadinessCheck {
        ReadinessCheck(name, timeout: timeout) {
            guard let path, !path.isEmpty else { throw CheckFailure("\(variable) is not set.") }
            try WritableDirectory.ensure(path, what: variable)
        }
    }
}

package enum DatabaseLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)

    /// `sqlite:///abs/path`, `sqlite://relative/path`, `sqlite:relative`; `postgres://`/`postgresql://`.
    package static func parse(_ url: String) -> DatabaseLocation? {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url: url) }
        guard url.hasPrefix("sqlite:") else { return nil }
        var rest = url.dropFirst("sqlite:".count)
        if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
        return rest.isEmpty ? nil : .sqlite(path: String(rest))
    }
}

extension String {
    var directory: String {
        guard let slash = lastIndex(of: "/") else { return "." }
        return slash == startIndex ? "/" : String(self[..<slash])
    }
}

enum WritableDirectory {
    static func ensure(_ path: String, what: String) throws {
        var info = stat()
        if stat(path, &info) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw CheckFailure("\(what) (\(path)) does not exist and cannot be created: \(error)")
            }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw CheckFailure("\(what) (\(path)) is a file, not a folder.")
        }
        guard access(path, W_OK) == 0 else {
            throw CheckFailure("\(what) (\(path)) is not writable.")
        }
    }
}
