import Foundation
import FunctionProtocol
import HTTPTypes
import Hummingbird
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address (`sourceIp`).
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let sourceIp: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sourceIp = source.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
    }

    // Bodies are bounded by the gateway itself (6 MB, with a clear 413).
    public var maxUploadSize: Int { FrameLimits.maxPayloadBytes + 1 }
}

/// API Gateway in front of the pools: routing, the 6 MB limits, event mapping, and honest
/// statuses for every way an invocation can fail.
public struct Gateway: HTTPResponder {
    public typealias Context = GatewayContext

    let routes: RouteTable
    let invoker: Invoker
    let gatewayTimeout: Duration

    public init(routes: RouteTable, invoker: Invoker, gatewayTimeout: Duration = .seconds(30)) {
        self.routes = routes
        self.invoker = invoker
        self.gatewayTimeout = gatewayTimeout
    }

    public func respond(to request: Request, context: GatewayContext) async throws -> Response {
        let requestId = Invoker.newRequestId()
        let path = request.uri.path
        if path.hasPrefix("/__emulator/") { return admin(path: path, requestId: requestId) }

        let method = request.method.rawValue
        let entry: RouteTable.Entry
        let pathParameters: [String: String]
        switch routes.match(method: method, path: path) {
        case .route(let e, let params): (entry, pathParameters) = (e, params)
        case .notFound: return error(.notFound("No route for \(method) \(path)."), requestId: requestId)
        case .methodNotAllowed(let allowed): return error(.methodNotAllowed(method, allowed: allowed), requestId: requestId)
        }

        if let length = request.headers[.contentLength].flatMap(Int.init), length > FrameLimits.maxPayloadBytes {
            return error(.payloadTooLarge("The request body (\(length) bytes) exceeds the 6 MB limit."), requestId: requestId)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: FrameLimits.maxPayloadBytes)
        } catch {
            return self.error(.payloadTooLarge("The request body exceeds the 6 MB limit."), requestId: requestId)
        }

        let incoming = HTTPEventMapping.IncomingRequest(
            method: method, rawPath: path, rawQuery: request.uri.query ?? "",
            headers: request.headers.map { ($0.name.canonicalName, $0.value) },
            body: Array(body.readableBytesView), sourceIp: context.sourceIp)
        let event = HTTPEventMapping.event(for: incoming, routeKey: entry.event.routeKey, pathParameters: pathParameters, requestId: requestId)

        let result = await invokeWithGatewayTimeout(entry.function, event: event, requestId: requestId)
        guard let result else {
            return error(.gatewayTimeout("The integration did not answer within the gateway's \(gatewayTimeout) limit."), requestId: requestId)
        }
        switch result.outcome {
        case .success(.response(let payload)):
            do {
                return Self.response(try HTTPEventMapping.response(from: payload))
            } catch .tooLarge(let n) {
                return error(.payloadTooLarge("The function's response (\(n) bytes) exceeds the 6 MB limit."), requestId: requestId)
            } catch .invalid(let why) {
                return error(.badGateway("The function's response is malformed: \(why).", code: "invalid_response"), requestId: requestId)
            }
        case .success(.functionError(let e)):
            // API Gateway answers an unhandled function error with 500: here it says which.
            return error(APIError(status: 500, code: "function_error", message: "The function failed: \(e.errorType): \(e.errorMessage)",
                                  details: ["errorType": .string(e.errorType)]), requestId: requestId)
        case .failure(let f):
            return error(Self.apiError(for: f), requestId: requestId)
        }
    }

    /// Waits for the invocation, but not past the gateway's own limit (the function may run on
    /// to its own timeout, as behind API Gateway).
    private func invokeWithGatewayTimeout(_ function: FunctionSpec, event: APIGatewayV2Request, requestId: String) async -> InvocationResult? {
        let invoker = self.invoker
        guard Duration.milliseconds(Int64(function.timeoutSeconds * 1000)) > gatewayTimeout else {
            return await invoker.invoke(function, event: event, requestId: requestId)
        }
        let gatewayTimeout = self.gatewayTimeout
        return await withCheckedContinuation { (cont: CheckedContinuation<InvocationResult?, Never>) in
            let answered = NIOLockedValueBox(false)
            let answer: @Sendable (InvocationResult?) -> Void = { result in
                let first = answered.withLockedValue { done in defer { done = true }; return !done }
                if first { cont.resume(returning: result) }
            }
            Task { answer(await invoker.invoke(function, event: event, requestId: requestId)) }
            Task {
                try? await Task.sleep(for: gatewayTimeout)
                answer(nil)
            }
        }
    }

    static func apiError(for failure: InvocationFailure) -> APIError {
        switch failure {
        case .crashed: .badGateway(failure.description, code: "function_crashed")
        case .timedOut: .gatewayTimeout(failure.description)
        case .initFailed: .badGateway(failure.description, code: "init_failed")
        case .protocolViolation: .badGateway(failure.description, code: "protocol_violation")
        case .responseTooLarge(let m): .payloadTooLarge(m)
        case .requestTooLarge(let m): .payloadTooLarge(m)
        case .throttled(let m): .tooManyRequests(m, retryAfterSeconds: 1)
        case .spawnFailed(let m): .badGateway(m, code: "function_unavailable")
        case .unavailable(let m): .serviceUnavailable(m)
        }
    }

    private func admin(path: String, requestId: String) -> Response {
        switch path {
        case "/__emulator/health":
            struct Health: Encodable {
                var status = "ok"
                var functions: [Invoker.PoolStats]
            }
            let data = (try? JSONEncoder().encode(Health(functions: invoker.stats))) ?? Data()
            return Self.response(.init(status: 200, headers: [("content-type", "application/json")], body: Array(data)))
        default:
            return error(.notFound("No emulator endpoint \(path)."), requestId: requestId)
        }
    }

    private func error(_ e: APIError, requestId: String) -> Response {
        var headers = e.headers.map { ($0.key, $0.value) }
        headers.append(("content-type", "application/json"))
        headers.append(("x-amzn-requestid", requestId))
        return Self.response(.init(status: e.status, headers: headers, body: Array(e.body(requestId: requestId))))
    }

    static func response(_ r: HTTPEventMapping.OutgoingResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in r.headers {
            guard let n = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: n, value: value))
        }
        return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }
}
