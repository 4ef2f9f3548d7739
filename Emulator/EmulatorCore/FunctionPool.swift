import DequeModule
import Foundation
import FunctionProtocol
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// Warm processes of one function, like Lambda execution environments: spawned on demand up to
/// the function's concurrency, reused while warm, reaped when idle. Past capacity a request
/// waits in a bounded queue; past the queue it is throttled (429).
final class FunctionPool: Sendable {
    let function: FunctionSpec
    let executable: String
    let environment: [String: String]
    let maxConcurrency: Int
    let maxQueue: Int
    private let eventLoops: any EventLoopGroup
    private let log: EmulatorLog
    private let onInvokeAsync: @Sendable (String, JSONValue) -> Void

    enum Lease: Sendable {
        case warm(HandlerProcess)
        case spawn
    }

    private struct State {
        var idle: [HandlerProcess] = []
        /// Live processes plus those being spawned.
        var count = 0
        var waiters: Deque<CheckedContinuation<Lease, any Error>> = []
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    init(function: FunctionSpec, executable: String, environment: [String: String], maxConcurrency: Int, maxQueue: Int,
         eventLoops: any EventLoopGroup, log: EmulatorLog, onInvokeAsync: @escaping @Sendable (String, JSONValue) -> Void) {
        self.function = function
        self.executable = executable
        self.environment = environment
        self.maxConcurrency = max(1, maxConcurrency)
        self.maxQueue = max(0, maxQueue)
        self.eventLoops = eventLoops
        self.log = log
        self.onInvokeAsync = onInvokeAsync
    }

    /// An idle warm process, preferring one whose pipes live on `eventLoop`, without waiting:
    /// the gateway's fast path. nil sends the caller to `acquire()`.
    func tryAcquireIdle(preferring eventLoop: any EventLoop) -> HandlerProcess? {
        state.withLockedValue { s in
            guard !s.closed else { return nil }
            while !s.idle.isEmpty {
                let index = s.idle.lastIndex { $0.eventLoop === eventLoop } ?? s.idle.count - 1
                let p = s.idle.remove(at: index)
                if p.isAlive { return p }
                s.count -= 1
            }
            return nil
        }
    }

    /// A warm process (and nil init time), or a freshly started one (and its init time in ms).
    func acquire() async throws(InvocationFailure) -> (HandlerProcess, Double?) {
        let lease: Lease
        do {
            lease = try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Lease, any Error>) in
                let immediate: Result<Lease, InvocationFailure>? = state.withLockedValue { s in
                    if s.closed { return .failure(.unavailable("The emulator is shutting down.")) }
                    while let p = s.idle.popLast() {
                        if p.isAlive { return .success(.warm(p)) }
                        s.count -= 1
                    }
                    if s.count < maxConcurrency {
                        s.count += 1
                        return .success(.spawn)
                    }
                    if s.waiters.count < maxQueue {
                        s.waiters.append(cont)
                        return nil
                    }
                    return .failure(.throttled(
                        "\(function.logicalId) is at its concurrency limit (\(maxConcurrency)) with \(maxQueue) requests queued."))
                }
                if let immediate { cont.resume(with: immediate.mapError { $0 as any Error }) }
            }
        } catch let f as InvocationFailure {
            throw f
        } catch {
            throw .unavailable("\(error)")
        }
        switch lease {
        case .warm(let p):
            return (p, nil)
        case .spawn:
            do {
                let (p, initMs) = try await HandlerProcess.start(
                    function: function, executable: executable, environment: environment,
                    eventLoop: eventLoops.next(), log: log, onInvokeAsync: onInvokeAsync)
                return (p, initMs)
            } catch {
                discardSlot()
                throw error
            }
        }
    }

    /// Returns a process after an invocation. A dead one frees its slot for a replacement.
    func release(_ process: HandlerProcess) {
        guard process.isAlive else { return discardSlot() }
        let handoff: CheckedContinuation<Lease, any Error>? = state.withLockedValue { s in
            if s.closed { return nil }
            if let w = s.waiters.popFirst() { return w }
            s.idle.append(process)
            return nil
        }
        if let handoff {
            handoff.resume(returning: .warm(process))
        } else if state.withLockedValue({ $0.closed }) {
            process.terminate()
        }
    }

    private func discardSlot() {
        let waiter: CheckedContinuation<Lease, any Error>? = state.withLockedValue { s in
            s.count -= 1
            guard !s.closed, let w = s.waiters.popFirst() else { return nil }
            s.count += 1
            return w
        }
        waiter?.resume(returning: .spawn)
    }

    /// Ends processes idle for longer than `idleFor`.
    func reap(idleFor: Duration) {
        let now = ContinuousClock.now
        let stale: [HandlerProcess] = state.withLockedValue { s in
            let (old, fresh) = (s.idle.filter { now - $0.lastUsed > idleFor }, s.idle.filter { now - $0.lastUsed <= idleFor })
            s.idle = fresh
            s.count -= old.count
            return old
        }
        for p in stale {
            log.debug("\(function.logicalId): reaping idle process \(p.pid)")
            p.terminate()
        }
    }

    var stats: (live: Int, idle: Int, queued: Int) {
        state.withLockedValue { ($0.count, $0.idle.count, $0.waiters.count) }
    }

    /// Stops handing out processes and ends the idle ones; busy ones end as they are released.
    func close() -> [HandlerProcess] {
        let (idle, waiters): ([HandlerProcess], Deque<CheckedContinuation<Lease, any Error>>) = state.withLockedValue { s in
            s.closed = true
            defer { s.idle = []; s.waiters = [] }
            return (s.idle, s.waiters)
        }
        for w in waiters { w.resume(throwing: InvocationFailure.unavailable("The emulator is shutting down.")) }
        for p in idle { p.terminate() }
        return idle
    }
}
