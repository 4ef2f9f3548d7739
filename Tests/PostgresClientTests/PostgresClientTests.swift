import Foundation
import PostgresClient
import TestSupport
import Testing

/// Real Postgres (infra/postgres.sh), no mocks. `TEST_POSTGRES_URL` names the server (scripts/test.sh
/// sets it); without it the tests start the local one themselves, so plain `swift test` works.
/// Serialized, and every test uses its own table, so they never see each other's rows.
@Suite(.serialized) struct PostgresClientTests {
    let db: PostgresConnection

    init() throws {
        db = try PostgresConnection(url: try TestServer.url())
    }

    @Test func everyValueTypeRoundTrips() throws {
        let t = try table("id int PRIMARY KEY, s text, i bigint, d double precision, b boolean, y bytea, ts timestamptz, j json, jb jsonb, u uuid, v vector")
        defer { drop(t) }
        let bytes: [UInt8] = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        let uuid = UUID().uuidString
        let text = "Grüße, 世界 🚀 \"quoted\" 'single' \\ back\nnew line"
        try db.execute(
            "INSERT INTO \(t) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            [1, .text(text), .int(Int64.min), .double(0.1 + 0.2), true, .bytea(bytes), .timestamptz(date),
             .json(#"{"a": [1, 2]}"#), .jsonb(#"{"k": "ü"}"#), .uuid(uuid), .vector([1, -0.5, 3.25])])
        try db.execute("INSERT INTO \(t) (id) VALUES ($1)", [2])

        let rows = try db.query("SELECT * FROM \(t) ORDER BY id")
        #expect(rows.count == 2)
        #expect(rows.columns == ["id", "s", "i", "d", "b", "y", "ts", "j", "jb", "u", "v"])
        let r = rows[0]
        #expect(try r.int("id") == 1)
        #expect(try r.string("s") == text)
        #expect(try r.int("i") == Int64.min)
        #expect(try r.double("d") == 0.1 + 0.2)
        #expect(try r.bool("b") == true)
        #expect(try r.bytes("y") == Data(bytes))
        #expect(try micros(r.date("ts")) == micros(date))
        #expect(try r.string("j") == #"{"a": [1, 2]}"#)
        #expect(try r.string("jb") == #"{"k": "ü"}"#)
        #expect(try r.string("u") == uuid.lowercased())
        #expect(try r.floats("v") == [1, -0.5, 3.25])
        #expect(try r.string(1) == text)  // by index

        let n = rows[1]
        for c in rows.columns.dropFirst() { #expect(try n.isNull(c)) }
        #expect(try !r.isNull("s"))

        // Parameters without a table: each type is sent as itself.
        let e = try db.query("SELECT $1::text AS a, $2 + 1 AS b, $3 AS c, $4 AS d, $5::text IS NULL AS e",
                             ["", .int(41), false, .bytea([UInt8]()), nil])[0]
        #expect(try e.string("a") == "")
        #expect(try e.int("b") == 42)
        #expect(try e.bool("c") == false)
        #expect(try e.bytes("d") == Data())
        #expect(try e.bool("e"))
    }

    @Test func specialDoublesAndLargeBytes() throws {
        let big = Data((0..<200_000).map { UInt8($0 % 251) })
        let r = try db.query("SELECT $1::float8 AS a, $2::float8 AS b, $3::float8 AS c, $4::float8 AS d, $5::bytea AS e",
                             [.double(.infinity), .double(-.infinity), .double(.nan), .double(Double.leastNonzeroMagnitude), .bytea(big)])[0]
        #expect(try r.double("a") == .infinity)
        #expect(try r.double("b") == -.infinity)
        #expect(try r.double("c").isNaN)
        #expect(try r.double("d") == Double.leastNonzeroMagnitude)
        #expect(try r.bytes("e") == big)
    }

    @Test func injectionAttemptsStayStrings() throws {
        let t = try table("id serial PRIMARY KEY, name text")
        defer { drop(t) }
        let attacks = ["'); DROP TABLE \(t); --", "' OR '1'='1", "$1", "\\'; SELECT pg_sleep(10); --"]
        for a in attacks { try db.execute("INSERT INTO \(t) (name) VALUES ($1)", [.text(a)]) }
        #expect(try db.query("SELECT name FROM \(t) ORDER BY id").map { try $0.string("name") } == attacks)
        #expect(try db.query("SELECT 1 FROM \(t) WHERE name = $1", ["' OR '1'='1' --"]).isEmpty)
        #expect(try db.query("SELECT count(*) AS n FROM \(t)")[0].int("n") == 4)
        // Two statements in one call are refused outright.
        #expect(throws: PostgresError.self) { try db.query("SELECT 1; DROP TABLE \(t)") }
        #expect(try db.query("SELECT to_regclass($1) IS NOT NULL AS present", [.text(t)])[0].bool("present"))
        // NUL cannot be in Postgres text; refused before sending rather than truncated.
        let nul = try #require(throws: PostgresError.self) { try db.query("SELECT $1::text", ["a\u{0}b"]) }
        #expect(nul.kind == .usage)
    }

    @Test func uniqueViolationHasSQLState() throws {
        let t = try table("id int PRIMARY KEY, name text CONSTRAINT \(tableName())_name_key UNIQUE")
        defer { drop(t) }
        try db.execute("INSERT INTO \(t) VALUES (1, 'a')")
        let error = try #require(throws: PostgresError.self) { try db.execute("INSERT INTO \(t) VALUES (2, 'a')") }
        #expect(error.sqlState == "23505")
        #expect(error.isUniqueViolation)
        #expect(!error.isConnectionFailure)
        #expect(error.kind == .server)
        #expect(error.constraint?.hasSuffix("_name_key") == true)
        #expect(error.detail?.contains("(name)=(a)") == true)
        // The connection is fine afterwards.
        #expect(try db.execute("INSERT INTO \(t) VALUES (2, 'b')") == 1)

        let syntax = try #require(throws: PostgresError.self) { try db.query("SELEKT 1") }
        #expect(syntax.sqlState == "42601")
        #expect(syntax.message.contains("syntax error"))
    }

    @Test func transactionsCommitAndRollBack() throws {
        let t = try table("id int PRIMARY KEY")
        defer { drop(t) }
        struct Boom: Error {}

        #expect(throws: Boom.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO \(t) VALUES (1)")
                #expect(tx.isInTransaction)
                throw Boom()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try count(t) == 0)

        let v = try db.transaction { tx in try tx.execute("INSERT INTO \(t) VALUES (2), (3)") }
        #expect(v == 2)
        #expect(try count(t) == 2)

        // Nested: the inner failure rolls back to its savepoint only.
        try db.transaction { tx in
            try tx.execute("INSERT INTO \(t) VALUES (4)")
            #expect(throws: PostgresError.self) {
                try tx.transaction { inner in
                    try inner.execute("INSERT INTO \(t) VALUES (5)")
                    try inner.execute("INSERT INTO \(t) VALUES (2)")  // duplicate key
                }
            }
            try tx.execute("INSERT INTO \(t) VALUES (6)")
        }
        #expect(try db.query("SELECT id FROM \(t) ORDER BY id").map { try $0.int("id") } == [2, 3, 4, 6])

        // A swallowed error aborts the transaction; COMMIT would silently roll back, we say so.
        let aborted = try #require(throws: PostgresError.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO \(t) VALUES (7)")
                _ = try? tx.execute("INSERT INTO \(t) VALUES (7)")
            }
        }
        #expect(aborted.sqlState == "25P02")
        #expect(try count(t) == 4)
    }

    @Test func pgvectorOrdersByCosineDistanceAndRoundTripsExactly() throws {
        let t = try table("id int PRIMARY KEY, embedding vector")
        defer { drop(t) }
        let vectors: [Int: [Float]] = [
            1: [1, 0, 0],
            2: [0.70710677, 0.70710677, 0],
            3: [0, 1, 0],
            4: [0.1, .leastNonzeroMagnitude, -.greatestFiniteMagnitude],  // shortest decimals, a subnormal, the extreme
            5: [Float.pi, -Float.ulpOfOne, 123456.79],
        ]
        for (id, v) in vectors { try db.execute("INSERT INTO \(t) VALUES ($1, $2)", [.int(id), .vector(v)]) }

        let nearest = try db.query(
            "SELECT id, embedding, embedding <=> $1 AS distance FROM \(t) WHERE id <= 3 ORDER BY embedding <=> $1",
            [.vector([0.9, 0.1, 0])])
        #expect(try nearest.map { try $0.int("id") } == [1, 2, 3])
        #expect(try nearest[0].double("distance") < nearest[1].double("distance"))

        for row in try db.query("SELECT id, embedding FROM \(t)") {
            let v = try row.floats("embedding")
            #expect(v.map(\.bitPattern) == vectors[Int(try row.int("id"))]!.map(\.bitPattern))
        }
        #expect(try db.query("SELECT vector_dims(embedding) AS n FROM \(t) WHERE id = 1")[0].int("n") == 3)
        #expect(try db.query("SELECT '{1.5,2}'::real[] AS a")[0].floats("a") == [1.5, 2])
    }

    @Test func readErrorsNameTheColumn() throws {
        let r = try db.query("SELECT 'abc' AS word, NULL::int AS nothing")[0]
        let missing = try #require(throws: PostgresError.self) { try r.string("nope") }
        #expect(missing.kind == .decoding)
        #expect(missing.message.contains("\"nope\"") && missing.message.contains("word, nothing"))
        let wrong = try #require(throws: PostgresError.self) { try r.int("word") }
        #expect(wrong.message == #"column "word" is not an integer: "abc""#)
        let null = try #require(throws: PostgresError.self) { try r.int("nothing") }
        #expect(null.message == #"column "nothing" is NULL"#)
        #expect(throws: PostgresError.self) { try r.string(5) }
        #expect(throws: PostgresError.self) { try r.date("word") }
        #expect(throws: PostgresError.self) { try r.floats("word") }
        #expect(throws: PostgresError.self) { try r.bytes("word") }
        #expect(throws: PostgresError.self) { try r.bool("word") }

        enum Column: String, PostgresColumn { case word }
        #expect(try r.string(Column.word) == "abc")
    }

    @Test func timestampsInAnySessionTimeZone() throws {
        let date = Date(timeIntervalSince1970: 1_709_210_096.789012)  // 2024-02-29 12:34:56.789012 UTC
        for zone in ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/Los_Angeles"] {
            try db.execute("SELECT set_config('TimeZone', $1, false)", [.text(zone)])
            let r = try db.query("SELECT $1::timestamptz AS t, $1::timestamptz::text AS raw", [.timestamptz(date)])[0]
            let raw = try r.string("raw")
            #expect(try micros(r.date("t")) == micros(date), "\(zone): \(raw)")
        }
        // Local mean time before standard zones: offsets with seconds, both signs.
        let lmt: [(zone: String, utc: String, shown: String, epoch: Double)] = [
            ("Asia/Kolkata", "1900-01-01 00:00:00+00", "1900-01-01 05:21:10+05:21:10", -2_208_988_800),
            ("America/New_York", "1850-01-01 00:00:00+00", "1849-12-31 19:03:58-04:56:02", -3_786_825_600),
        ]
        for c in lmt {
            try db.execute("SELECT set_config('TimeZone', $1, false)", [.text(c.zone)])
            let r = try db.query("SELECT $1::timestamptz AS t", [.text(c.utc)])[0]
            #expect(try r.string("t") == c.shown)
            #expect(try r.date("t") == Date(timeIntervalSince1970: c.epoch))
        }
        let inf = try db.query("SELECT 'infinity'::timestamptz AS inf, '-infinity'::timestamptz AS ninf")[0]
        #expect(try inf.date("inf") == .distantFuture)
        #expect(try inf.date("ninf") == .distantPast)
        try db.execute("SET TimeZone = 'UTC'")
        let other = try db.query("SELECT '0044-03-15 12:00:00+00 BC'::timestamptz AS bc, '2024-05-06'::date AS d, '2024-05-06 07:08:09.5'::timestamp AS ts, $1::timestamptz AS rt", [.timestamptz(Date(timeIntervalSince1970: -62_135_596_800 - 86_400 * 366))])[0]
        #expect(try other.date("bc") == Date(timeIntervalSince1970: -63_517_780_800))
        #expect(try other.date("d") == Date(timeIntervalSince1970: 1_714_953_600))
        #expect(try other.date("ts") == Date(timeIntervalSince1970: 1_714_979_289.5))
        #expect(try other.string("rt") == "0001-01-01 00:00:00+00 BC")
    }

    @Test func executeScriptAndAffectedRows() throws {
        let t = tableName()
        defer { drop(t) }
        try db.executeScript("CREATE TABLE \(t) (id int); INSERT INTO \(t) VALUES (1), (2), (3);")
        #expect(try db.execute("UPDATE \(t) SET id = id + 10 WHERE id >= $1", [2]) == 2)
        #expect(try db.execute("DELETE FROM \(t)") == 3)
        #expect(try db.query("SELECT * FROM \(t)").affectedRows == 0)
        let copy = try #require(throws: PostgresError.self) { try db.query("COPY \(t) FROM STDIN") }
        #expect(copy.kind == .usage)
        #expect(try db.query("SELECT 1 AS one")[0].int("one") == 1)  // still usable after the refused COPY
    }

    @Test func reconnectsAfterTheBackendIsKilled() throws {
        let killer = try PostgresConnection(url: try TestServer.url())
        let before = try db.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
        #expect(try killer.query("SELECT pg_terminate_backend($1::int) AS ok", [.int(before)])[0].bool("ok"))
        try waitUntilGone(before, killer)
        let after = try db.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
        #expect(after != before)

        // Inside a transaction nothing is retried: the transaction is lost, and the error says so.
        struct Unreached: Error {}
        let error = try #require(throws: PostgresError.self) {
            try db.transaction { tx in
                try tx.execute("SELECT 1")
                _ = try killer.query("SELECT pg_terminate_backend($1::int)", [.int(after)])
                try waitUntilGone(after, killer)
                try tx.execute("SELECT 1")
                throw Unreached()
            }
        }
        #expect(error.isConnectionFailure)
        #expect(!db.isInTransaction)
        #expect(try db.query("SELECT 1 AS one")[0].int("one") == 1)
    }

    @Test func sessionSetupIsReappliedAfterAReconnect() throws {
        let c = try PostgresConnection(url: try TestServer.url(), sessionSetup: ["SET statement_timeout = '12345ms'"])
        #expect(try c.query("SHOW statement_timeout")[0].string(0) == "12345ms")
        let pid = try c.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
        _ = try db.query("SELECT pg_terminate_backend($1::int)", [.int(pid)])
        try waitUntilGone(pid, db)
        #expect(try c.query("SHOW statement_timeout")[0].string(0) == "12345ms")
        #expect(try c.query("SELECT pg_backend_pid() AS pid")[0].int("pid") != pid)

        let bad = try #require(throws: PostgresError.self) { try PostgresConnection(url: try TestServer.url(), sessionSetup: ["SET nonsense = 1"]) }
        #expect(bad.sqlState == "42704")
    }

    /// `setParameter` skips the round trip when the session already has the value, sets it
    /// only for the transaction inside one, and sets again what it set when the session is replaced.
    @Test func parametersAreSetOncePerSession() throws {
        let c = try PostgresConnection(url: try TestServer.url())
        func workMem() throws -> String { try c.query("SHOW work_mem")[0].string(0) }
        try c.setParameter("work_mem", "8MB")
        #expect(try workMem() == "8MB")
        // Changed behind its back: asking for the value it set is no round trip, so it stays.
        try c.execute("SET work_mem = '4MB'")
        try c.setParameter("work_mem", "8MB")
        #expect(try workMem() == "4MB")
        try c.setParameter("work_mem", "6MB")
        #expect(try workMem() == "6MB")
        // In a transaction: local to it, and not remembered.
        try c.transaction { tx in
            try tx.setParameter("work_mem", "16MB")
            #expect(try tx.query("SHOW work_mem")[0].string(0) == "16MB")
        }
        #expect(try workMem() == "6MB")
        try c.setParameter("work_mem", "16MB")
        #expect(try workMem() == "16MB")
        // The session after the backend died gets it again, whichever statement reconnects.
        for ask in [false, true] {
            let pid = try c.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
            _ = try db.query("SELECT pg_terminate_backend($1::int)", [.int(pid)])
            try waitUntilGone(pid, db)
            if ask { try c.setParameter("work_mem", "16MB") }
            #expect(try workMem() == "16MB")
            #expect(try c.query("SELECT pg_backend_pid() AS pid")[0].int("pid") != pid)
        }
    }

    /// A server restart with the same connection object. On its own cluster and port (by
    /// PGDATA_DIR/PGPORT), so tests of other suites using the shared server are not disturbed.
    @Test func survivesAServerRestart() throws {
        let env = ["PGDATA_DIR": TestPaths.packageRoot + "/.data/postgres-restart-test", "PGPORT": "54339"]
        let url = try TestServer.script(["start"], env: env)
        defer { _ = try? TestServer.script(["stop"], env: env) }
        let conn = try PostgresConnection(url: url)
        let t = tableName()
        try conn.execute("CREATE TABLE \(t) (v text)")
        defer { _ = try? conn.execute("DROP TABLE \(t)") }
        try conn.execute("INSERT INTO \(t) VALUES ($1)", ["before"])

        _ = try TestServer.script(["stop"], env: env)
        let down = try #require(throws: PostgresError.self) { try conn.query("SELECT 1") }
        #expect(down.isConnectionFailure)

        _ = try TestServer.script(["start"], env: env)
        try conn.execute("INSERT INTO \(t) VALUES ($1)", ["after"])
        #expect(try conn.query("SELECT v FROM \(t) ORDER BY v DESC").map { try $0.string("v") } == ["before", "after"])
    }

    @Test func badURLsFailClearly() throws {
        let scheme = try #require(throws: PostgresError.self) { try PostgresConnection(url: "sqlite:///tmp/x.db") }
        #expect(scheme.kind == .usage)
        let closed = try #require(throws: PostgresError.self) { try PostgresConnection(url: "postgres://postgres@127.0.0.1:1/rag") }
        #expect(closed.isConnectionFailure)
        #expect(closed.message.contains("127.0.0.1"))
    }

    // MARK: - Helpers

    private func tableName() -> String { "pgc_" + UUID().uuidString.prefix(8).lowercased() }

    private func table(_ columns: String) throws -> String {
        let t = tableName()
        try db.execute("CREATE TABLE \(t) (\(columns))")
        return t
    }

    private func drop(_ t: String) { _ = try? db.execute("DROP TABLE IF EXISTS \(t)") }

    private func count(_ t: String) throws -> Int64 { try db.query("SELECT count(*) AS n FROM \(t)")[0].int("n") }

    private func micros(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1_000_000).rounded()) }

    private func waitUntilGone(_ pid: Int64, _ via: PostgresConnection) throws {
        for _ in 0..<200 {
            if try via.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [.int(pid)]).isEmpty { return }
            usleep(10_000)
        }
    }
}

/// The server under test: `TEST_POSTGRES_URL`, else the one `infra/postgres.sh start` runs.
enum TestServer {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private static let shared: Result<String, Failure> = {
        if let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"], !url.isEmpty { return .success(url) }
        do { return .success(try script(["start"])) } catch { return .failure(error as? Failure ?? Failure(description: "\(error)")) }
    }()

    static func url() throws -> String { try shared.get() }

    /// Runs infra/postgres.sh; its stdout, trimmed. Its stderr goes to the test output.
    static func script(_ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [TestPaths.packageRoot + "/infra/postgres.sh"] + args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "infra/postgres.sh \(args.joined(separator: " ")) exited \(p.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
