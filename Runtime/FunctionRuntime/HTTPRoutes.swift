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
            if error.status >= 500 {
                context.logger.error("request failed", metadata: ["status": "\(error.status)", "code": "\(error.code)"])
            }
            return .error(error, requestId: context.requestId)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return .error(.internalError(), requestId: context.requestId)
        }
    }

    private func dispatchByPath(_ request: APIGatewayV2Request, context: InvocationContext) async throws -> APIGatewayV2Response {
        switch matcher.match(method: request.method, path: request.rawPath) {
        case .route(let route, let params):
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
        await routes.respond(to: event, context: context)
    }
}

extension HTTPRoutes {
    /// A route whose function is not built yet: an honest 501 with the error shape.
    public static func notImplemented(_ what: String) -> Handler {
        { _, _ in throw APIError.notImplemented("\(what) is not implemented yet.") }
    }
}
