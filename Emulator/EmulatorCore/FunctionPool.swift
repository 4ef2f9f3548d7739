import DequeModule
import Foundation
import FunctionProtocol
import JSON
import NIOConcurrencyHelpers
import NIOCore

/// Warm processes of one function, like Lambda execution environments: spawned on demand up to
/// the function's concurrency, reused while warm, reaped when idle. Past capacity a request
/// waits in a bounded queue; past the queue it is throttled (429).
final class FunctionPool: Sendable {
    let function: FunctionSpec
    let launch: FunctionLaunch
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
        var waiters: Deque<EventLoopPromise<Lease>> = []
        var closed = false
        /// Processes started from an executable that has since been rebuilt: ended when released.
        var stale: Set<ObjectIdentifier> = []
        var live: [ObjectIdentifier: HandlerProcess] = [:]
        var binary: BinaryStamp?
        var changedBinary: BinaryStamp?
    }

    /// Identifies one build of the executable.
    struct BinaryStamp: Equatable {
        var inode: UInt64
        var size: Int64
        var mtimeNs: Int64

        init?(_ path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            inode = UInt64(st.st_ino)
            size = Int64(st.st_size)
            mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        }
    }

    private let state = NIOLockedValueBox(State())

    init(function: FunctionSpec, launch: FunctionLaunch, environment: [String: String], maxConcurrency: Int, maxQueue: Int,
         eventLoops: any EventLoopGroup, log: EmulatorLog, onInvokeAsync: @escaping @Sendable (String, JSONValue) -> Void) {
        self.function = function
        self.launch = launch
        self.environment = environment
        self.maxConcurrency = max(1, maxConcurrency)
        self.maxQueue = max(0, maxQueue)
        self.eventLoops = eventLoops
        self.log = log
        self.onInvokeAsync = onInvokeAsync
        let stamp = BinaryStamp(launch.watchedFile)
        state.withLockedValue { $0.binary = stamp }
    }

    /// A process for one invocation, as a future on `eventLoop`: an idle warm one (preferring one
    /// whose pipes live on that loop, so nothing changes thread) with nil init time; a freshly
    /// started one with its init time in ms; or, past capacity, the next one released, after
    /// waiting in the bounded queue. Fails with `.throttled` past the queue.
    func acquire(on eventLoop: any EventLoop) -> EventLoopFuture<(HandlerProcess, Double?)> {
        let decision: Result<Lease, InvocationFailure>? = state.withLockedValue { s in
            if s.closed { return .failure(.unavailable("The emulator is shutting down.")) }
            while !s.idle.isEmpty {
                let index = s.idle.lastIndex { $0.eventLoop === eventLoop } ?? s.idle.count - 1
                let p = s.idle.remove(at: index)
                if p.isAlive { return .success(.warm(p)) }
                s.count -= 1
            }
            if s.count < maxConcurrency {
                s.count += 1
                return .success(.spawn)
            }
            return nil
        }
        switch decision {
        case .success(.warm(let p))?:
            return eventLoop.makeSucceededFuture((p, nil))
        case .success(.spawn)?:
            return spawn(on: eventLoop)
        case .failure(let f)?:
            return eventLoop.makeFailedFuture(f)
        case nil:
            let promise = eventLoop.makePromise(of: Lease.self)
            let queued = state.withLockedValue { s -> Bool in
                guard s.waiters.count < maxQueue else { return false }
                s.waiters.append(promise)
                return true
            }
            guard queued else {
                let f = InvocationFailure.throttled(
                    "\(function.logicalId) is at its concurrency limit (\(maxConcurrency)) with \(maxQueue) requests queued.")
                promise.fail(f)
                return eventLoop.makeFailedFuture(f)
            }
            return promise.futureResult.flatMap { lease in
                switch lease {
                case .warm(let p): return eventLoop.makeSucceededFuture((p, nil))
                case .spawn: return self.spawn(on: eventLoop)
                }
            }
        }
    }

    private func spawn(on eventLoop: any EventLoop) -> EventLoopFuture<(HandlerProcess, Double?)> {
        eventLoop.makeFutureWithTask { [self] in
            do {
                let (p, initMs) = try await HandlerProcess.start(
                    function: function, launch: launch, environment: environment,
                    eventLoop: eventLoop, log: log, onInvokeAsync: onInvokeAsync)
                state.withLockedValue { $0.live[ObjectIdentifier(p)] = p }
                return (p, Optional(initMs))
            } catch {
                discardSlot(nil)
                throw error
            }
        }
    }

    /// Returns a process after an invocation. A dead one frees its slot for a replacement.
    func release(_ process: HandlerProcess) {
        guard process.isAlive else { return discardSlot(process) }
        let stale = state.withLockedValue { $0.stale.contains(ObjectIdentifier(process)) }
        if stale {
            process.terminate()
            return discardSlot(process)
        }
        let (handoff, closed): (EventLoopPromise<Lease>?, Bool) = state.withLockedValue { s in
            if s.closed { return (nil, true) }
            if let w = s.waiters.popFirst() { return (w, false) }
            s.idle.append(process)
            return (nil, false)
        }
        if let handoff {
            handoff.succeed(.warm(process))
        } else if closed {
            process.terminate()
        }
    }

    private func discardSlot(_ process: HandlerProcess?) {
        let waiter: EventLoopPromise<Lease>? = state.withLockedValue { s in
            s.count -= 1
            if let process {
                s.live[ObjectIdentifier(process)] = nil
                s.stale.remove(ObjectIdentifier(process))
            }
            guard !s.closed, let w = s.waiters.popFirst() else { return nil }
            s.count += 1
            return w
        }
        waiter?.succeed(.spawn)
    }

    /// Rebuild recycling: when the executable changed on disk (and has stayed the same for one
    /// more check, so a half-written binary is never started), idle processes are ended now and
    /// busy ones when their invocation ends; the next request starts the new binary.
    /// - Returns: how many warm processes were recycled, or nil when nothing changed.
    @discardableResult
    func checkBinary() -> Int? {
        guard let now = BinaryStamp(launch.watchedFile) else { return nil }
        let recycled: [HandlerProcess]? = state.withLockedValue { s in
            guard let known = s.binary else {
                s.binary = now
                return nil
            }
            if now == known {
                s.changedBinary = nil
                return nil
            }
            guard s.changedBinary == now else {
                s.changedBinary = now
                return nil
            }
            s.binary = now
            s.changedBinary = nil
            let idle = s.idle
            s.idle = []
            s.count -= idle.count
            for p in idle { s.live[ObjectIdentifier(p)] = nil }
            s.stale = Set(s.live.keys)
            return idle
        }
        guard let recycled else { return nil }
        log.emulator("\(function.logicalId): \(launch.watchedFile) changed; recycling \(recycled.count) idle process(es), busy ones after their invocation")
        for p in recycled { p.terminate() }
        return recycled.count
    }

    /// Ends processes idle for longer than `idleFor`.
    func reap(idleFor: Duration) {
        let now = ContinuousClock.now
        let stale: [HandlerProcess] = state.withLockedValue { s in
            let (old, fresh) = (s.idle.filter { now - $0.lastUsed > idleFor }, s.idle.filter { now - $0.lastUsed <= idleFor })
            s.idle = fresh
            s.count -= old.count
            for p in old { s.live[ObjectIdentifier(p)] = nil }
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
        let (idle, waiters): ([HandlerProcess], Deque<EventLoopPromise<Lease>>) = state.withLockedValue { s in
            s.closed = true
            defer { s.idle = []; s.waiters = [] }
            return (s.idle, s.waiters)
        }
        for w in waiters { w.fail(InvocationFailure.unavailable("The emulator is shutting down.")) }
        for p in idle { p.terminate() }
        return idle
    }
}
