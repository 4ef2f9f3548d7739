/// Everything that can go wrong talking to Postgres, as one type, so callers can `catch` once and
/// branch on meaning (`isUniqueViolation`, `isConnectionFailure`) instead of parsing messages.
package struct PostgresError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The server answered with an error; `sqlState` says which.
        case server
        /// No usable connection: could not connect, or it broke. Safe to retry the whole unit of work.
        case connection
        /// A result value could not be read as the requested type, or the column does not exist.
        case decoding
        /// The client was used in a way it does not support (e.g. a NUL byte in text, COPY).
        case usage
    }

    package var kind: Kind
    /// The five-character SQLSTATE code (e.g. `23505`), when the server sent one.
    package var sqlState: String?
    package var message: String
    package var detail: String?
    package var hint: String?
    /// For constraint violations, the constraint's name: tells *which* unique key collided.
    package var constraint: String?

    package init(
        kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// 23505: an INSERT/UPDATE hit a unique index; usually "already exists", not a bug.
    package var isUniqueViolation: Bool { sqlState == "23505" }
    /// 23503: a referenced row is missing (or still referenced).
    package var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// 40001: a SERIALIZABLE/REPEATABLE READ transaction lost a race; retry the transaction.
    package var isSerializationFailure: Bool { sqlState == "40001" }
    /// 40P01: chosen as a deadlock victim; retry the transaction.
    package var isDeadlock: Bool { sqlState == "40P01" }
    /// The connection is gone or the server is going away (class 08, admin/crash shutdown,
    /// starting up). The statement may or may not have run; the connection reconnects by itself.
    package var isConnectionFailure: Bool {
        if kind == .connection { return true }
        guard let s = sqlState else { return false }
        return s.hasPrefix("08") || s == "57P01" || s == "57P02" || s == "57P03"
    }

    package var description: String {
        var s = "Postgres error"
        if let sqlState { s += " \(sqlState)" }
        s += ": \(message)"
        if let detail { s += " (detail: \(detail))" }
        if let hint { s += " (hint: \(hint))" }
        return s
    }
}
