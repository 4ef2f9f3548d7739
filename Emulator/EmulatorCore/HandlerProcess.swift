import Foundation
import FunctionProtocol
import JSON
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOPosix

/// Why an invocation produced no answer from the function itself. Each maps to an honest status.
package enum InvocationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case crashed(String)
    case timedOut(seconds: Double)
    case initFailed(ErrorPayload)
    case protocolViolation(String)
    case responseTooLarge(String)
    case requestTooLarge(String)
    case throttled(String)
    case spawnFailed(String)
    case unavailable(String)

    package var description: String {
        switch self {
        case .crashed(let m): "The function crashed: \(m)."
        case .timedOut(let s): "The function did not answer within its \(s.formatted())-second timeout."
        case .initFailed(let e): "The function failed to initialise: \(e.errorType): \(e.errorMessage)"
        case .protocolViolation(let m): "The function broke the protocol: \(m)."
        case .responseTooLarge(let m): m
        case .requestTooLarge(let m): m
        case .throttled(let m): m
        case .spawnFailed(let m): m
        case .unavailable(let m): m
        }
    }
}

/// What the function answered.
package enum InvocationOutcome: Sendable, Equatable {
    case response(JSONValue)
    case functionError(ErrorPayload)
}

/// One warm handler process: it speaks the NDJSON protocol over its pipes, or the Lambda Runtime
/// API over HTTP (a `RuntimeAPIHost` turns those requests into the same frames). Serves one
/// invocation at a time. Every fault (crash, timeout, garbage on stdout) fails the pending
/// invocation with a reason and leaves the process dead, never a request hanging.
final class HandlerProcess: @unchecked Sendable {
    let pid: pid_t
    let function: FunctionSpec
    let spawnedAt = ContinuousClock.now
    /// Stdio: frames out on stdin, in on stdout. Runtime API: stdout is only a log stream.
    private var channel: (any Channel)?
    private var stderrChannel: (any Channel)?
    private var runtimeAPI: RuntimeAPIHost?
    /// The loop its pipes live on. The gateway prefers a process on the loop of the connection
    /// it serves, so a warm invocation never changes thread.
    let eventLoop: any EventLoop
    private let log: EmulatorLog
    private let onInvokeAsync: @Sendable (String, JSONValue) -> Void

    private enum Phase {
        case starting
        case idle
        case busy(requestId: String, promise: EventLoopPromise<InvocationOutcome>, timeout: Scheduled<Void>?)
        case dead(InvocationFailure)
    }

    private struct State {
        var phase: Phase = .starting
        var currentRequestId: String?
        var lastUsed = ContinuousClock.now
        var invocations = 0
    }

    private let state = NIOLockedValueBox(State())
    private let ready: EventLoopPromise<Double>
    private let exited: EventLoopPromise<String>

    private init(pid: pid_t, function: FunctionSpec, eventLoop: any EventLoop, log: EmulatorLog,
                 onInvokeAsync: @escaping @Sendable (String, JSONValue) -> Void) {
        self.pid = pid
        self.function = function
        self.eventLoop = eventLoop
        self.log = log
        self.onInvokeAsync = onInvokeAsync
        ready = eventLoop.makePromise()
        exited = eventLoop.makePromise()
    }

    /// Spawns the handler and waits for its `ready` frame (the cold start).
    /// - Returns: the process and its init duration in ms, measured here from spawn to `ready`.
    static func start(
        function: FunctionSpec, launch: FunctionLaunch, environment: [String: String], eventLoop: any EventLoop,
        log: EmulatorLog, onInvokeAsync: @escaping @Sendable (String, JSONValue) -> Void
    ) async throws(InvocationFailure) -> (HandlerProcess, Double) {
        let began = ContinuousClock.now
        var environment = environment
        var host: RuntimeAPIHost?
        if launch.interface == .runtimeAPI {
            // Bound before the spawn: the endpoint goes into the child's environment.
            do {
                let h = try await RuntimeAPIHost.bind(on: eventLoop, function: function, log: log)
                environment["AWS_LAMBDA_RUNTIME_API"] = h.address
                host = h
            } catch {
                throw .spawnFailed("Cannot serve the Runtime API for \(function.logicalId): \(error)")
            }
        }
        let child: Spawn.Child
        do {
            // Spawned from the loop's own thread: the child inherits that thread's CPU affinity,
            // so with pinned loops (`--cpu-affinity shard`) a handler shares its loop's core and a
            // round trip costs two context switches instead of two cross-core wakeups.
            let env = environment
            child = try await eventLoop.submit {
                try Spawn.spawn(executable: launch.executable, arguments: launch.arguments, environment: env,
                                workingDirectory: launch.workingDirectory)
            }.get()
        } catch {
            host?.close()
            throw .spawnFailed("Cannot start \(function.logicalId): \(error)")
        }
        let process = HandlerProcess(pid: child.pid, function: function, eventLoop: eventLoop, log: log, onInvokeAsync: onInvokeAsync)
        do {
            if let host {
                process.runtimeAPI = host
                host.attach(process)
                // Nothing is ever written to a Runtime API process's stdin; EOF is honest.
                close(child.stdin)
                process.channel = try await NIOPipeBootstrap(group: eventLoop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(LineFrameDecoder(maxLength: 256 * 1024, truncate: true)))
                            try channel.pipeline.syncOperations.addHandler(StderrForwarder(process: process, endsProcess: true))
                        }
                    }
                    .takingOwnershipOfDescriptor(input: child.stdout).get()
            } else {
                process.channel = try await NIOPipeBootstrap(group: eventLoop)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(LineFrameDecoder(maxLength: FrameLimits.maxLineBytes)))
                            try channel.pipeline.syncOperations.addHandler(FrameReader(process: process))
                        }
                    }
                    .takingOwnershipOfDescriptors(input: child.stdout, output: child.stdin).get()
            }
            process.stderrChannel = try await NIOPipeBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LineFrameDecoder(maxLength: 256 * 1024, truncate: true)))
                        try channel.pipeline.syncOperations.addHandler(StderrForwarder(process: process))
                    }
                }
                .takingOwnershipOfDescriptor(input: child.stderr).get()
        } catch {
            kill(child.pid, SIGKILL)
            Spawn.reap(child.pid) { _ in }
            host?.close()
            throw .spawnFailed("Cannot attach to \(function.logicalId)'s pipes: \(error)")
        }
        if let host { process.exited.futureResult.whenComplete { _ in host.close() } }

        // Lambda allows 10 s of init; a handler that neither readies nor fails is killed then.
        let initLimit = eventLoop.scheduleTask(in: .seconds(10)) {
            process.fail(.initFailed(ErrorPayload(errorType: "InitTimeout", errorMessage: "no ready frame within 10 s")), kill: true)
        }
        do {
            _ = try await process.ready.futureResult.get()
            initLimit.cancel()
            return (process, (ContinuousClock.now - began).milliseconds)
        } catch let failure as InvocationFailure {
            initLimit.cancel()
            throw failure
        } catch {
            initLimit.cancel()
            throw .crashed("\(error)")
        }
    }

    var currentRequestId: String? { state.withLockedValue { $0.currentRequestId } }
    var lastUsed: ContinuousClock.Instant { state.withLockedValue { $0.lastUsed } }
    var isAlive: Bool { state.withLockedValue { if case .dead = $0.phase { false } else { true } } }

    /// Sends one invoke frame; the future completes with the answer, or fails with an
    /// `InvocationFailure` at the deadline or the process's death.
    func invoke(requestId: String, frame: ByteBuffer, timeout: Duration) -> EventLoopFuture<InvocationOutcome> {
        let promise = eventLoop.makePromise(of: InvocationOutcome.self)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        // Armed before the frame goes out and bound to this request id, so a fast answer can
        // always cancel it and a late firing can never hit a later invocation.
        let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [self] in
            fail(.timedOut(seconds: function.timeoutSeconds), kill: true, onlyFor: requestId)
        }
        let refused: InvocationFailure? = state.withLockedValue { s in
            switch s.phase {
            case .idle:
                s.phase = .busy(requestId: requestId, promise: promise, timeout: timer)
                s.currentRequestId = requestId
                s.invocations += 1
                return nil
            case .dead(let f): return f
            case .starting, .busy: return .unavailable("process \(pid) is not idle")
            }
        }
        if let refused {
            timer.cancel()
            promise.fail(refused)
            return promise.futureResult
        }
        if let runtimeAPI {
            runtimeAPI.deliver(frame)
        } else {
            channel?.writeAndFlush(frame).whenFailure { [self] error in
                fail(.crashed("cannot write to its stdin (\(error))"), kill: true)
            }
        }
        return promise.futureResult
    }

    /// Ends an idle process: stdin closed (a well-behaved runtime exits 0 on EOF), SIGTERM, then
    /// SIGKILL after `grace`.
    func terminate(grace: TimeAmount = .seconds(2)) {
        state.withLockedValue { s in
            if case .idle = s.phase { s.phase = .dead(.unavailable("terminated")) }
        }
        if runtimeAPI == nil { channel?.close(mode: .output, promise: nil) }
        kill(pid, SIGTERM)
        let pid = self.pid
        eventLoop.scheduleTask(in: grace) { kill(pid, SIGKILL) }
    }

    /// Resolves when the process has exited and been reaped, with how it ended.
    var exitDescription: EventLoopFuture<String> { exited.futureResult }

    /// VmHWM for REPORT lines. Reading /proc costs tens of microseconds, so a warm process's
    /// figure is refreshed at most every 250 ms (a high-water mark changes rarely once warm).
    func peakMemoryMB() -> Int? {
        let now = ContinuousClock.now
        if let cached = memoryCache.withLockedValue({ c in c.flatMap { now - $0.at < .milliseconds(250) ? $0.mb : nil } }) {
            return cached
        }
        let mb = Spawn.peakMemoryMB(pid)
        if let mb { memoryCache.withLockedValue { $0 = (mb, now) } }
        return mb
    }

    private let memoryCache = NIOLockedValueBox<(mb: Int, at: ContinuousClock.Instant)?>(nil)

    // MARK: Frames in

    fileprivate func received(line: ByteBuffer) {
        guard line.readableBytes > 0 else { return }
        // The hand-written parser, not JSONDecoder: one frame per invocation is on the hot path.
        guard let (type, frame) = FrameCodec.frame(line.readableBytesView) else {
            let preview = String(buffer: line.getSlice(at: line.readerIndex, length: min(line.readableBytes, 120))!)
            violation("it wrote a line that is not a protocol frame to stdout: \(preview.debugDescription)")
            return
        }
        received(type, frame)
    }

    /// One frame, from the pipe or translated from a Runtime API request.
    func received(_ type: FrameType, _ frame: JSONObject) {
        let requestId = frame["requestId"]?.stringValue
        switch type {
        case .ready:
            let wasStarting = state.withLockedValue { s -> Bool in
                guard case .starting = s.phase else { return false }
                s.phase = .idle
                return true
            }
            if wasStarting { ready.succeed(frame["initMs"]?.doubleValue ?? 0) } else { violation("it sent `ready` twice") }
        case .initError:
            fail(.initFailed(Self.errorPayload(frame["error"], fallback: "InitError")), kill: true)
        case .response:
            complete(requestId: requestId, with: .response(frame["payload"] ?? .null))
        case .error:
            let e = Self.errorPayload(frame["error"], fallback: "Unknown")
            if e.errorType == "Function.ResponseSizeTooLarge" {
                fail(.responseTooLarge(e.errorMessage), kill: false, keepAlive: true)
            } else {
                complete(requestId: requestId, with: .functionError(e))
            }
        case .invokeAsync:
            guard let name = frame["functionName"]?.stringValue else { return violation("invokeAsync without functionName") }
            onInvokeAsync(name, frame["event"] ?? .object([:]))
        case .invoke:
            violation("it sent an `invoke` frame, which only the emulator sends")
        }
    }

    static func errorPayload(_ v: JSONValue?, fallback: String) -> ErrorPayload {
        ErrorPayload(errorType: v?["errorType"]?.stringValue ?? fallback,
                     errorMessage: v?["errorMessage"]?.stringValue ?? "(no message)",
                     stackTrace: v?["stackTrace"]?.arrayValue?.map(\.textValue))
    }

    private func complete(requestId: String?, with outcome: InvocationOutcome) {
        let result: (EventLoopPromise<InvocationOutcome>, Scheduled<Void>?)? = state.withLockedValue { s in
            guard case .busy(let id, let promise, let timer) = s.phase else { return nil }
            // An error frame without a requestId answers a frame the handler could not read: ours.
            guard requestId == id || (requestId == nil && { if case .functionError = outcome { true } else { false } }()) else { return nil }
            s.phase = .idle
            s.currentRequestId = nil
            s.lastUsed = .now
            return (promise, timer)
        }
        guard let (promise, timer) = result else {
            if case .response = outcome { violation("it answered request \(requestId ?? "nil"), which is not the one in flight") }
            else { log.function(function.logicalId, requestId: nil, "error frame for no invocation: \(outcome)") }
            return
        }
        timer?.cancel()
        promise.succeed(outcome)
    }

    func violation(_ reason: String) {
        log.emulator("\(function.logicalId) (pid \(pid)): protocol violation: \(reason); replacing the process")
        fail(.protocolViolation(reason), kill: true)
    }

    /// Fails whatever is pending and, unless `keepAlive`, marks the process dead (and kills it
    /// when asked). With `onlyFor`, does nothing unless that request is the one in flight.
    fileprivate func fail(_ failure: InvocationFailure, kill shouldKill: Bool, keepAlive: Bool = false, onlyFor requestId: String? = nil) {
        struct Pending {
            var promise: EventLoopPromise<InvocationOutcome>?
            var timer: Scheduled<Void>?
            var wasStarting = false
        }
        let pending: Pending? = state.withLockedValue { s in
            if let requestId {
                guard case .busy(let id, _, _) = s.phase, id == requestId else { return nil }
            }
            var p = Pending()
            switch s.phase {
            case .busy(_, let promise, let timer): (p.promise, p.timer) = (promise, timer)
            case .starting: p.wasStarting = true
            case .dead: return nil
            case .idle: break
            }
            if keepAlive {
                if p.promise != nil { s.phase = .idle }
            } else {
                s.phase = .dead(failure)
            }
            s.currentRequestId = nil
            return p
        }
        guard let pending else { return }
        pending.timer?.cancel()
        pending.promise?.fail(failure)
        if pending.wasStarting { ready.fail(failure) }
        if shouldKill && !keepAlive { kill(pid, SIGKILL) }
    }

    fileprivate func stdoutClosed() {
        Spawn.reap(pid) { [self] status in
            let how = Spawn.describe(status: status)
            eventLoop.execute {
                self.fail(.crashed("process \(self.pid) \(how)"), kill: false)
                self.exited.succeed(how)
            }
        }
    }

    fileprivate func stderrLine(_ line: ByteBuffer) {
        var text = String(buffer: line)
        // Lambda runtimes join a multi-line record (a traceback) with \r so it stays one log
        // event; on a terminal that prints as one garbled line, so it is unfolded here.
        if text.utf8.contains(0x0D) {
            text = text.split(separator: "\r", omittingEmptySubsequences: true).joined(separator: "\n    ")
        }
        log.function(function.logicalId, requestId: currentRequestId, text)
    }
}

private final class FrameReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let process: HandlerProcess
    init(process: HandlerProcess) { self.process = process }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        process.received(line: unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        process.stdoutClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let tooLong = error as? LineFrameDecoder.LineTooLong {
            process.fail(.responseTooLarge(
                "Response payload size (\(tooLong.length) bytes) exceeded maximum allowed payload size (\(FrameLimits.maxPayloadBytes) bytes)."),
                kill: true)
        } else {
            process.fail(.crashed("stdout: \(error)"), kill: true)
        }
        context.close(promise: nil)
    }
}

/// Forwards a log stream (stderr; stdout too in Runtime API mode) line by line.
private final class StderrForwarder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let process: HandlerProcess
    /// The stream's end is the process's end (its stdout, when frames do not travel on it).
    let endsProcess: Bool
    init(process: HandlerProcess, endsProcess: Bool = false) {
        self.process = process
        self.endsProcess = endsProcess
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        process.stderrLine(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if endsProcess { process.stdoutClosed() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}


