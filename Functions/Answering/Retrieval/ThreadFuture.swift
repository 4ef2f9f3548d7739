import Foundation

/// Blocking work (a store query: a round trip to Postgres, or a SQLite scan) started at once on
/// a thread of its own, awaited later. Not an `async let`: its child task needs a thread of the
/// cooperative pool just to start, and a handler pinned to one core (the emulator's
/// `--cpu-affinity shard`, a small Lambda) has a pool of one, which the dense arm's blocking
/// call holds. The keyword arm then began only when the dense arm had finished, so the arms
/// ran one after the other (hybrid on Postgres 35-42 ms instead of ~25). A thread costs tens of
/// microseconds; the queries cost milliseconds.
final class ThreadFuture<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, Error>?
    private var waiter: CheckedContinuation<T, Error>?

    init(_ work: @escaping @Sendable () throws -> T) {
        let thread = Thread { [self] in
            let r = Result { try work() }
            let w: CheckedContinuation<T, Error>? = lock.withLock {
                if let waiter { return waiter }
                result = r
                return nil
            }
            w?.resume(with: r)
        }
        thread.start()
    }

    /// The work's result, waiting for it if it is still running.
    var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, Error>) in
                let done: Result<T, Error>? = lock.withLock {
                    if let result { return result }
                    waiter = k
                    return nil
                }
                if let done { k.resume(with: done) }
            }
        }
    }
}
