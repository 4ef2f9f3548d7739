import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

package struct InvokerOptions: Sendable {
    /// Concurrency of a function without `ReservedConcurrentExecutions`.
    package var defaultConcurrency = 4
    /// Requests that may wait for a busy function before it answers 429.
    package var maxQueue = 64
    /// Warm processes idle this long are ended.
    package var idleTimeout: Duration = .seconds(300)
    /// Where event invocations are queued and dead-lettered; nil runs them in memory only.
    package var asyncDirectory: String?
    /// Multiplies Lambda's async retry delays (1 and 2 minutes); tests use a small value.
    package var asyncRetryScale: Double = 1
    /// How threads and handler processes are placed on CPUs.
    package var cpuAffinity: CPUAffinity = .shard

    package enum CPUAffinity: String, Sendable, CaseIterable {
        /// One event loop pinned per allowed CPU; handler processes inherit their loop's CPU.
        /// On virtual machines a cross-core wakeup costs tens of microseconds, so keeping a
        /// connection, its loop and the handler serving it on one core cuts latency several
        /// times. A CPU-heavy handler is then limited to one core (as on Lambda below 1,769 MB).
        case shard
        /// Let the kernel place everything.
        case none

        /// The event loops for this policy.
        package func makeEventLoopGroup() -> MultiThreadedEventLoopGroup {
            #if os(Linux)
            if self == .shard, let cpus = Self.allowedCPUs(), !cpus.isEmpty {
                return MultiThreadedEventLoopGroup(pinnedCPUIDs: cpus)
            }
            #endif
            return MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        }

        /// The CPUs this process may run on (`Cpus_allowed_list: 0-3,6`), honouring cgroups and taskset.
        static func allowedCPUs() -> [Int]? {
            guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
            var cpus: [Int] = []
            for part in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
                let bounds = part.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 1 { cpus.append(bounds[0]) }
                else if bounds.count == 2, bounds[0] <= bounds[1] { cpus += Array(bounds[0]...bounds[1]) }
            }
            return cpus
        }
    }

    package init() {}
}

/// The result of one invocation as the emulator saw it.
package struct InvocationResult: Sendable {
    package var requestId: String
    package var outcome: Result<InvocationOutcome, InvocationFailure>
    package var durationMs: Double
    /// Set on a cold start: spawn to `ready`.
    package var initMs: Double?
    /// The process's peak resident memory, when it was read.
    package var maxMemoryMB: Int? = nil
}

/// Invokes the template's functions on warm process pools. Knows functions only through the
/// template and the executables it names.
package final class Invoker: Sendable {
    package let template: Template
    let binaries: ExecutableLocator
    let options: InvokerOptions
    let log: EmulatorLog
    let eventLoops: any EventLoopGroup
    private let pools: NIOLockedValueBox<[String: FunctionPool]> = .init([:])
    private let environment: EnvironmentLayers
    private let encoder = FrameCodec.encoder()
    private let inFlightAsync = NIOLockedValueBox(0)

    package init(template: Template, binaries: ExecutableLocator, environment: EnvironmentLayers, options: InvokerOptions,
                log: EmulatorLog, eventLoops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.template = template
        self.binaries = binaries
        self.environment = environment
        self.options = options
        self.log = log
        self.eventLoops = eventLoops
    }

    /// One synchronous invocation (`RequestResponse`).
    package func invoke<E: Codable & Sendable>(_ function: FunctionSpec, event: E, requestId: String = Invoker.newRequestId(),
                                              traceId: String? = nil) async -> InvocationResult {
        let started = ContinuousClock.now
        switch frame(for: function, event: event, requestId: requestId, traceId: traceId) {
        case .failure(let f): return InvocationResult(requestId: requestId, outcome: .failure(f), durationMs: (ContinuousClock.now - started).milliseconds)
        case .success(let frame): return await invoke(function, frame: frame, requestId: requestId, started: started)
        }
    }

    /// The gateway's hot path: with a warm process idle on `eventLoop`, the whole invocation runs
    /// on that loop's thread (no hops between threads, each of which costs tens of microseconds
    /// on a busy 2-core machine). Otherwise it takes the async path (spawn, queue or throttle).
    /// - Parameter stream: where a streamed answer goes as the function writes it.
    package func invoke<E: Codable & Sendable>(_ function: FunctionSpec, event: E, requestId: String,
                                              on eventLoop: any EventLoop,
                                              stream: (any InvocationStreamSink)? = nil) -> EventLoopFuture<InvocationResult> {
        let started = ContinuousClock.now
        let frame: ByteBuffer
        switch self.frame(for: function, event: event, requestId: requestId, traceId: nil) {
        case .failure(let f):
            return eventLoop.makeSucceededFuture(InvocationResult(requestId: requestId, outcome: .failure(f), durationMs: 0))
        case .success(let f): frame = f
        }
        return invoke(function, frame: frame, requestId: requestId, started: started, on: eventLoop, stream: stream)
    }

    private func frame<E: Codable & Sendable>(for function: FunctionSpec, event: E, requestId: String, traceId: String?) -> Result<ByteBuffer, InvocationFailure> {
        let meta = InvocationMeta(requestId: requestId, deadlineMs: Timestamps.nowMs() + Int64(function.timeoutSeconds * 1000),
                                  functionName: function.functionName, invokedFunctionArn: InvocationMeta.localARN(function.functionName),
                                  traceId: traceId ?? Self.newTraceId())
        let line: [UInt8]
        do {
            line = try FrameCodec.invokeLine(meta, event: event, encoder: encoder)
        } catch {
            return .failure(.requestTooLarge("The event cannot be encoded: \(error)"))
        }
        if line.count > FrameLimits.maxPayloadBytes + 1024 {
            return .failure(.requestTooLarge(
                "Request payload size (\(line.count) bytes) exceeded maximum allowed payload size (\(FrameLimits.maxPayloadBytes) bytes)."))
        }
        return .success(ByteBuffer(bytes: line))
    }

    private func invoke(_ function: FunctionSpec, frame: ByteBuffer, requestId: String, started: ContinuousClock.Instant) async -> InvocationResult {
        let eventLoop = eventLoops.next()
        // The future never fails: every failure is an `InvocationResult` outcome.
        return (try? await invoke(function, frame: frame, requestId: requestId, started: started, on: eventLoop).get())
            ?? InvocationResult(requestId: requestId, outcome: .failure(.unavailable("invocation lost")), durationMs: 0)
    }

    private func invoke(_ function: FunctionSpec, frame: ByteBuffer, requestId: String, started: ContinuousClock.Instant,
                        on eventLoop: any EventLoop, stream: (any InvocationStreamSink)? = nil) -> EventLoopFuture<InvocationResult> {
        let failed: @Sendable (InvocationFailure) -> InvocationResult = { f in
            InvocationResult(requestId: requestId, outcome: .failure(f), durationMs: (ContinuousClock.now - started).milliseconds)
        }
        let pool: FunctionPool
        do {
            pool = try self.pool(for: function)
        } catch {
            return eventLoop.makeSucceededFuture(failed(error))
        }
        let log = self.log
        return pool.acquire(on: eventLoop).flatMap { (process, initMs) in
            self.run(process, initMs: initMs, pool: pool, function: function, frame: frame, requestId: requestId, started: started,
                     stream: stream)
                .hop(to: eventLoop)
        }.recover { error in
            let failure = error as? InvocationFailure ?? .crashed("\(error)")
            if case .initFailed = failure { log.emulator("\(function.logicalId): \(failure)") }
            return failed(failure)
        }.map { result in
            log.telemetry.finish(function: function.logicalId, requestId: requestId, outcome: Telemetry.outcome(result),
                                 durationMs: result.durationMs, initMs: result.initMs, maxMemoryMB: result.maxMemoryMB,
                                 memorySizeMB: function.memoryMB)
            return result
        }
    }

    /// Sends the frame to an acquired process, logs START/END/REPORT, and gives the process back.
    private func run(_ process: HandlerProcess, initMs: Double?, pool: FunctionPool, function: FunctionSpec, frame: ByteBuffer,
                     requestId: String, started: ContinuousClock.Instant,
                     stream: (any InvocationStreamSink)?) -> EventLoopFuture<InvocationResult> {
        log.start(function.logicalId, requestId: requestId)
        let timeout = Duration.milliseconds(Int64(function.timeoutSeconds * 1000))
        let log = self.log
        return process.invoke(requestId: requestId, frame: frame, timeout: timeout, stream: stream)
            .map { Result<InvocationOutcome, InvocationFailure>.success($0) }
            .recover { error in
                let failure = error as? InvocationFailure ?? .crashed("\(error)")
                log.function(function.logicalId, requestId: requestId, "\(failure)")
                return .failure(failure)
            }
            .map { outcome in
                let memory = process.peakMemoryMB()
                let result = InvocationResult(requestId: requestId, outcome: outcome, durationMs: (ContinuousClock.now - started).milliseconds,
                                              initMs: initMs, maxMemoryMB: memory)
                log.end(function.logicalId, requestId: requestId, durationMs: result.durationMs, memorySizeMB: function.memoryMB,
                        maxMemoryMB: memory, initMs: initMs)
                pool.release(process)
                return result
            }
    }

    /// The durable queue of event invocations, when `asyncDirectory` is set.
    package var asyncQueue: AsyncInvocationQueue? { asyncQueueBox.withLockedValue { $0 } }
    private let asyncQueueBox = NIOLockedValueBox<AsyncInvocationQueue?>(nil)

    /// Creates the durable queue (idempotent); returns it.
    @discardableResult
    package func startAsyncQueue() throws -> AsyncInvocationQueue? {
        guard let dir = options.asyncDirectory else { return nil }
        if let q = asyncQueue { return q }
        let q = try AsyncInvocationQueue(directory: dir, retryScale: options.asyncRetryScale, log: log) { [weak self] name, event, requestId in
            guard let self, let function = self.template.function(named: name) else {
                return InvocationResult(requestId: requestId, outcome: .failure(.spawnFailed("No function \(name) in the template.")), durationMs: 0)
            }
            return await self.invoke(function, event: event, requestId: requestId)
        }
        asyncQueueBox.withLockedValue { $0 = q }
        return q
    }

    /// An event invocation (`InvocationType=Event`): accepted at once, run in the background,
    /// through the durable queue (with Lambda's retries and the dead-letter folder) when there
    /// is one. A failure is logged with the event's id; it is never dropped silently.
    package func invokeAsync(functionName: String, event: JSONValue, source: String) {
        guard let function = template.function(named: functionName) else {
            log.emulator("async invocation from \(source) names unknown function `\(functionName)`: dropped (known: \(template.functions.map(\.logicalId).joined(separator: ", ")))")
            return
        }
        if let queue = asyncQueue {
            do {
                try queue.enqueue(function: function.logicalId, event: event, source: source)
                return
            } catch {
                log.emulator("async invocation from \(source): cannot queue durably (\(error)); running it in memory")
            }
        }
        inFlightAsync.withLockedValue { $0 += 1 }
        let requestId = Self.newRequestId()
        log.telemetry.label(requestId, "async")
        Task {
            let result = await invoke(function, event: event, requestId: requestId)
            inFlightAsync.withLockedValue { $0 -= 1 }
            switch result.outcome {
            case .success(.response), .success(.streamed(_, nil)): break
            case .success(.streamed(_, let e?)), .success(.functionError(let e)):
                log.emulator("async invocation \(result.requestId) of \(function.logicalId) (from \(source)) failed: \(e.errorType): \(e.errorMessage)")
            case .failure(let f):
                log.emulator("async invocation \(result.requestId) of \(function.logicalId) (from \(source)) failed: \(f)")
            }
        }
    }

    private func pool(for function: FunctionSpec) throws(InvocationFailure) -> FunctionPool {
        if let p = pools.withLockedValue({ $0[function.logicalId] }) { return p }
        let launch = try FunctionLaunch.resolve(function, template: template, binaries: binaries, environment: environment.shell)
        let env = launch.adjusted(environment.resolved(for: function, taskRoot: launch.taskRoot))
        let concurrency = function.reservedConcurrency ?? options.defaultConcurrency
        guard concurrency > 0 else {
            throw .throttled("\(function.logicalId) has ReservedConcurrentExecutions 0: every invocation is throttled.")
        }
        return pools.withLockedValue { pools in
            if let p = pools[function.logicalId] { return p }
            let p = FunctionPool(function: function, launch: launch, environment: env, maxConcurrency: concurrency,
                                 maxQueue: options.maxQueue, eventLoops: eventLoops, log: log) { [weak self] name, event in
                self?.invokeAsync(functionName: name, event: event, source: function.logicalId)
            }
            pools[function.logicalId] = p
            return p
        }
    }

    /// Starts the idle reaper and the rebuild watcher; returns when cancelled. Executables are
    /// checked every 250 ms, so a rebuilt function is serving the new binary within about half a
    /// second of the build finishing.
    package func runReaper() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            for pool in pools.withLockedValue({ Array($0.values) }) {
                pool.checkBinary()
                pool.reap(idleFor: options.idleTimeout)
            }
        }
    }

    package struct PoolStats: Codable, Sendable {
        package var function: String
        package var live: Int
        package var idle: Int
        package var queued: Int
    }

    package var stats: [PoolStats] {
        pools.withLockedValue { $0.values.map { p in
            let s = p.stats
            return PoolStats(function: p.function.logicalId, live: s.live, idle: s.idle, queued: s.queued)
        } }.sorted { $0.function < $1.function }
    }

    /// Ends every process: idle ones now, busy ones once their invocation ends (in-flight
    /// work is drained by the caller before this). Waits up to `grace` for them to exit.
    package func shutdown(grace: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + grace
        while inFlightAsync.withLockedValue({ $0 }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let closing = pools.withLockedValue { Array($0.values) }.flatMap { $0.close() }
        for p in closing {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            _ = try? await p.exitDescription.get()
        }
    }

    /// A random (version 4) UUID in Lambda's lower-case form, formatted by hand: Foundation's
    /// `uuidString` goes through sprintf, which showed up in the gateway's profile.
    package static func newRequestId() -> String {
        var a = UInt64.random(in: .min ... .max), b = UInt64.random(in: .min ... .max)
        a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000  // version 4
        b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x2D, count: 36)
        var i = 0
        for (word, count) in [(a, 16), (b, 16)] {
            for n in stride(from: count - 1, through: 0, by: -1) {
                if i == 8 || i == 13 || i == 18 || i == 23 { i += 1 }
                out[i] = digits[Int((word >> UInt64(n * 4)) & 0xF)]
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An X-Ray trace header: `Root=1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`.
    static func newTraceId() -> String {
        func hex<T: FixedWidthInteger>(_ v: T, _ width: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "Root=1-\(hex(UInt32(Timestamps.nowMs() / 1000), 8))-\(hex(UInt32.random(in: .min ... .max), 8))\(hex(UInt64.random(in: .min ... .max), 16));Sampled=0"
    }
}
