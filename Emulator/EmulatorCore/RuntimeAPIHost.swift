import Foundation
import FunctionProtocol
import JSON
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Lambda Runtime API (`/2018-06-01/runtime/...`) for one handler process, on a port of its
/// own (the path has no room for a function name, and on Lambda each sandbox has its own
/// endpoint too). It translates the runtime's HTTP calls into the protocol frames
/// `HandlerProcess` already understands, so timeouts, crashes, logs and recycling behave the
/// same whichever wire a function speaks:
///
/// - the first `GET /invocation/next` is the end of init (`ready`);
/// - an invocation answers the waiting `next` (or the next one to arrive);
/// - `POST /invocation/{id}/response` and `/error` are the `response` and `error` frames;
/// - `POST /init/error` is `initError`;
/// - a `POST /invocation/{id}/response` in streaming mode
///   (`Lambda-Runtime-Function-Response-Mode: streaming`, a chunked body: the HTTP integration's
///   JSON prelude, 8 NUL bytes, the body; error trailers) is a stream, fed to the process as it
///   arrives (`StreamedResponseReader`).
final class RuntimeAPIHost: Sendable {
    typealias Response = HTTPEventMapping.OutgoingResponse

    let address: String
    private let server: any Channel
    private let function: FunctionSpec
    private let log: EmulatorLog

    private struct Invocation {
        var requestId: String
        var headers: [(String, String)]
        var body: [UInt8]
    }

    private struct State {
        weak var process: HandlerProcess?
        var initialised = false
        /// The runtime's long poll, when it is waiting.
        var waiting: EventLoopPromise<Response>?
        /// An invocation that arrived while no `next` was waiting.
        var queued: Invocation?
        /// Handed out and not yet answered.
        var inFlight: String?
        var closed = false
        /// Frames from a runtime fast enough to call before `attach` (spawn to attach is a
        /// few microseconds, but a `ready` lost there would cost a 10-second init timeout).
        var early: [(FrameType, JSONObject)] = []
    }

    private let state = NIOLockedValueBox(State())

    private init(address: String, server: any Channel, function: FunctionSpec, log: EmulatorLog) {
        self.address = address
        self.server = server
        self.function = function
        self.log = log
    }

    /// Listens on 127.0.0.1 (a free port) on the process's own loop, so an invocation's hops
    /// stay on one thread as in the stdio path.
    static func bind(on eventLoop: any EventLoop, function: FunctionSpec, log: EmulatorLog) async throws -> RuntimeAPIHost {
        let box = NIOLockedValueBox<RuntimeAPIHost?>(nil)
        let server = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let host = box.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StreamedResponseReader(host: host))
                    try channel.pipeline.syncOperations.addHandler(GatewayHTTPHandler(
                        respond: { request, loop in host.respond(to: request, on: loop) },
                        respondTooLarge: { request in host.tooLarge(request) }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let host = RuntimeAPIHost(address: "127.0.0.1:\(server.localAddress?.port ?? 0)", server: server, function: function, log: log)
        box.withLockedValue { $0 = host }
        return host
    }

    func attach(_ process: HandlerProcess) {
        let early = state.withLockedValue { s in
            s.process = process
            defer { s.early = [] }
            return s.early
        }
        for (type, frame) in early { process.received(type, frame) }
    }

    /// Passes a frame to the process, or keeps it until `attach`.
    private func dispatch(_ type: FrameType, _ frame: JSONObject) {
        let process = state.withLockedValue { s -> HandlerProcess? in
            if s.process == nil { s.early.append((type, frame)) }
            return s.process
        }
        process?.received(type, frame)
    }

    /// Stops listening; a runtime still waiting in `next` is cut off (its process has ended).
    func close() {
        let waiting = state.withLockedValue { s -> EventLoopPromise<Response>? in
            s.closed = true
            defer { s.waiting = nil }
            return s.waiting
        }
        waiting?.succeed(Self.error(410, "Runtime.Terminated", "The execution environment is shutting down."))
        server.close(promise: nil)
    }

    // MARK: Invocations in

    /// Hands an invoke frame (as the stdio path would write it) to the runtime.
    func deliver(_ frame: ByteBuffer) {
        guard case .object(let f)? = try? JSONValue.parse(frame.readableBytesView),
              let requestId = f["requestId"]?.stringValue else {
            state.withLockedValue { $0.process }?.violation("the emulator built an unreadable invoke frame")
            return
        }
        var headers: [(String, String)] = [
            ("content-type", "application/json"),
            ("lambda-runtime-aws-request-id", requestId),
            ("lambda-runtime-deadline-ms", f["deadlineMs"]?.textValue ?? "0"),
            ("lambda-runtime-invoked-function-arn", f["invokedFunctionArn"]?.stringValue ?? ""),
        ]
        if let trace = f["traceId"]?.stringValue { headers.append(("lambda-runtime-trace-id", trace)) }
        if let context = f["clientContext"], context != .null, let data = try? context.encoded() {
            headers.append(("lambda-runtime-client-context", String(decoding: data, as: UTF8.self)))
        }
        let body = (try? (f["event"] ?? .object([:])).encoded()).map(Array.init) ?? Array("{}".utf8)
        let invocation = Invocation(requestId: requestId, headers: headers, body: body)
        let waiting = state.withLockedValue { s -> EventLoopPromise<Response>? in
            guard let w = s.waiting else {
                s.queued = invocation
                return nil
            }
            s.waiting = nil
            s.inFlight = requestId
            return w
        }
        waiting?.succeed(Response(status: 200, headers: invocation.headers, body: invocation.body))
    }

    // MARK: The runtime's calls

    private func respond(to request: HTTPEventMapping.IncomingRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let parts = request.rawPath.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "2018-06-01", parts[1] == "runtime" else {
            return eventLoop.makeSucceededFuture(Self.error(404, "InvalidRequest", "Unknown path \(request.rawPath)."))
        }
        let route = Array(parts.dropFirst(2))
        let method = request.method
        // `invocation/next`, `invocation/{id}/response|error`, `init/error`.
        let known = route == ["invocation", "next"] || route == ["init", "error"]
            || (route.count == 3 && route[0] == "invocation" && (route[2] == "response" || route[2] == "error"))
        guard known else {
            return eventLoop.makeSucceededFuture(Self.error(404, "InvalidRequest", "Unknown path \(request.rawPath)."))
        }
        let expected = route == ["invocation", "next"] ? "GET" : "POST"
        guard method == expected else {
            return eventLoop.makeSucceededFuture(Self.error(405, "InvalidRequest", "\(method) is not allowed on \(request.rawPath)."))
        }
        if route == ["invocation", "next"] { return next(on: eventLoop) }
        if route == ["init", "error"] {
            state.withLockedValue { $0.initialised = true }
            // Acknowledged first: the runtime exits by itself after reporting, as on Lambda.
            let error = JSONValue.object(Self.errorObject(request))
            eventLoop.execute { self.dispatch(.initError, ["type": "initError", "error": error]) }
            return eventLoop.makeSucceededFuture(Self.accepted)
        }
        let id = route[1]
        if route[2] == "error" {
            return eventLoop.makeSucceededFuture(answer(id, .error, ["error": .object(Self.errorObject(request))]))
        }
        let payload: JSONValue
        if request.body.isEmpty {
            payload = .null
        } else if let json = try? JSONValue.parse(request.body) {
            payload = json
        } else {
            // Lambda passes a non-JSON answer through as it is.
            payload = .string(String(decoding: request.body, as: UTF8.self))
        }
        return eventLoop.makeSucceededFuture(answer(id, .response, ["payload": payload]))
    }

    private func next(on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        enum Step {
            case ready
            case deliver(Invocation)
            case wait(EventLoopPromise<Response>)
            case unanswered(String, HandlerProcess?)
            case closed
        }
        let promise = eventLoop.makePromise(of: Response.self)
        let step = state.withLockedValue { s -> Step in
            if s.closed { return .closed }
            if let id = s.inFlight { return .unanswered(id, s.process) }
            if let q = s.queued {
                s.queued = nil
                s.inFlight = q.requestId
                return .deliver(q)
            }
            s.waiting?.succeed(Self.error(400, "InvalidRequest", "Another /next call replaced this one."))
            s.waiting = promise
            if !s.initialised {
                s.initialised = true
                return .ready
            }
            return .wait(promise)
        }
        switch step {
        case .ready:
            // Init is over when the runtime first asks for work, as on Lambda.
            dispatch(.ready, ["type": "ready"])
            return promise.futureResult
        case .wait(let p):
            return p.futureResult
        case .deliver(let invocation):
            promise.succeed(Response(status: 200, headers: invocation.headers, body: invocation.body))
            return promise.futureResult
        case .unanswered(let id, let process):
            process?.violation("it asked for the next event before answering request \(id)")
            promise.succeed(Self.error(400, "InvalidStateTransition", "Request \(id) has not been answered."))
            return promise.futureResult
        case .closed:
            promise.succeed(Self.error(410, "Runtime.Terminated", "The execution environment is shutting down."))
            return promise.futureResult
        }
    }

    /// A `response` or `error` for the invocation in flight; another id is 400, as on Lambda
    /// (and the invocation in flight keeps waiting for its own answer, or its timeout).
    private func answer(_ id: String, _ type: FrameType, _ fields: JSONObject) -> Response {
        let process = state.withLockedValue { s -> HandlerProcess?? in
            guard s.inFlight == id else { return .none }
            s.inFlight = nil
            return .some(s.process)
        }
        guard let process else {
            log.function(function.logicalId, requestId: nil, "Runtime API: \(type.rawValue) for request \(id), which is not in flight")
            return Self.error(400, "InvalidRequestID", "Request \(id) is not the invocation in flight.")
        }
        var frame = fields
        frame["type"] = .string(type.rawValue)
        frame["requestId"] = .string(id)
        // The runtime printed its log lines before posting; when both arrive in one wake-up the
        // socket may be read first. Completing after the pending I/O keeps those lines inside
        // the invocation (its request id, its `Tail` log) instead of after END.
        server.eventLoop.execute { process?.received(type, frame) }
        return Self.accepted
    }

    // MARK: Streamed responses

    /// Whether `id` may stream now (it is the invocation in flight). It stays in flight until
    /// the stream ends.
    fileprivate func streamBegins(_ id: String) -> Bool {
        state.withLockedValue { $0.inFlight == id }
    }

    fileprivate func streamStarted(_ id: String, prelude: StreamPrelude) {
        state.withLockedValue { $0.process }?.streamStarted(requestId: id, prelude: prelude)
    }

    fileprivate func streamChunk(_ id: String, _ bytes: ByteBuffer) {
        state.withLockedValue { $0.process }?.streamChunk(requestId: id, bytes)
    }

    fileprivate func streamEnded(_ id: String, error: ErrorPayload?) {
        let process = state.withLockedValue { s -> HandlerProcess? in
            guard s.inFlight == id else { return nil }
            s.inFlight = nil
            return s.process
        }
        // After pending I/O, for the reason `answer` gives.
        server.eventLoop.execute { process?.streamEnded(requestId: id, error: error) }
    }

    fileprivate func streamViolation(_ id: String, _ reason: String) {
        state.withLockedValue { s -> HandlerProcess? in
            if s.inFlight == id { s.inFlight = nil }
            return s.process
        }?.violation(reason)
    }

    /// The client of a stream went away. Lambda cannot tell a runtime that, so neither does
    /// this: the function runs on to its end or its timeout, as it would on AWS.
    func clientGone(_ requestId: String) {
        log.function(function.logicalId, requestId: requestId, "the client disconnected; the Runtime API cannot tell the function, so it runs on")
    }

    /// A response over 6 MB: the invocation fails as on Lambda; the runtime may go on.
    private func tooLarge(_ request: HTTPEventMapping.IncomingRequest) -> Response {
        let parts = request.rawPath.split(separator: "/").map(String.init)
        let message = "Response payload size exceeded maximum allowed payload size (\(FrameLimits.maxPayloadBytes) bytes)."
        if parts.count == 5, parts[3] != "next" {
            _ = answer(parts[3], .error, ["error": ["errorType": "Function.ResponseSizeTooLarge", "errorMessage": .string(message)]])
        }
        return Self.error(413, "RequestEntityTooLarge", message)
    }

    /// The error body runtimes post: `{errorMessage, errorType, stackTrace}`; the type may come
    /// only in the `Lambda-Runtime-Function-Error-Type` header, and the body may be anything.
    private static func errorObject(_ request: HTTPEventMapping.IncomingRequest) -> JSONObject {
        let headerType = request.headers.first { $0.0.lowercased() == "lambda-runtime-function-error-type" }?.1
        let body = (try? JSONValue.parse(request.body))?.objectValue ?? [:]
        var error: JSONObject = [
            "errorType": .string(body["errorType"]?.stringValue ?? headerType ?? "Unhandled"),
            "errorMessage": .string(body["errorMessage"]?.stringValue
                ?? (request.body.isEmpty ? "(no message)" : String(decoding: request.body.prefix(4096), as: UTF8.self))),
        ]
        if let trace = body["stackTrace"], case .array = trace { error["stackTrace"] = trace }
        return error
    }

    private static let accepted = Response(status: 202, headers: [("content-type", "application/json")], body: Array(#"{"status":"OK"}"#.utf8))

    static func error(_ status: Int, _ type: String, _ message: String) -> Response {
        let body = (try? JSONValue.object(["errorType": .string(type), "errorMessage": .string(message)]).encoded()) ?? Data()
        return Response(status: status, headers: [("content-type", "application/json")], body: Array(body))
    }
}

/// Reads a streamed `/response` as it arrives, before `GatewayHTTPHandler` would collect it
/// whole: the prelude (up to the 8 NUL delimiter), then each body part as a chunk, then the end,
/// with the error from the `Lambda-Runtime-Function-Error-Type` / `-Body` trailers (the body is
/// base64 of Lambda's error object). Any other request passes through.
final class StreamedResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let host: RuntimeAPIHost
    private struct Stream {
        var id: String
        var version: HTTPVersion
        var accepted: Bool
        /// Bytes before the delimiter; nil once the prelude is read.
        var prelude: ByteBuffer?
        var failed = false
    }
    private var stream: Stream?
    /// A prelude is a small JSON object; this much without a delimiter is not one.
    static let maxPrelude = 64 * 1024

    init(host: RuntimeAPIHost) { self.host = host }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let parts = GatewayHTTPHandler.split(head.uri).0.split(separator: "/").map(String.init)
            guard head.method == .POST, parts.count == 5, parts[3] != "next", parts[4] == "response",
                  head.headers.first(name: "lambda-runtime-function-response-mode")?.lowercased() == "streaming" else {
                return context.fireChannelRead(data)
            }
            let id = parts[3]
            stream = Stream(id: id, version: head.version, accepted: host.streamBegins(id), prelude: ByteBuffer())
        case .body(var bytes):
            guard var s = stream else { return context.fireChannelRead(data) }
            guard s.accepted, !s.failed else { return }
            if var pending = s.prelude {
                pending.writeBuffer(&bytes)
                guard let at = Self.delimiter(in: pending) else {
                    if pending.readableBytes > Self.maxPrelude {
                        s.failed = true
                        host.streamViolation(s.id, "its streamed response has no prelude delimiter (8 NUL bytes) in the first \(Self.maxPrelude) bytes")
                    } else {
                        s.prelude = pending
                    }
                    stream = s
                    return
                }
                let json = pending.readSlice(length: at - pending.readerIndex)!
                pending.moveReaderIndex(forwardBy: StreamPrelude.delimiter.count)
                guard let value = try? JSONValue.parse(json.readableBytesView), let prelude = StreamPrelude(json: value) else {
                    s.failed = true
                    stream = s
                    return host.streamViolation(s.id, "its streamed response's prelude is not {\"statusCode\": 100-599, \"headers\": {...}}")
                }
                s.prelude = nil
                stream = s
                host.streamStarted(s.id, prelude: prelude)
                if pending.readableBytes > 0 { host.streamChunk(s.id, pending) }
            } else {
                host.streamChunk(s.id, bytes)
            }
        case .end(let trailers):
            guard let s = stream else { return context.fireChannelRead(data) }
            stream = nil
            let response: RuntimeAPIHost.Response
            if !s.accepted {
                response = RuntimeAPIHost.error(400, "InvalidRequestID", "Request \(s.id) is not the invocation in flight.")
            } else if s.failed {
                response = RuntimeAPIHost.error(400, "InvalidStreamingResponse", "The streamed response could not be read.")
            } else if s.prelude != nil {
                host.streamViolation(s.id, "its streamed response ended before the prelude delimiter (8 NUL bytes)")
                response = RuntimeAPIHost.error(400, "InvalidStreamingResponse", "The stream ended before the prelude delimiter.")
            } else {
                host.streamEnded(s.id, error: Self.error(trailers))
                response = RuntimeAPIHost.Response(status: 202, headers: [("content-type", "application/json")], body: Array(#"{"status":"OK"}"#.utf8))
            }
            var headers = HTTPHeaders(response.headers)
            headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: s.version, status: .init(statusCode: response.status), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// The reader index of the first 8-NUL run, if there is one.
    static func delimiter(in buffer: ByteBuffer) -> Int? {
        let view = buffer.readableBytesView
        var run = 0
        for (i, b) in zip(view.indices, view) {
            run = b == 0 ? run + 1 : 0
            if run == StreamPrelude.delimiter.count { return i - StreamPrelude.delimiter.count + 1 }
        }
        return nil
    }

    static func error(_ trailers: HTTPHeaders?) -> ErrorPayload? {
        guard let trailers, let type = trailers.first(name: "lambda-runtime-function-error-type") else { return nil }
        let body = trailers.first(name: "lambda-runtime-function-error-body")
            .flatMap { Data(base64Encoded: $0) }.flatMap { try? JSONValue.parse($0) }
        return ErrorPayload(errorType: body?["errorType"]?.stringValue ?? type,
                            errorMessage: body?["errorMessage"]?.stringValue ?? "(no message)",
                            stackTrace: body?["stackTrace"]?.arrayValue?.map(\.textValue))
    }
}
