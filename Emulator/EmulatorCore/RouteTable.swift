import Foundation
import HTTPRouting

/// The template's HTTP routes, matched by `RouteMatcher` (API Gateway's precedence, the same
/// matcher the handlers use), then `$default`.
package struct RouteTable: Sendable {
    package struct Entry: Sendable {
        package let function: FunctionSpec
        package let event: HttpEventSpec
    }

    package enum Match: Sendable {
        case route(Entry, pathParameters: [String: String])
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    let matcher: RouteMatcher<Entry>

    package init(functions: [FunctionSpec]) throws {
        var entries: [(key: String, value: Entry)] = []
        var fallback: Entry?
        var seen: [String: String] = [:]
        for fn in functions {
            for event in fn.httpEvents {
                if event.path == "$default" {
                    if let other = fallback {
                        throw TemplateError("Both \(other.function.logicalId) and \(fn.logicalId) claim the $default route.")
                    }
                    fallback = Entry(function: fn, event: event)
                    continue
                }
                let key = event.routeKey
                if let other = seen[key] {
                    throw TemplateError("Route \(key) is claimed by both \(other) and \(fn.logicalId).")
                }
                seen[key] = fn.logicalId
                entries.append((key: "\(event.method) \(event.path)", value: Entry(function: fn, event: event)))
            }
        }
        matcher = RouteMatcher(entries, fallback: fallback)
    }

    /// Most specific first, `$default` last.
    package var routes: [Entry] { matcher.routes.map(\.value) + (matcher.fallback.map { [$0] } ?? []) }

    package func match(method: String, path: String) -> Match {
        switch matcher.match(method: method, path: path) {
        case .route(let route, let parameters): .route(route.value, pathParameters: parameters)
        case .methodNotAllowed(let allowed): .methodNotAllowed(allowed: allowed)
        case .notFound: .notFound
        }
    }
}
