import Foundation
import HealthChecks
import TestSupport
import Testing

/// Runs one check and returns why it failed, or nil when it passed.
func failure(of check: ReadinessCheck) async -> String? {
    do {
        try await check.run()
        return nil
    } catch {
        return String(describing: error)
    }
}

@Suite struct DatabaseURLCheckTests {
    @Test func name() {
        #expect(ReadinessCheck.databaseURL("sqlite:///x").name == "database_url")
    }

    @Test func sqliteInAnExistingFolderIsOK() async {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(await failure(of: .databaseURL("sqlite://\(dir)/rag.db")) == nil)
        // The check does not create the database file itself.
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/rag.db"))
    }

    @Test func sqliteFolderIsCreatedWhenMissing() async {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(await failure(of: .databaseURL("sqlite://\(dir)/nested/deeper/rag.db")) == nil)
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(dir)/nested/deeper", isDirectory: &isDir) && isDir.boolValue)
    }

    @Test func relativeSqlitePathIsOK() async {
        // `sqlite:rag.db` lives in the working folder, which the tests can write.
        #expect(await failure(of: .databaseURL("sqlite:rag-health-check-test.db")) == nil)
    }

    @Test func postgresIsAcceptedWithoutConnecting() async {
        #expect(await failure(of: .databaseURL("postgres://nobody@127.0.0.1:1/none")) == nil)
    }

    @Test(arguments: [nil, ""] as [String?])
    func missingIsAClearFailure(_ value: String?) async throws {
        let reason = try #require(await failure(of: .databaseURL(value)))
        #expect(reason.contains("DATABASE_URL is not set"), "\(reason)")
        #expect(reason.contains("sqlite:///"), "says what to set: \(reason)")
    }

    @Test(arguments: ["mysql://u@h/db", "sqlite:", "nonsense"])
    func unknownSchemeIsAClearFailure(_ value: String) async throws {
        let reason = try #require(await failure(of: .databaseURL(value)))
        #expect(reason.contains("unknown scheme"), "\(reason)")
    }

    @Test func folderThatIsARegularFileFails() async throws {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let reason = try #require(await failure(of: .databaseURL("sqlite://\(file)/rag.db")))
        #expect(reason.contains(file), "\(reason)")
        #expect(reason.contains("is a file, not a folder"), "\(reason)")
    }

    @Test func folderUnderARegularFileCannotBeCreated() async throws {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let reason = try #require(await failure(of: .databaseURL("sqlite://\(file)/sub/rag.db")))
        #expect(reason.contains("\(file)/sub"), "\(reason)")
        #expect(reason.contains("cannot be created"), "\(reason)")
    }

    @Test(.enabled(if: getuid() != 0, "root can write anywhere"))
    func readOnlyFolderFails() async throws {
        let dir = TestPaths.temporaryDirectory("health")
        defer {
            chmod(dir, 0o755)
            try? FileManager.default.removeItem(atPath: dir)
        }
        #expect(chmod(dir, 0o555) == 0)
        let reason = try #require(await failure(of: .databaseURL("sqlite://\(dir)/rag.db")))
        #expect(reason.contains("not writable"), "\(reason)")
    }
}

@Suite struct WritableDirectoryCheckTests {
    @Test func existingFolderIsOK() async {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let check = ReadinessCheck.writableDirectory("blob_dir", path: dir, variable: "BLOB_DIR", timeout: .seconds(60))
        #expect(check.name == "blob_dir")
        #expect(await failure(of: check) == nil)
    }

    @Test func missingFolderIsCreated() async {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(await failure(of: .writableDirectory("blob_dir", path: "\(dir)/blobs/a", variable: "BLOB_DIR", timeout: .seconds(60))) == nil)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/blobs/a"))
    }

    @Test(arguments: [nil, ""] as [String?])
    func unsetNamesTheVariable(_ path: String?) async throws {
        let reason = try #require(await failure(of: .writableDirectory("blob_dir", path: path, variable: "BLOB_DIR", timeout: .seconds(60))))
        #expect(reason == "BLOB_DIR is not set.")
    }

    @Test func regularFileFailsNamingTheVariable() async throws {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let reason = try #require(await failure(of: .writableDirectory("blob_dir", path: file, variable: "BLOB_DIR", timeout: .seconds(60))))
        #expect(reason.contains("BLOB_DIR"), "\(reason)")
        #expect(reason.contains("is a file, not a folder"), "\(reason)")
    }

    @Test func uncreatableFails() async throws {
        let dir = TestPaths.temporaryDirectory("health")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/plain-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let reason = try #require(await failure(of: .writableDirectory("blob_dir", path: "\(file)/blobs", variable: "BLOB_DIR", timeout: .seconds(60))))
        #expect(reason.contains("cannot be created"), "\(reason)")
    }

    @Test func failuresReachReadinessAsReasons() async {
        let results = await Readiness.run([
            .databaseURL(nil, timeout: .seconds(60)),
            .writableDirectory("blob_dir", path: nil, variable: "BLOB_DIR", timeout: .seconds(60)),
        ])
        #expect(results.map(\.name) == ["database_url", "blob_dir"])
        #expect(results.allSatisfy { !$0.ok })
        #expect(results[0].reason?.contains("DATABASE_URL is not set") == true)
        #expect(results[1].reason == "BLOB_DIR is not set.")
    }
}

@Suite struct StoreCheckTests {
    @Test func aFreshSQLiteFileIsMigratedAndReady() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("storecheck-\(UUID().uuidString)").path
        let results = await Readiness.run([.store(url: "sqlite://\(dir)/rag.sqlite", timeout: .seconds(60))])
        #expect(results[0].ok, "\(results[0].reason ?? "")")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/rag.sqlite"))
    }

    @Test func anUnreachablePostgresIsNotReadyAndSaysWhy() async throws {
        let results = await Readiness.run([.store(url: "postgres://rag:secret@127.0.0.1:1/rag?connect_timeout=1", timeout: .seconds(60))])
        #expect(!results[0].ok)
        let reason = results[0].reason ?? ""
        #expect(reason.contains("unavailable"), "\(reason)")
        #expect(!reason.contains("secret"), "the password leaked: \(reason)")
    }
}
