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
    /// A streamed answer, already delivered to the invocation's `InvocationStreamSink`: its
    /// size, and the error it ended with if it ended early.
    case streamed(bytes: Int, error: ErrorPayload?)
}

/// Receives a streamed answer as the function writes it (a function URL in RESPONSE_STREAM
/// mode). Called on the process's event loop, in order: `started`, `chunk`s, `ended`; or
/// nothing at all when the function answers whole (then the invocation's outcome is a
/// `response`).
package protocol InvocationStreamSink: Sendable {
    /// The function started streaming. `cancel` tells it the client went away.
    func started(_ prelude: StreamPrelude, cancel: @escaping @Sendable () -> Void)
    func chunk(_ bytes: ByteBuffer)
    /// The end: nil for a normal end, else the error the stream ended early with.
    func ended(_ error: ErrorPayload?)
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
        /// The invocation in flight's stream, if its caller reads one.
        var sink: (any InvocationStreamSink)?
        /// Whether the invocation in flight started streaming, and how many bytes so far.
        var streaming = false
        var streamedBytes = 0
        /// A stream to a caller that reads answers whole: collected into one response.
        var collected: (prelude: StreamPrelude, body: [UInt8])?
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
    /// - Parameter stream: where a streamed answer goes as it arrives; without one, a function
    ///   that streams is collected into one response (as Lambda's buffered Invoke does).
    func invoke(requestId: String, frame: ByteBuffer, timeout: Duration,
                stream: (any InvocationStreamSink)? = nil) -> EventLoopFuture<InvocationOutcome> {
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
                s.sink = stream
                s.streaming = false
                s.streamedBytes = 0
                s.collected = nil
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
        case .invoke, .cancel:
            violation("it sent a `\(type.rawValue)` frame, which only the emulator sends")
        case .streamStart:
            guard let prelude = frame["prelude"].flatMap(StreamPrelude.init(json:)) else {
                return violation("streamStart without a prelude (statusCode 100-599, headers)")
            }
            streamStarted(requestId: requestId, prelude: prelude)
        case .streamChunk:
            guard let text = frame["data"]?.stringValue, let data = Data(base64Encoded: text) else {
                return violation("streamChunk without base64 `data`")
            }
            streamChunk(requestId: requestId, ByteBuffer(data: data))
        case .streamEnd:
            streamEnded(requestId: requestId, error: nil)
        case .streamError:
            streamEnded(requestId: requestId, error: Self.errorPayload(frame["error"], fallback: "Function.StreamError"))
        }
    }

    // MARK: Streams

    func streamStarted(requestId: String?, prelude: StreamPrelude) {
        enum Step { case toSink(any InvocationStreamSink, String), collecting, refused(String) }
        let step = state.withLockedValue { s -> Step in
            guard case .busy(let id, _, _) = s.phase, id == requestId else { return .refused("streamStart for request \(requestId ?? "nil"), which is not in flight") }
            guard !s.streaming else { return .refused("streamStart twice for request \(id)") }
            s.streaming = true
            if let sink = s.sink { return .toSink(sink, id) }
            s.collected = (prelude, [])
            return .collecting
        }
        switch step {
        case .toSink(let sink, let id): sink.started(prelude, cancel: { [weak self] in self?.cancel(requestId: id) })
        case .collecting: break
        case .refused(let why): violation(why)
        }
    }

    func streamChunk(requestId: String?, _ bytes: ByteBuffer) {
        enum Step { case toSink(any InvocationStreamSink), collected, tooLarge(Int), refused(String) }
        let step = state.withLockedValue { s -> Step in
            guard case .busy(let id, _, _) = s.phase, id == requestId, s.streaming else {
                return .refused("streamChunk for request \(requestId ?? "nil") without a stream in flight")
            }
            s.streamedBytes += bytes.readableBytes
            if s.streamedBytes > FrameLimits.maxStreamedBytes { return .tooLarge(s.streamedBytes) }
            if let sink = s.sink { return .toSink(sink) }
            s.collected?.body.append(contentsOf: bytes.readableBytesView)
            if let c = s.collected, c.body.count > FrameLimits.maxPayloadBytes { return .tooLarge(c.body.count) }
            return .collected
        }
        switch step {
        case .toSink(let sink): sink.chunk(bytes)
        case .collected: break
        case .tooLarge(let n):
            let limit = state.withLockedValue { $0.sink == nil } ? FrameLimits.maxPayloadBytes : FrameLimits.maxStreamedBytes
            fail(.responseTooLarge("Response payload size (\(n) bytes) exceeded maximum allowed payload size (\(limit) bytes)."), kill: true)
        case .refused(let why): violation(why)
        }
    }

    func streamEnded(requestId: String?, error: ErrorPayload?) {
        let (sink, collected, bytes) = state.withLockedValue { s -> ((any InvocationStreamSink)?, (prelude: StreamPrelude, body: [UInt8])?, Int) in
            guard case .busy(let id, _, _) = s.phase, id == requestId, s.streaming else { return (nil, nil, -1) }
            return (s.sink, s.collected, s.streamedBytes)
        }
        guard bytes >= 0 else { return violation("stream end for request \(requestId ?? "nil") without a stream in flight") }
        sink?.ended(error)
        if let collected {
            if let error { return complete(requestId: requestId, with: .functionError(error)) }
            return complete(requestId: requestId, with: .response(Self.httpResponse(collected.prelude, body: collected.body)))
        }
        complete(requestId: requestId, with: .streamed(bytes: bytes, error: error))
    }

    /// A collected stream as the HTTP API response object it stands for.
    static func httpResponse(_ prelude: StreamPrelude, body: [UInt8]) -> JSONValue {
        var o: JSONObject = ["statusCode": .number(Double(prelude.statusCode))]
        o["headers"] = .object(JSONObject(prelude.headers.mapValues(JSONValue.string)))
        if !prelude.cookies.isEmpty { o["cookies"] = .array(prelude.cookies.map(JSONValue.string)) }
        if let text = String(validating: body, as: UTF8.self) {
            o["body"] = .string(text)
            o["isBase64Encoded"] = .bool(false)
        } else {
            o["body"] = .string(Data(body).base64EncodedString())
            o["isBase64Encoded"] = .bool(true)
        }
        return .object(o)
    }

    /// Tells the function that the client of `requestId`'s stream went away. The invocation
    /// stays in flight until the function ends the stream (or its timeout).
    func cancel(requestId: String) {
        let inFlight = state.withLockedValue { s -> Bool in
            if case .busy(let id, _, _) = s.phase, id == requestId { return true }
            return false
        }
        guard inFlight else { return }
        if let runtimeAPI {
            // The Runtime API has no way to say it (nor has Lambda): the function runs on.
            runtimeAPI.clientGone(requestId)
            return
        }
        let line = (try? FrameCodec.line(CancelFrame(requestId: requestId), encoder: JSONEncoder())) ?? Data()
        channel?.writeAndFlush(ByteBuffer(data: line), promise: nil)
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
            s.sink = nil
            s.streaming = false
            s.collected = nil
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
            /// A stream already under way: it ends early with the failure.
            var sink: (any InvocationStreamSink)?
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
            p.sink = s.streaming ? s.sink : nil
            s.sink = nil
            s.streaming = false
            s.collected = nil
            return p
        }
        guard let pending else { return }
        pending.timer?.cancel()
        pending.sink?.ended(ErrorPayload(errorType: "Function.StreamFailed", errorMessage: failure.description))
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


