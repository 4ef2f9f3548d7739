import Foundation
import PostgresClient
import TestSupport
import Testing

/// The pool against the real server: overlapping calls get their own backends, a nested call
/// stays in its thread's transaction, and a pool of one serialises.
@Suite struct PostgresConnectionPoolTests {
    static func backend(_ c: PostgresConnection) throws -> Int64 {
        try c.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
    }

    @Test func overlappingCallsRunOnTwoBackendsAtOnce() throws {
        let pool = try PostgresConnectionPool(url: try TestServer.url(), maxConnections: 2)
        let secondDone = DispatchSemaphore(value: 0)
        let firstHolds = DispatchSemaphore(value: 0)
        let pids = LockedBox<[Int64]>([])
        let failure = LockedBox<String?>(nil)
        let first = Thread {
            do {
                try pool.withConnection { c in
                    pids.mutate { $0.append(try! Self.backend(c)) }
                    firstHolds.signal()
                    // Still holding this connection: the second call can only finish on another.
                    if secondDone.wait(timeout: .now() + 60) == .timedOut { failure.mutate { $0 = "the second call waited for the first" } }
                }
            } catch { failure.mutate { $0 = "\(error)" } }
        }
        first.start()
        #expect(firstHolds.wait(timeout: .now() + 60) == .success)
        try pool.withConnection { c in pids.mutate { $0.append(try! Self.backend(c)) } }
        secondDone.signal()
        while !first.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        #expect(failure.value == nil)
        #expect(Set(pids.value).count == 2)
        #expect(pool.openConnections == 2)
    }

    @Test func aNestedCallUsesTheOpenTransaction() throws {
        let pool = try PostgresConnectionPool(url: try TestServer.url(), maxConnections: 2)
        try pool.withConnection { c in
            try c.transaction { c in
                try c.execute("CREATE TEMP TABLE pool_nested (n int) ON COMMIT DROP")
                try c.execute("INSERT INTO pool_nested VALUES (7)")
                // A store method called inside another's transaction: same connection, sees the row.
                let seen = try pool.withConnection { inner in try inner.query("SELECT n FROM pool_nested")[0].int("n") }
                #expect(seen == 7)
            }
        }
        #expect(pool.openConnections == 1)
    }

    @Test func aPoolOfOneServesCallsInTurn() throws {
        let pool = try PostgresConnectionPool(url: try TestServer.url(), maxConnections: 1)
        let pids = LockedBox<[Int64]>([])
        let threads = (0..<4).map { _ in
            Thread {
                for _ in 0..<5 { try? pool.withConnection { c in pids.mutate { $0.append(try! Self.backend(c)) } } }
            }
        }
        threads.forEach { $0.start() }
        while !threads.allSatisfy(\.isFinished) { Thread.sleep(forTimeInterval: 0.01) }
        #expect(pids.value.count == 20)
        #expect(Set(pids.value).count == 1)
        #expect(pool.openConnections == 1)
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T { lock.withLock { stored } }
    func mutate(_ body: (inout T) throws -> Void) rethrows { try lock.withLock { try body(&stored) } }
}
