import Foundation

/// API Gateway HTTP API routing: method + path, with `{param}` and greedy `{proxy+}` segments,
/// most specific match first, then `$default`.
public struct RouteTable: Sendable {
    public struct Entry: Sendable {
        public let function: FunctionSpec
        public let event: HttpEventSpec
        let segments: [Segment]
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case greedy(String)
    }

    public enum Match: Sendable {
        case route(Entry, pathParameters: [String: String])
        /// The path exists, but not for this method.
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    let entries: [Entry]
    let fallback: Entry?

    public init(functions: [FunctionSpec]) throws {
        var entries: [Entry] = []
        var fallback: Entry?
        var seen: [String: String] = [:]
        for fn in functions {
            for event in fn.httpEvents {
                if event.path == "$default" {
                    if let other = fallback {
                        throw TemplateError("Both \(other.function.logicalId) and \(fn.logicalId) claim the $default route.")
                    }
                    fallback = Entry(function: fn, event: event, segments: [])
                    continue
                }
                let key = event.routeKey
                if let other = seen[key] {
                    throw TemplateError("Route \(key) is claimed by both \(other) and \(fn.logicalId).")
                }
                seen[key] = fn.logicalId
                entries.append(Entry(function: fn, event: event, segments: Self.parse(event.path)))
            }
        }
        // Most specific first: more literal segments, then more segments, greedy last, exact method before ANY.
        self.entries = entries.sorted { a, b in
            let (la, lb) = (a.segments.filter(\.isLiteral).count, b.segments.filter(\.isLiteral).count)
            if la != lb { return la > lb }
            let (ga, gb) = (a.segments.contains(where: \.isGreedy), b.segments.contains(where: \.isGreedy))
            if ga != gb { return !ga }
            if a.segments.count != b.segments.count { return a.segments.count > b.segments.count }
            return a.event.method != "ANY" && b.event.method == "ANY"
        }
        self.fallback = fallback
    }

    public var routes: [Entry] { entries + (fallback.map { [$0] } ?? []) }

    static func parse(_ path: String) -> [Segment] {
        path.split(separator: "/").map { seg in
            if seg.hasPrefix("{"), seg.hasSuffix("+}") { return .greedy(String(seg.dropFirst().dropLast(2))) }
            if seg.hasPrefix("{"), seg.hasSuffix("}") { return .parameter(String(seg.dropFirst().dropLast())) }
            return .literal(String(seg))
        }
    }

    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for entry in entries {
            guard let params = Self.bind(entry.segments, parts) else { continue }
            if entry.event.method == "ANY" || entry.event.method == method {
                return .route(entry, pathParameters: params)
            }
            allowed.append(entry.event.method)
        }
        if let fallback { return .route(fallback, pathParameters: [:]) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: Array(Set(allowed)).sorted())
    }

    static func bind(_ segments: [Segment], _ parts: [Substring]) -> [String: String]? {
        var params: [String: String] = [:]
        for (i, seg) in segments.enumerated() {
            switch seg {
            case .greedy(let name):
                guard i < parts.count else { return nil }
                params[name] = parts[i...].joined(separator: "/")
                return params
            case .parameter(let name):
                guard i < parts.count else { return nil }
                params[name] = percentDecoded(parts[i])
            case .literal(let lit):
                guard i < parts.count, parts[i] == lit else { return nil }
            }
        }
        return segments.count == parts.count ? params : nil
    }

    /// API Gateway hands path parameters over percent-decoded.
    static func percentDecoded(_ s: Substring) -> String {
        guard s.contains("%") else { return String(s) }
        return String(s).removingPercentEncoding ?? String(s)
    }
}

extension RouteTable.Segment {
    var isLiteral: Bool { if case .literal = self { true } else { false } }
    var isGreedy: Bool { if case .greedy = self { true } else { false } }
}
