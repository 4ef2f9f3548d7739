import Logging
import LambdaEvents

/// Dispatches an HTTP API request to the closure registered for its route key
/// (`"GET /v1/documents/{id}"`, as in the template), mapping errors to the documented shape:
/// an `APIError` becomes its status; anything else is logged and becomes a 500 (a bug).
public struct HTTPRoutes: Sendable {
    public typealias Handler = @Sendable (APIGatewayV2Request, InvocationContext) async throws -> APIGatewayV2Response

    struct Route: Sendable {
        let method: String
        let segments: [Substring]
        let handler: Handler
    }

    private let byKey: [String: Handler]
    private let routes: [Route]

    public init(_ table: [String: Handler]) {
        byKey = table
        routes = table.sorted { $0.key < $1.key }.map { key, handler in
            let parts = key.split(separator: " ", maxSplits: 1)
            let method = parts.first.map { String($0).uppercased() } ?? "ANY"
            let path = parts.count > 1 ? parts[1] : "/"
            return Route(method: method, segments: path.split(separator: "/"), handler: handler)
        }.sorted(by: Self.moreSpecific)
    }

    /// Most specific first, as API Gateway matches: segment by segment a literal beats `{param}`,
    /// which beats `{proxy+}`; then a named method beats `ANY`. Without this the dictionary's
    /// (per-process random) order would decide between `/docs/search` and `/docs/{id}`.
    static func moreSpecific(_ a: Route, _ b: Route) -> Bool {
        func rank(_ s: Substring) -> Int { s.hasPrefix("{") ? (s.hasSuffix("+}") ? 2 : 1) : 0 }
        for (x, y) in zip(a.segments, b.segments) where rank(x) != rank(y) { return rank(x) < rank(y) }
        if a.segments.count != b.segments.count { return a.segments.count > b.segments.count }
        return a.method != "ANY" && b.method == "ANY"
    }

    public func respond(to request: APIGatewayV2Request, context: InvocationContext) async -> APIGatewayV2Response {
        do {
            try request.refuseNULParameters()
            if let handler = byKey[request.routeKey] {
                return try await handler(request, context)
            }
            // `$default` routes and hand-written events: match method and path ourselves.
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
        let path = request.rawPath.split(separator: "/")
        var allowed: [String] = []
        for route in routes {
            guard let params = Self.match(route.segments, path) else { continue }
            guard route.method == "ANY" || route.method == request.method else {
                allowed.append(route.method)
                continue
            }
            var routed = request
            if routed.pathParameters == nil, !params.isEmpty { routed.pathParameters = params }
            return try await route.handler(routed, context)
        }
        if !allowed.isEmpty { throw APIError.methodNotAllowed(request.method, allowed: allowed.sorted()) }
        throw APIError.notFound("No route for \(request.method) \(request.rawPath).")
    }

    static func match(_ pattern: [Substring], _ path: [Substring]) -> [String: String]? {
        var params: [String: String] = [:]
        for (i, seg) in pattern.enumerated() {
            if seg.hasPrefix("{"), seg.hasSuffix("+}") {
                guard i < path.count else { return nil }
                params[String(seg.dropFirst().dropLast(2))] = path[i...].joined(separator: "/")
                return params
            }
            guard i < path.count else { return nil }
            if seg.hasPrefix("{"), seg.hasSuffix("}") {
                params[String(seg.dropFirst().dropLast())] = String(path[i])
            } else if seg != path[i] {
                return nil
            }
        }
        return pattern.count == path.count ? params : nil
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
