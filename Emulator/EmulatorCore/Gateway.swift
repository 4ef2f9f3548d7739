import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// API Gateway in front of the pools: routing, the 6 MB limits, event mapping, and honest
/// statuses for every way an invocation can fail. Works on event-loop futures so that a warm
/// invocation is served without leaving the connection's thread.
package struct Gateway: Sendable {
    let routes: RouteTable
    let invoker: Invoker
    let gatewayTimeout: Duration
    let schedules: CronEmulator?
    /// By authorizer name (the keys of `Auth.Authorizers`).
    let authorizers: [String: JWTAuthorizer]
    /// Function URLs being served, by logical id (`GET /__emulator/function-urls`).
    let functionURLs = NIOLockedValueBox<[String: String]>([:])
    /// Mints the dashboard's development tokens (`GET /__emulator/token`); nil refuses.
    let devTokens: DevTokenMinter?

    package init(routes: RouteTable, invoker: Invoker, gatewayTimeout: Duration = .seconds(30), schedules: CronEmulator? = nil,
                authorizers: [String: JWTAuthorizer] = [:], devTokens: DevTokenMinter? = nil) {
        self.devTokens = devTokens
        self.routes = routes
        self.invoker = invoker
        self.gatewayTimeout = gatewayTimeout
        self.schedules = schedules
        self.authorizers = authorizers
    }

    /// The authorizer a route runs behind: its own `Auth.Authorizer`, `NONE`, or its API's default.
    func authorizer(for event: HttpEventSpec) -> JWTAuthorizer? {
        if event.authorizer == "NONE" { return nil }
        let name = event.authorizer ?? event.apiId.flatMap { invoker.template.apis[$0]?.defaultAuthorizer }
        return name.flatMap { authorizers[$0] }
    }

    package typealias Response = HTTPEventMapping.OutgoingResponse

    package func respond(to request: HTTPEventMapping.IncomingRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let requestId = Invoker.newRequestId()
        let path = request.rawPath
        if path.hasPrefix("/__emulator/") || path == "/__emulator" { return admin(request, requestId: requestId, on: eventLoop) }

        let entry: RouteTable.Entry
        let pathParameters: [String: String]
        switch routes.match(method: request.method, path: path) {
        case .route(let e, let params): (entry, pathParameters) = (e, params)
        case .notFound:
            // Prometheus's conventional path, unless the template routes it.
            if path == "/metrics", request.method == "GET" { return eventLoop.makeSucceededFuture(metricsResponse()) }
            return eventLoop.makeSucceededFuture(Self.error(.notFound("No route for \(request.method) \(path)."), requestId: requestId))
        case .methodNotAllowed(let allowed):
            return eventLoop.makeSucceededFuture(Self.error(.methodNotAllowed(request.method, allowed: allowed), requestId: requestId))
        }

        guard let auth = authorizer(for: entry.event) else {
            return invoke(entry, request: request, pathParameters: pathParameters, requestId: requestId, authorizer: nil, on: eventLoop)
        }
        return auth.authorize(headers: request.headers, on: eventLoop).flatMap { result in
            switch result {
            case .failure(let e): return eventLoop.makeSucceededFuture(Self.error(e, requestId: requestId))
            case .success(let a): return self.invoke(entry, request: request, pathParameters: pathParameters, requestId: requestId, authorizer: a, on: eventLoop)
            }
        }
    }

    private func invoke(_ entry: RouteTable.Entry, request: HTTPEventMapping.IncomingRequest, pathParameters: [String: String],
                        requestId: String, authorizer: APIGatewayV2Request.Authorizer?, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let event = HTTPEventMapping.event(for: request, routeKey: entry.event.routeKey, pathParameters: pathParameters,
                                           requestId: requestId, authorizer: authorizer)
        let function = entry.function
        invoker.log.telemetry.label(requestId, entry.event.routeKey)
        var invocation = invoker.invoke(function, event: event, requestId: requestId, on: eventLoop).map(Optional.some)
        // API Gateway stops waiting after its own limit; the function may run on to its Timeout.
        if Duration.milliseconds(Int64(function.timeoutSeconds * 1000)) > gatewayTimeout {
            let promise = eventLoop.makePromise(of: InvocationResult?.self)
            let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(gatewayTimeout.milliseconds * 1_000_000))) { promise.succeed(nil) }
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
        case .success(.streamed(_, let error)):
            // Only a caller that reads streams gets here with a stream (it was already sent).
            if let error { return Self.error(APIError(status: 502, code: "function_error", message: "The stream failed: \(error.errorType): \(error.errorMessage)"), requestId: requestId) }
            return Response(status: 200, headers: [], body: [])
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

    /// The emulator's own endpoints: the dashboard, metrics, pools, schedules, the virtual clock.
    private func admin(_ request: HTTPEventMapping.IncomingRequest, requestId: String, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        if request.method == "GET", request.rawPath == "/__emulator/token" { return tokenResponse(request, requestId: requestId, on: eventLoop) }
        return eventLoop.makeSucceededFuture(admin(request, requestId: requestId))
    }

    private func admin(_ request: HTTPEventMapping.IncomingRequest, requestId: String) -> Response {
        let parts = request.rawPath.split(separator: "/").map(String.init)  // ["__emulator", ...]
        switch (request.method, Array(parts.dropFirst())) {
        case ("GET", []):
            return dashboardResponse()
        case ("GET", ["state"]):
            return stateResponse()
        case ("GET", ["metrics"]):
            return metricsResponse()
        case ("POST", let p) where p.count == 3 && p[0] == "dead-letters" && p[2] == "replay":
            return replayResponse(p[1], requestId: requestId)
        case ("GET", ["health"]):
            struct Health: Encodable {
                var status = "ok"
                var functions: [Invoker.PoolStats]
            }
            return Self.json(Health(functions: invoker.stats))
        case ("GET", ["function-urls"]):
            return Self.json(functionURLs.withLockedValue { $0 })
        case ("GET", ["schedules"]):
            return Self.json(schedules?.status ?? [])
        case ("POST", let p) where p.count == 3 && p[0] == "schedules" && p[2] == "trigger":
            let name = p[1].removingPercentEncoding ?? p[1]
            switch schedules?.trigger(name) ?? .unknownRule {
            case .fired(let id): return Self.json(["rule": name, "requestId": id], status: 202)
            case .stillRunning: return Self.error(.conflict("Schedule \(name) is still running; it never overlaps itself."), requestId: requestId)
            case .unknownRule: return Self.error(.notFound("No schedule named \(name)."), requestId: requestId)
            }
        case ("GET", ["clock"]), ("POST", ["clock"]):
            guard let clock = schedules?.clock else { return Self.error(.notFound("No schedules, so no clock."), requestId: requestId) }
            if request.method == "POST" {
                struct Move: Decodable { var advance: Double?; var now: String? }
                guard let move = try? JSONDecoder().decode(Move.self, from: Data(request.body)) else {
                    return Self.error(.badRequest(#"Send {"advance": seconds} or {"now": "2026-11-21T10:00:00Z"}."#), requestId: requestId)
                }
                if let seconds = move.advance { clock.advance(by: seconds) }
                if let text = move.now {
                    guard let date = ISO8601DateFormatter().date(from: text) else {
                        return Self.error(.unprocessable("`now` must be an ISO 8601 instant."), requestId: requestId)
                    }
                    clock.set(date)
                }
            }
            return Self.json(["now": CronEmulator.format(clock.now())])
        default:
            return Self.error(.notFound("No emulator endpoint \(request.method) \(request.rawPath)."), requestId: requestId)
        }
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [("content-type", "application/json")], body: Array(data))
    }

    static func error(_ e: APIError, requestId: String) -> Response {
        var headers = e.headers.map { ($0.key, $0.value) }
        headers.append(("content-type", "application/json"))
        headers.append(("x-amzn-requestid", requestId))
        return Response(status: e.status, headers: headers, body: Array(e.body(requestId: requestId)))
    }
}
