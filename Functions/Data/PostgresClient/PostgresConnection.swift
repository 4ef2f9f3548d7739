import CLibPQ
import Foundation

/// One libpq connection, used by one caller at a time.
///
/// A class that is `@unchecked Sendable` with a lock, not a non-Sendable class: a warm handler
/// keeps its connection across invocations in a global or a `Sendable` handler value, which
/// Swift 6 only allows for `Sendable` types. libpq's `PGconn` is not thread-safe, so every
/// statement holds a recursive lock; concurrent callers wait their turn instead of corrupting
/// the protocol, and `transaction` holds it for its whole body so no other caller's statement
/// lands inside someone else's transaction. Calls block their thread for the round trip: use one
/// connection per concurrent worker (a Lambda process handles one invocation at a time).
///
/// A warm process must survive the database restarting or dropping idle connections, so before
/// each statement outside a transaction a dead connection is re-established (`PQreset`), and a
/// statement that fails because the connection broke is retried once on a fresh one. Inside a
/// transaction nothing is retried: the transaction is gone, and the error says so.
///
/// The retry means a statement whose connection broke *while it ran* may run twice. A server
/// that went away while we were idle is noticed before sending, so that case is rare; make
/// writes that must not repeat idempotent (`ON CONFLICT`, or a transaction).
package final class PostgresConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    private let sessionSetup: [String]
    private let lock = NSRecursiveLock()
    /// Nesting depth of `transaction` calls; > 0 means "never reconnect or retry".
    private var depth = 0
    /// A transaction opened with plain SQL (`BEGIN`) counts too: reconnecting would drop it silently.
    private var openedBySQL = false
    /// Run-time parameters `setParameter` gave the session, set again on each new one.
    private var parameters: [String: String] = [:]

    /// - Parameter url: `postgres://user:password@host:port/db?sslmode=require&...`
    ///   (`postgresql://` too; any libpq URI parameter works). The client encoding is always
    ///   UTF-8, since Swift strings are; `connect_timeout` defaults to 10 s unless the URL sets it.
    /// - Parameter sessionSetup: statements run at the start of every session, the first and each
    ///   one after a reconnect (e.g. `SET search_path TO tenant, public`): session state does not
    ///   survive a reconnect, so a `SET` run once by the caller would silently stop applying.
    package init(url: String, sessionSetup: [String] = []) throws(PostgresError) {
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw PostgresError(kind: .usage, message: "not a postgres:// or postgresql:// URL")
        }
        // libpq applies the keywords in order: before the URL = default, after = forced.
        let keywords = ["connect_timeout", "dbname", "client_encoding"]
        let values = ["10", url, "UTF8"]
        let conn = withCStrings(keywords) { k in withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let conn else { throw PostgresError(kind: .connection, message: "out of memory") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn)) ?? "could not connect"
            PQfinish(conn)
            throw PostgresError(kind: .connection, message: message)
        }
        // Notices (e.g. "relation already exists, skipping") are not errors; libpq would print
        // them on stderr, which in a function is the log.
        PQsetNoticeReceiver(conn, { _, _ in }, nil)
        do {
            try Self.setUpSession(conn, sessionSetup)
        } catch {
            PQfinish(conn)
            throw error
        }
        self.conn = conn
        self.sessionSetup = sessionSetup
    }

    deinit { PQfinish(conn) }

    /// Runs one statement (a single statement: the extended protocol refuses two) and returns
    /// its rows. Parameters are bound as `$1`, `$2`, ...; SQL is never assembled from values.
    @discardableResult
    package func query(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> PostgresRows {
        lock.lock()
        defer { lock.unlock() }
        return try run { c throws(PostgresError) in try Self.execParams(c, sql, params) }
    }

    /// For INSERT/UPDATE/DELETE/DDL: the number of rows affected.
    @discardableResult
    package func execute(_ sql: String, _ params: [PostgresValue] = []) throws(PostgresError) -> Int {
        try query(sql, params).affectedRows
    }

    /// Several `;`-separated statements without parameters, run as one implicit transaction:
    /// for schema migrations. Never pass anything derived from input here.
    package func executeScript(_ sql: String) throws(PostgresError) {
        lock.lock()
        defer { lock.unlock() }
        _ = try run { c in PQexec(c, sql) }
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (the error is
    /// rethrown unchanged). Nested calls use savepoints, so an inner failure can be caught without
    /// losing the outer work. A body that swallowed a statement error leaves the transaction
    /// aborted; that is reported as an error instead of Postgres's silent ROLLBACK-on-COMMIT.
    /// If COMMIT itself fails with a connection failure, whether it committed is unknown.
    package func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let savepoint = depth == 0 ? nil : "postgres_client_\(depth)"
        try execute(savepoint.map { "SAVEPOINT \($0)" } ?? "BEGIN")
        depth += 1
        defer { depth -= 1 }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollback(to: savepoint)
            throw error
        }
        if PQtransactionStatus(conn) == PQTRANS_INERROR {
            rollback(to: savepoint)
            throw PostgresError(
                kind: .usage, sqlState: "25P02",
                message: "the transaction was aborted by an earlier error and has been rolled back")
        }
        try execute(savepoint.map { "RELEASE SAVEPOINT \($0)" } ?? "COMMIT")
        return value
    }

    /// Sets a run-time parameter (`set_config`) for the rest of the session, with no round trip
    /// when this session already has that value: a search that sets `hnsw.ef_search` for every
    /// query pays for it only when the value changes. Inside a transaction the setting is local
    /// to it and not remembered, since a rollback would undo a session-level one unseen. Like
    /// `sessionSetup`, remembered parameters are set again on the new session after a reconnect.
    package func setParameter(_ name: String, _ value: String) throws(PostgresError) {
        lock.lock()
        defer { lock.unlock() }
        let inTransaction = depth > 0 || openedBySQL
        if !inTransaction {
            try reconnectIfNeeded()
            if parameters[name] == value { return }
        }
        _ = try run { c throws(PostgresError) in
            try Self.execParams(c, "SELECT set_config($1, $2, $3)", [.text(name), .text(value), .bool(inTransaction)])
        }
        if !inTransaction { parameters[name] = value }
    }

    /// True between BEGIN and COMMIT/ROLLBACK (whether opened by `transaction` or by SQL).
    package var isInTransaction: Bool {
        lock.lock()
        defer { lock.unlock() }
        return depth > 0 || openedBySQL
    }

    // MARK: - Internals (called with the lock held)

    private func rollback(to savepoint: String?) {
        guard PQstatus(conn) == CONNECTION_OK else { return }
        if let savepoint {
            _ = try? execute("ROLLBACK TO SAVEPOINT \(savepoint)")
            _ = try? execute("RELEASE SAVEPOINT \(savepoint)")
        } else {
            _ = try? execute("ROLLBACK")
        }
    }

    /// Sends via `send`, turns the result into rows or an error, and owns reconnecting.
    private func run(_ send: (OpaquePointer) throws(PostgresError) -> OpaquePointer?) throws(PostgresError) -> PostgresRows {
        let inTransaction = depth > 0 || openedBySQL
        if !inTransaction { try reconnectIfNeeded() }
        var retried = false
        while true {
            let result = try send(conn)
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                openedBySQL = depth == 0 && PQtransactionStatus(conn) != PQTRANS_IDLE
                return Self.rows(result!)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                abandonCopy()
                throw PostgresError(kind: .usage, message: "COPY is not supported by PostgresClient")
            default:
                var error = Self.error(conn, result)
                if PQstatus(conn) == CONNECTION_OK {
                    openedBySQL = depth == 0 && PQtransactionStatus(conn) != PQTRANS_IDLE
                    throw error
                }
                error.kind = .connection
                openedBySQL = false  // the server ended that transaction with the connection
                guard !inTransaction, !retried else { throw error }
                retried = true
                PQreset(conn)
                guard PQstatus(conn) == CONNECTION_OK else { throw error }
                try setUpNewSession()
            }
        }
    }

    /// A server that restarted or dropped us while we were idle has left an EOF (and maybe a
    /// FATAL message) on the socket; reading it now lets us reconnect before sending anything.
    private func reconnectIfNeeded() throws(PostgresError) {
        if PQstatus(conn) == CONNECTION_OK { _ = PQconsumeInput(conn) }
        guard PQstatus(conn) != CONNECTION_OK else { return }
        openedBySQL = false
        PQreset(conn)
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(conn)) ?? "could not reconnect")
        }
        try setUpNewSession()
    }

    /// A replacement session gets what the first one had: the setup statements, then the
    /// parameters set since (forgotten if they fail, so the next `setParameter` tries again).
    private func setUpNewSession() throws(PostgresError) {
        try Self.setUpSession(conn, sessionSetup)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            let result = try Self.execParams(conn, "SELECT set_config($1, $2, false)", [.text(name), .text(value)])
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_TUPLES_OK { parameters[name] = nil }
        }
    }

    private static func setUpSession(_ conn: OpaquePointer, _ statements: [String]) throws(PostgresError) {
        for sql in statements {
            let result = PQexec(conn, sql)
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(conn, result) }
        }
    }

    /// Ends a COPY someone started by SQL, so the connection is usable again.
    private func abandonCopy() {
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(conn, &buffer, 0) > 0 { PQfreemem(buffer) }
        _ = PQputCopyEnd(conn, "COPY is not supported by PostgresClient")
        while let r = PQgetResult(conn) { PQclear(r) }
    }

    private static func execParams(_ conn: OpaquePointer, _ sql: String, _ params: [PostgresValue]) throws(PostgresError)
        -> OpaquePointer?
    {
        var types: [Oid] = [], lengths: [Int32] = [], formats: [Int32] = []
        var buffers: [UnsafeMutablePointer<CChar>?] = []
        defer { buffers.forEach { $0?.deallocate() } }
        for (i, p) in params.enumerated() {
            let (oid, bytes, binary) = p.wire
            if !binary, let bytes, bytes.contains(0) {
                throw PostgresError(kind: .usage, message: "parameter $\(i + 1) contains a NUL byte, which Postgres text cannot hold")
            }
            types.append(oid)
            formats.append(binary ? 1 : 0)
            lengths.append(Int32(bytes?.count ?? 0))
            buffers.append(bytes.map { b in
                // NUL-terminated for text; libpq reads `lengths` for binary. Non-NULL even when empty.
                let buf = UnsafeMutablePointer<CChar>.allocate(capacity: b.count + 1)
                b.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(buf).copyMemory(from: base, byteCount: b.count) } }
                buf[b.count] = 0
                return buf
            })
        }
        let values = buffers.map { $0.map { UnsafePointer($0) } }
        return PQexecParams(conn, sql, Int32(params.count), types, values, lengths, formats, 0)
    }

    private static func rows(_ result: OpaquePointer) -> PostgresRows {
        let nRows = Int(PQntuples(result)), nCols = Int(PQnfields(result))
        let names = (0..<nCols).map { String(cString: PQfname(result, Int32($0))) }
        var cells: [String?] = []
        cells.reserveCapacity(nRows * nCols)
        for r in 0..<Int32(nRows) {
            for c in 0..<Int32(nCols) {
                if PQgetisnull(result, r, c) != 0 {
                    cells.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: Int(PQgetlength(result, r, c)))
                    cells.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return PostgresRows(layout: ColumnLayout(names: names), cells: cells, affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }

    private static func error(_ conn: OpaquePointer, _ result: OpaquePointer?) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let result, let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: p)
        }
        let message = field("M") ?? trimmed(result.map { PQresultErrorMessage($0) }) ?? trimmed(PQerrorMessage(conn))
        return PostgresError(
            kind: .server, sqlState: field("C"), message: message ?? "unknown error", detail: field("D"),
            hint: field("H"), constraint: field("n"))
    }

    private static func trimmed(_ p: UnsafePointer<CChar>?) -> String? {
        guard let p else { return nil }
        let s = String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? nil : s
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) } + [nil]
    defer { copies.forEach { free($0) } }
    return copies.map { $0.map { UnsafePointer($0) } }.withUnsafeBufferPointer { body($0.baseAddress!) }
}
