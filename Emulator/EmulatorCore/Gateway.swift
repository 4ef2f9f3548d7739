import Foundation
import FunctionProtocol
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// API Gateway in front of the pools: routing, the 6 MB limits, event mapping, and honest
/// statuses for every way an invocation can fail. Works on event-loop futures so that a warm
/// invocation is served without leaving the connection's thread.
public struct Gateway: Sendable {
    let routes: RouteTable
    let invoker: Invoker
    let gatewayTimeout: Duration

    public init(routes: RouteTable, invoker: Invoker, gatewayTimeout: Duration = .seconds(30)) {
        self.routes = routes
        self.invoker = invoker
        self.gatewayTimeout = gatewayTimeout
    }

    public typealias Response = HTTPEventMapping.OutgoingResponse

    public func respond(to request: HTTPEventMapping.IncomingRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let requestId = Invoker.newRequestId()
        let path = request.rawPath
        if path.hasPrefix("/__emulator/") { return eventLoop.makeSucceededFuture(admin(path: path, requestId: requestId)) }

        let entry: RouteTable.Entry
        let pathParameters: [String: String]
        switch routes.match(method: request.method, path: path) {
        case .route(let e, let params): (entry, pathParameters) = (e, params)
        case .notFound:
            return eventLoop.makeSucceededFuture(Self.error(.notFound("No route for \(request.method) \(path)."), requestId: requestId))
        case .methodNotAllowed(let allowed):
            return eventLoop.makeSucceededFuture(Self.error(.methodNotAllowed(request.method, allowed: allowed), requestId: requestId))
        }

        let event = HTTPEventMapping.event(for: request, routeKey: entry.event.routeKey, pathParameters: pathParameters, requestId: requestId)
        let function = entry.function
        var invocation = invoker.invoke(function, event: event, requestId: requestId, on: eventLoop).map(Optional.some)
        // API Gateway stops waiting after its own limit; the function may run on to its Timeout.
        if Duration.milliseconds(Int64(function.timeoutSeconds * 1000)) > gatewayTimeout {
            let promise = eventLoop.makePromise(of: InvocationResult?.self)
            let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(gatewayTimeout.ms * 1_000_000))) { promise.succeed(nil) }
            invocation.whenComplete { result in
                timer.cancel()
                promise.completeWith(result)
            }
            invocation = promise.futureResult
        }
        return invocation.map { result in
            guard let result else {
                return Self.error(.gatewayTimeout("The integration did not answer within the gateway's \(gatewayTimeout) limit."), requestId: requestId)
            }
            return Self.response(for: result, requestId: requestId)
        }
    }

    static func response(for result: InvocationResult, requestId: String) -> Response {
        switch result.outcome {
        case .success(.response(let payload)):
            do {
                return try HTTPEventMapping.response(from: payload)
            } catch {
                switch error {
                case .tooLarge(let n):
                    return Self.error(.payloadTooLarge("The function's response (\(n) bytes) exceeds the 6 MB limit."), requestId: requestId)
                case .invalid(let why):
                    return Self.error(.badGateway("The function's response is malformed: \(why).", code: "invalid_response"), requestId: requestId)
                }
            }
        case .success(.functionError(let e)):
            // API Gateway answers an unhandled function error with 500: here it says which.
            return error(APIError(status: 500, code: "function_error", message: "The function failed: \(e.errorType): \(e.errorMessage)",
                                  details: ["errorType": .string(e.errorType)]), requestId: requestId)
        case .failure(let f):
            return error(apiError(for: f), requestId: requestId)
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
            return Response(status: 200, headers: [("content-type", "application/json")], body: Array(data))
        default:
            return Self.error(.notFound("No emulator endpoint \(path)."), requestId: requestId)
        }
    }

    static func error(_ e: APIError, requestId: String) -> Response {
        var headers = e.headers.map { ($0.key, $0.value) }
        headers.append(("content-type", "application/json"))
        headers.append(("x-amzn-requestid", requestId))
        return Response(status: e.status, headers: headers, body: Array(e.body(requestId: requestId)))
    }
}
