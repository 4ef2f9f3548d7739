import Dispatch
import Foundation
import FunctionProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix

/// `emulator start-api`: the HTTP front over warm pools, on SwiftNIO's HTTP/1.1 server codec.
///
/// The request path stays on the connection's event loop (no Swift-concurrency task per request):
/// with a warm process idle on the same loop, a request is read, turned into an event, written
/// to the handler's pipe, answered and written back without any thread hop. Graceful shutdown on
/// SIGINT/SIGTERM: stop accepting, let in-flight requests finish, then end the handler processes.
package struct EmulatorServer: Sendable {
    package var host: String
    /// The HTTP API's port; nil serves no HTTP API (`start-lambda`, `schedules --run`).
    package var port: Int?
    package var gatewayTimeout: Duration
    package let invoker: Invoker
    package let schedules: CronEmulator?
    package let authorizers: [String: JWTAuthorizer]
    /// The Lambda Invoke API's port (`--lambda-port`), off when nil.
    package var lambdaPort: Int?
    /// The first function URL's port (`--function-url-port`; each further one the next port,
    /// in the template's order; 0 picks free ones); nil serves none.
    package var functionURLPort: Int?
    /// Development tokens for the dashboard (`GET /__emulator/token`); nil refuses them.
    package var devTokens: DevTokenMinter?

    package init(host: String = "127.0.0.1", port: Int? = 3000, gatewayTimeout: Duration = .seconds(30), invoker: Invoker,
                schedules: CronEmulator? = nil, authorizers: [String: JWTAuthorizer] = [:], lambdaPort: Int? = nil,
                functionURLPort: Int? = nil, devTokens: DevTokenMinter? = nil) {
        self.devTokens = devTokens
        self.authorizers = authorizers
        self.lambdaPort = lambdaPort
        self.functionURLPort = functionURLPort
        self.host = host
        self.port = port
        self.gatewayTimeout = gatewayTimeout
        self.invoker = invoker
        self.schedules = schedules
    }

    package func run() async throws {
        let routes = try RouteTable(functions: invoker.template.functions)
        let gateway = Gateway(routes: routes, invoker: invoker, gatewayTimeout: gatewayTimeout, schedules: schedules, authorizers: authorizers, devTokens: devTokens)
        let log = invoker.log
        let group = invoker.eventLoops
        let quiesce = ServerQuiescingHelper(group: group)

        var channel: (any Channel)?
        if let port {
            channel = try await Self.bind(host: host, port: port, group: group, quiesce: quiesce) { gateway.respond(to: $0, on: $1) }
        }
        var lambdaChannel: (any Channel)?
        if let lambdaPort {
            let api = LambdaInvokeAPI(invoker: invoker)
            lambdaChannel = try await Self.bind(host: host, port: lambdaPort, group: group, quiesce: quiesce) { api.respond(to: $0, on: $1) }
        }

        var urlChannels: [any Channel] = []
        if let base = functionURLPort {
            for (i, function) in invoker.template.functions.filter({ $0.functionURL != nil }).enumerated() {
                let url = FunctionURLGateway(function: function, invoker: invoker)
                let channel = try await Self.bind(
                    host: host, port: base == 0 ? 0 : base + i, group: group, quiesce: quiesce,
                    respond: { _, loop in loop.makeSucceededFuture(Gateway.error(.internalError("unreachable"), requestId: Invoker.newRequestId())) },
                    respondStreaming: { url.respond(to: $0, on: $1, writer: $2) })
                let address = "http://\(host):\(channel.localAddress?.port ?? 0)"
                gateway.functionURLs.withLockedValue { $0[function.logicalId] = address }
                log.emulator("function URL of \(function.logicalId) on \(address) (\(function.functionURL!.invokeMode.rawValue))")
                urlChannels.append(channel)
            }
        }
        if let lambdaChannel {
            log.emulator("Lambda Invoke API on http://\(host):\(lambdaChannel.localAddress?.port ?? 0) (aws lambda invoke --endpoint-url ...)")
        }
        if let channel {
            log.emulator("listening on http://\(host):\(channel.localAddress?.port ?? 0)")
            for r in routes.routes {
                log.emulator("  \(r.event.routeKey.padding(toLength: 40, withPad: " ", startingAt: 0)) -> \(r.function.logicalId)")
            }
        }
        let reaper = Task { await invoker.runReaper() }
        let cron = Task { [schedules] in await schedules?.run() }
        let asyncQueue = try invoker.startAsyncQueue()
        let asyncWork = Task { await asyncQueue?.run() }
        defer {
            reaper.cancel()
            cron.cancel()
            asyncWork.cancel()
        }

        let signal = await Self.waitForTerminationSignal()
        cron.cancel()  // no new scheduled runs while draining
        log.emulator("\(signal): no new connections; draining in-flight requests (again to force)")
        if channel != nil || lambdaChannel != nil || !urlChannels.isEmpty {
            // Resolves once every listener and connection has closed; with none it never would.
            let drained = group.next().makePromise(of: Void.self)
            quiesce.initiateShutdown(promise: drained)
            try? await drained.futureResult.get()
        }
        log.emulator("drained; stopping handler processes")
        await invoker.shutdown()
        log.emulator("stopped")
    }

    static func bind(host: String, port: Int, group: any EventLoopGroup, quiesce: ServerQuiescingHelper,
                     respond: @escaping GatewayHTTPHandler.Respond,
                     respondStreaming: GatewayHTTPHandler.RespondStreaming? = nil) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(GatewayHTTPHandler(respond: respond, respondStreaming: respondStreaming))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Waits for SIGINT or SIGTERM; a second one exits at once.
    static func waitForTerminationSignal() async -> String {
        await withCheckedContinuation { (cont: CheckedContinuation<String, Never>) in
            let fired = SignalLatch()
            var sources: [any DispatchSourceSignal] = []
            for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
                Foundation.signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    if fired.fire() { exit(130) }
                    cont.resume(returning: name)
                }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }
}

/// Signal sources must outlive the wait; the process keeps them for its lifetime.
private enum SignalSources {
    nonisolated(unsafe) static var held: [any DispatchSourceSignal] = []
    static func keep(_ s: [any DispatchSourceSignal]) { held = s }
}

/// Remembers whether a termination signal already arrived.
private final class SignalLatch: Sendable {
    private let fired = NIOLockedValueBox(false)
    /// Marks the latch; true if it was already marked (a second signal).
    func fire() -> Bool {
        fired.withLockedValue { f in
            defer { f = true }
            return f
        }
    }
}

/// One HTTP/1.1 connection: aggregates a request (up to the 6 MB limit), hands it to the
/// gateway and writes the answer. `HTTPServerPipelineHandler` keeps requests in order.
final class GatewayHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    typealias Respond = @Sendable (HTTPEventMapping.IncomingRequest, any EventLoop) -> EventLoopFuture<HTTPEventMapping.OutgoingResponse>

    typealias RespondTooLarge = @Sendable (HTTPEventMapping.IncomingRequest) -> HTTPEventMapping.OutgoingResponse
    /// Answers a request whose answer may be streamed into `writer`: nil when it was.
    typealias RespondStreaming = @Sendable (HTTPEventMapping.IncomingRequest, any EventLoop, ChannelStreamWriter)
        -> EventLoopFuture<HTTPEventMapping.OutgoingResponse?>

    private let respond: Respond
    private let respondTooLarge: RespondTooLarge
    private let respondStreaming: RespondStreaming?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// The streamed answer in progress, told when the client goes away.
    private var writer: ChannelStreamWriter?

    /// - Parameter respondTooLarge: answers a request whose body is over 6 MB (its body empty).
    init(respond: @escaping Respond, respondTooLarge: @escaping RespondTooLarge = { _ in
        Gateway.error(.payloadTooLarge("The request body exceeds the 6 MB limit."), requestId: Invoker.newRequestId())
    }, respondStreaming: RespondStreaming? = nil) {
        self.respond = respond
        self.respondTooLarge = respondTooLarge
        self.respondStreaming = respondStreaming
    }

    func channelInactive(context: ChannelHandlerContext) {
        writer?.clientClosed()
        writer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
            tooLarge = h.headers.first(name: "content-length").flatMap(Int.init).map { $0 > FrameLimits.maxPayloadBytes } ?? false
        case .body(var chunk):
            guard !tooLarge else { return }
            if body.readableBytes + chunk.readableBytes > FrameLimits.maxPayloadBytes {
                tooLarge = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive
            let (rawPath, rawQuery) = Self.split(head.uri)
            let request = HTTPEventMapping.IncomingRequest(
                method: head.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
                headers: head.headers.map { ($0.name, $0.value) }, body: tooLarge ? [] : Array(body.readableBytesView),
                sourceIp: context.channel.remoteAddress?.ipAddress ?? "127.0.0.1")
            body.clear()
            if tooLarge {
                write(respondTooLarge(request), version: head.version, keepAlive: keepAlive, context: context)
                return
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            if let respondStreaming {
                let writer = ChannelStreamWriter(channel: context.channel, version: head.version, keepAlive: keepAlive)
                self.writer = writer
                respondStreaming(request, context.eventLoop, writer).hop(to: context.eventLoop).whenComplete { result in
                    let (handler, context) = bound.value
                    handler.writer = nil
                    switch result {
                    case .success(nil): break  // streamed: the writer ended it
                    case .success(let response?):
                        if !writer.hasStarted { handler.write(response, version: head.version, keepAlive: keepAlive, context: context) }
                    case .failure:
                        if !writer.hasStarted {
                            handler.write(Gateway.error(.internalError("The emulator failed to produce a response."), requestId: Invoker.newRequestId()),
                                          version: head.version, keepAlive: keepAlive, context: context)
                        }
                    }
                }
                return
            }
            respond(request, context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
                let (handler, context) = bound.value
                let response = (try? result.get())
                    ?? Gateway.error(.internalError("The emulator failed to produce a response."), requestId: Invoker.newRequestId())
                handler.write(response, version: head.version, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(_ r: HTTPEventMapping.OutgoingResponse, version: HTTPVersion, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(r.headers.filter { $0.0.lowercased() != "content-length" && $0.0.lowercased() != "transfer-encoding" })
        headers.replaceOrAdd(name: "content-length", value: String(r.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .init(statusCode: r.status), headers: headers))), promise: nil)
        if !r.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: r.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    static func split(_ uri: String) -> (String, String) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }
}

/// Writes a streamed answer to one HTTP/1.1 connection as it arrives: the head when the
/// function starts streaming, each chunk flushed at once (chunked transfer), the end. A stream
/// that ends with an error closes the connection without the last chunk, which is how an HTTP
/// client learns a body was cut short. Calls may come from any thread; the writes happen on the
/// channel's loop, in call order.
final class ChannelStreamWriter: InvocationStreamSink, @unchecked Sendable {
    private let channel: any Channel
    private let version: HTTPVersion
    private let keepAlive: Bool
    /// Touched only on the channel's loop.
    private var started = false
    private var ended = false
    private var cancel: (@Sendable () -> Void)?
    private var clientGone = false

    init(channel: any Channel, version: HTTPVersion, keepAlive: Bool) {
        self.channel = channel
        self.version = version
        self.keepAlive = keepAlive
    }

    /// Whether the head has gone out (read on the channel's loop).
    var hasStarted: Bool { started }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if channel.eventLoop.inEventLoop { body() } else { channel.eventLoop.execute(body) }
    }

    func started(_ prelude: StreamPrelude, cancel: @escaping @Sendable () -> Void) {
        onLoop { [self] in
            guard !started else { return }
            started = true
            self.cancel = cancel
            if clientGone { return cancel() }
            var headers = HTTPHeaders(prelude.headers.map { ($0.key, $0.value) }.filter {
                let n = $0.0.lowercased()
                return n != "content-length" && n != "transfer-encoding" && n != "connection"
            })
            for cookie in prelude.cookies { headers.add(name: "set-cookie", value: cookie) }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: .init(statusCode: prelude.statusCode), headers: headers)),
                          promise: nil)
            channel.flush()
        }
    }

    func chunk(_ bytes: ByteBuffer) {
        onLoop { [self] in
            guard started, !ended, !clientGone, bytes.readableBytes > 0 else { return }
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(bytes)), promise: nil)
        }
    }

    func ended(_ error: ErrorPayload?) {
        onLoop { [self] in
            guard started, !ended else { return }
            ended = true
            guard !clientGone else { return }
            if error != nil {
                channel.close(promise: nil)
                return
            }
            let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            if !keepAlive { done.whenComplete { [channel] _ in channel.close(promise: nil) } }
        }
    }

    /// The connection closed: a stream under way is cancelled.
    func clientClosed() {
        onLoop { [self] in
            guard !clientGone else { return }
            clientGone = true
            if started, !ended { cancel?() }
        }
    }
}
