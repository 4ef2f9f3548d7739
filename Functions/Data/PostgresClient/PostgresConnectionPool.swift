import Foundation

/// A few connections for one warm process, so calls made at the same time (hybrid search's
/// keyword query beside its dense one) run side by side on the server instead of queueing on
/// one connection's lock. The first connection opens with the pool, so a bad URL or an
/// unreachable server fails at init; the others open on demand, the first time every open one
/// is busy, and stay open. When one cannot be opened (the server's `max_connections`), the
/// caller waits for a busy one instead of failing.
///
/// A thread that already holds a connection gets the same one again: a store method called
/// inside another's transaction must see that transaction, and must not wait for a second
/// connection that may never come free.
package final class PostgresConnectionPool: @unchecked Sendable {
    package let maxConnections: Int
    private let url: String
    private let sessionSetup: [String]
    private let condition = NSCondition()
    private var idle: [PostgresConnection]
    private var opened: Int
    /// Connections in use, by the thread using them, with how many calls deep that thread is.
    private var held: [pthread_t: (connection: PostgresConnection, depth: Int)] = [:]
    /// Set after an extra connection failed to open: later calls wait rather than retry at once.
    private var openFailedAt: Date?

    package init(url: String, sessionSetup: [String] = [], maxConnections: Int = 2) throws(PostgresError) {
        self.url = url
        self.sessionSetup = sessionSetup
        self.maxConnections = max(1, maxConnections)
        idle = [try PostgresConnection(url: url, sessionSetup: sessionSetup)]
        opened = 1
    }

    /// Runs `body` with a connection of its own (or this thread's, when nested).
    package func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = acquire()
        defer { release() }
        return try body(connection)
    }

    /// How many connections are open now.
    package var openConnections: Int {
        condition.lock()
        defer { condition.unlock() }
        return opened
    }

    private func acquire() -> PostgresConnection {
        let me = pthread_self()
        condition.lock()
        if let mine = held[me] {
            held[me] = (mine.connection, mine.depth + 1)
            condition.unlock()
            return mine.connection
        }
        while true {
            if let connection = idle.popLast() {
                held[me] = (connection, 1)
                condition.unlock()
                return connection
            }
            if opened < maxConnections, openFailedAt.map({ Date().timeIntervalSince($0) > 30 }) ?? true {
                opened += 1 // reserved while connecting, outside the lock
                condition.unlock()
                if let connection = try? PostgresConnection(url: url, sessionSetup: sessionSetup) {
                    condition.lock()
                    held[me] = (connection, 1)
                    condition.unlock()
                    return connection
                }
                condition.lock()
                opened -= 1
                openFailedAt = Date()
                continue
            }
            condition.wait()
        }
    }

    private func release() {
        let me = pthread_self()
        condition.lock()
        defer { condition.unlock() }
        guard let mine = held[me] else { return }
        if mine.depth > 1 {
            held[me] = (mine.connection, mine.depth - 1)
        } else {
            held[me] = nil
            idle.append(mine.connection)
            condition.signal()
        }
    }
}
