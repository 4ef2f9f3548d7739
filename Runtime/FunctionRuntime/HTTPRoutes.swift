#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import FunctionProtocol
import Logging
import HTTPRouting
import LambdaEvents

/// Dispatches an HTTP API request to the closure registered for its route key
/// (`"GET /v1/documents/{id}"`, as in the template), mapping errors to the documented shape:
/// an `APIError` becomes its status; anything else is logged and becomes a 500 (a bug).
public struct HTTPRoutes: Sendable {
    public typealias Handler = @Sendable (APIGatewayV2Request, InvocationContext) async throws -> APIGatewayV2Response

    private let byKey: [String: Handler]
    /// For `$default` routes and hand-written events: the emulator's own matcher (API Gateway's
    /// precedence), so a function and the emulator never choose different routes for a path.
    private let matcher: RouteMatcher<Handler>

    public init(_ table: [String: Handler]) {
        byKey = table
        matcher = RouteMatcher(table.map { (key: $0.key, value: $0.value) })
    }

    public func respond(to request: APIGatewayV2Request, context: InvocationContext) async -> APIGatewayV2Response {
        do {
            try request.refuseNULParameters()
            if let handler = byKey[request.routeKey] {
                return try await handler(request, context)
            }
            return try await dispatchByPath(request, context: context)
        } catch let error as APIError {
            if let stream = context.responseStream, !stream.isEnded {
                // Headers are out: the answer can only end early.
                try? await stream.fail(ErrorPayload(errorType: error.code, errorMessage: error.message))
                return .streamed
            }
            if error.status >= 500 {
                context.logger.error("request failed", metadata: ["status": "\(error.status)", "code": "\(error.code)"])
            }
            return .error(error, requestId: context.requestId)
        } catch {
            if let stream = context.responseStream, !stream.isEnded {
                if case ResponseStreamError.clientDisconnected = error {
                    context.logger.info("the client disconnected mid-stream")
                } else {
                    context.logger.error("failed mid-stream", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await stream.fail(ErrorPayload(errorType: String(describing: type(of: error)), errorMessage: "\(error)"))
                return .streamed
            }
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .error(.internalError(), requestId: context.requestId)
        }
    }

    private func dispatchByPath(_ request: APIGatewayV2Request, context: InvocationContext) async throws -> APIGatewayV2Response {
        switch matcher.match(method: request.method, path: request.rawPath) {
        case .route(let route, let params):
            context.metrics.dimension("route", "\(route.method) \(route.path)")
            var routed = request
            if routed.pathParameters == nil, !params.isEmpty { routed.pathParameters = params }
            return try await route.value(routed, context)
        case .methodNotAllowed(let allowed):
            throw APIError.methodNotAllowed(request.method, allowed: allowed)
        case .notFound:
            throw APIError.notFound("No route for \(request.method) \(request.rawPath).")
        }
    }
}

/// An HTTP function: its event is the HTTP API request and its output the HTTP API response.
public protocol HTTPFunction: FunctionHandler where Event == APIGatewayV2Request, Output == APIGatewayV2Response {
    var routes: HTTPRoutes { get }
}

extension HTTPFunction {
    public func handle(_ event: APIGatewayV2Request, context: InvocationContext) async throws -> APIGatewayV2Response {
        var context = context
        context.acceptsResponseStream = ResponseStreaming.accepts(event)
        // The template's route key (bounded), not the path: `/v1/documents/{id}`, never an id.
        if event.routeKey != "$default" { context.metrics.dimension("route", event.routeKey) }
        let response = await routes.respond(to: event, context: context)
        context.metrics.dimension("status_class", "\(response.statusCode / 100)xx")
        context.metrics.property("status", Double(response.statusCode))
        if response.statusCode >= 500 { context.metrics.set("ServerErrors", 1) }
        if (400..<500).contains(response.statusCode) { context.metrics.set("ClientErrors", 1) }
        // A function URL in RESPONSE_STREAM mode reads every answer as a stream (prelude, 8 NUL
        // bytes, body), so an answer made whole is sent as a stream of one piece.
        if context.acceptsResponseStream, context.responseStream == nil {
            let stream = try await context.startResponseStream(
                StreamPrelude(statusCode: response.statusCode, headers: response.headers ?? [:], cookies: response.cookies ?? []))
            try await stream.write(response.bodyBytes)
            try await stream.finish()
        }
        return response
    }
}

/// When an HTTP invocation's answer may be streamed: it came through a function URL (the event's
/// domain is `<id>.lambda-url.<region>.on.aws`) and the function says its URL streams
/// (`FUNCTION_URL_INVOKE_MODE=RESPONSE_STREAM`, set in the template beside
/// `FunctionUrlConfig.InvokeMode`, since nothing in an invocation tells a runtime how its
/// caller reads the answer). Invocations through API Gateway are always answered whole.
public enum ResponseStreaming {
    public static let environmentVariable = "FUNCTION_URL_INVOKE_MODE"

    /// Whether this process's function URL streams (read once).
    public static let urlStreams: Bool = {
        let env = ProcessInfo.processInfo.environment[environmentVariable] ?? ""
        return env.uppercased() == "RESPONSE_STREAM"
    }()

    public static func accepts(_ event: APIGatewayV2Request, urlStreams: Bool = ResponseStreaming.urlStreams) -> Bool {
        urlStreams && (event.requestContext.domainName?.contains(".lambda-url.") ?? false)
    }
}

extension APIGatewayV2Response {
    /// What a route that streamed its answer returns: the runtime sends the stream, not this.
    public static var streamed: APIGatewayV2Response { APIGatewayV2Response(statusCode: 200) }

    /// The body as bytes (base64-decoded when `isBase64Encoded`).
    public var bodyBytes: [UInt8] {
        guard let body else { return [] }
        if isBase64Encoded == true { return Data(base64Encoded: body).map(Array.init) ?? [] }
        return Array(body.utf8)
    }
}

extension HTTPRoutes {
    /// A route whose function is not built yet: an honest 501 with the error shape.
    public static func notImplemented(_ what: String) -> Handler {
        { _, _ in throw APIError.notImplemented("\(what) is not implemented yet.") }
    }
}
