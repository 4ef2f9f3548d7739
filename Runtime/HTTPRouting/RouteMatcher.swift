import Foundation

/// The one route matcher of the bundle: the emulator chooses a function with it, and a function
/// with several routes chooses its handler with it, so both always agree.
///
/// Precedence follows API Gateway's HTTP APIs ("Routing API requests" in its developer guide):
/// a route that matches the path and the method wins over one with a greedy variable
/// (`{proxy+}`), and `$default` comes last. Among routes that match the same path, the guide is
/// silent; this takes them segment by segment from the left, a literal before `{param}` before
/// `{proxy+}` (so `/x/b/c` goes to `/x/{b}/{c}` rather than `/{a}/b/c`), then the longer route,
/// then a named method before `ANY`. A path that matches a route under another method only is a
/// 405 with those methods (API Gateway answers 404 there; the emulator says more).
///
/// Empty segments are ignored: `//v1/search` and `/v1/search/` are `/v1/search`. API Gateway
/// serves such paths (LocalStack matched AWS on `/prod//orders` in its issue 11253).
package struct RouteMatcher<Value: Sendable>: Sendable {
    package enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case greedy(String)

        var rank: Int {
            switch self {
            case .literal: 0
            case .parameter: 1
            case .greedy: 2
            }
        }
    }

    package struct Route: Sendable {
        /// Upper case, or `ANY`.
        package let method: String
        package let path: String
        package let segments: [Segment]
        package let value: Value
    }

    package enum Match: Sendable {
        case route(Route, pathParameters: [String: String])
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    /// Most specific first.
    package let routes: [Route]
    package let fallback: Value?

    /// - Parameter routes: route keys (`GET /v1/documents/{id}`, `ANY /{proxy+}`) and their values.
    package init(_ routes: [(key: String, value: Value)], fallback: Value? = nil) {
        self.routes = routes.map { key, value in
            let parts = key.split(separator: " ", maxSplits: 1)
            let method = parts.count > 1 ? parts[0].uppercased() : "ANY"
            let path = String(parts.count > 1 ? parts[1] : parts.first ?? "/")
            return Route(method: method, path: path, segments: Self.parse(path), value: value)
        }.sorted(by: Self.moreSpecific)
        self.fallback = fallback
    }

    package static func parse(_ path: String) -> [Segment] {
        path.split(separator: "/").map { seg in
            if seg.hasPrefix("{"), seg.hasSuffix("+}") { return .greedy(String(seg.dropFirst().dropLast(2))) }
            if seg.hasPrefix("{"), seg.hasSuffix("}") { return .parameter(String(seg.dropFirst().dropLast())) }
            return .literal(String(seg))
        }
    }

    static func moreSpecific(_ a: Route, _ b: Route) -> Bool {
        for (x, y) in zip(a.segments, b.segments) where x.rank != y.rank { return x.rank < y.rank }
        if a.segments.count != b.segments.count { return a.segments.count > b.segments.count }
        if (a.method == "ANY") != (b.method == "ANY") { return b.method == "ANY" }
        return (a.path, a.method) < (b.path, b.method)  // a stable order for what cannot both match
    }

    package func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let method = method.uppercased()
        var allowed: Set<String> = []
        for route in routes {
            guard let params = Self.bind(route.segments, parts) else { continue }
            if route.method == "ANY" || route.method == method { return .route(route, pathParameters: params) }
            allowed.insert(route.method)
        }
        if let fallback {
            return .route(Route(method: "ANY", path: "$default", segments: [], value: fallback), pathParameters: [:])
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    /// Path parameters percent-decoded, as API Gateway hands them over; a greedy one is the rest
    /// of the path as sent.
    static func bind(_ segments: [Segment], _ parts: [Substring]) -> [String: String]? {
        var params: [String: String] = [:]
        for (i, seg) in segments.enumerated() {
            guard i < parts.count else { return nil }
            switch seg {
            case .greedy(let name):
                params[name] = parts[i...].joined(separator: "/")
                return params
            case .parameter(let name):
                params[name] = parts[i].contains("%") ? (String(parts[i]).removingPercentEncoding ?? String(parts[i])) : String(parts[i])
            case .literal(let literal):
                guard parts[i] == literal else { return nil }
            }
        }
        return segments.count == parts.count ? params : nil
    }
}
