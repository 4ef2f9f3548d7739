/// Everything that can go wrong talking to Postgres, as one type, so callers can `catch` once and
/// branch on meaning (`isUniqueViolation`, `isConnectionFailure`) instead of parsing messages.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server answered with an error; `sqlState` says which.
        case server
        /// No usable connection: could not connect, or it broke. Safe to retry the whole unit of work.
        case connection
        /// A result value could not be read as the requested type, or the column does not exist.
        case decoding
        /// The client was used in a way it does not support (e.g. a NUL byte in text, COPY).
        case usage
    }

    public var kind: Kind
    /// The five-character SQLSTATE code (e.g. `23505`), when the server sent one.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// For constraint violations, the constraint's name: tells *which* unique key collided.
    public var constraint: String?

    public init(
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
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// 23503: a referenced row is missing (or still referenced).
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// 40001: a SERIALIZABLE/REPEATABLE READ transaction lost a race; retry the transaction.
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// 40P01: chosen as a deadlock victim; retry the transaction.
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// The connection is gone or the server is going away (class 08, admin/crash shutdown,
    /// starting up). The statement may or may not have run; the connection reconnects by itself.
    public var isConnectionFailure: Bool {
        if kind == .connection { return true }
        guard let s = sqlState else { return false }
        return s.hasPrefix("08") || s == "57P01" || s == "57P02" || s == "57P03"
    }

    public var description: String {
        var s = "Postgres error"
        if let sqlState { s += " \(sqlState)" }
        s += ": \(message)"
        if let detail { s += " (detail: \(detail))" }
        if let hint { s += " (hint: \(hint))" }
        return s
    }
}
