import HTTPRouting
import Testing

/// One table of cases for the matcher the emulator and every handler use.
@Suite struct RouteMatcherTests {
    static let routes = [
        "POST /pets/dog/1", "GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}",
        "GET /{a}/b/c", "GET /x/{b}/{c}",
        "GET /v1/documents", "POST /v1/documents", "GET /v1/documents/{id}", "DELETE /v1/documents/{id}",
        "GET /v1/documents/{id}/versions", "POST /v1/documents/{id}/reembed", "POST /v1/search",
    ]

    func matcher(_ keys: [String], fallback: String? = nil) -> RouteMatcher<String> {
        RouteMatcher(keys.map { (key: $0, value: $0) }, fallback: fallback)
    }

    /// (method, path, expected route key or "404" / "405:GET,POST", expected parameters)
    static let cases: [(String, String, String, [String: String])] = [
        // API Gateway's own example: an exact match, then a variable, then greedy, then ANY.
        ("GET", "/pets/dog/1", "GET /pets/dog/1", [:]),
        ("POST", "/pets/dog/1", "POST /pets/dog/1", [:]),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", ["id": "2"]),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", ["proxy": "cat/1"]),
        ("POST", "/pets/dog/2", "ANY /{proxy+}", ["proxy": "pets/dog/2"]),
        // Segment by segment from the left: a literal first beats a variable first.
        ("GET", "/x/b/c", "GET /x/{b}/{c}", ["b": "b", "c": "c"]),
        ("GET", "/y/b/c", "GET /{a}/b/c", ["a": "y"]),
        // The API's own routes.
        ("GET", "/v1/documents", "GET /v1/documents", [:]),
        ("GET", "/v1/documents/abc", "GET /v1/documents/{id}", ["id": "abc"]),
        ("DELETE", "/v1/documents/abc", "DELETE /v1/documents/{id}", ["id": "abc"]),
        ("GET", "/v1/documents/abc/versions", "GET /v1/documents/{id}/versions", ["id": "abc"]),
        ("GET", "/v1/documents/a%20b", "GET /v1/documents/{id}", ["id": "a b"]),
        // Empty segments are ignored, as API Gateway serves them.
        ("POST", "//v1/search", "POST /v1/search", [:]),
        ("POST", "/v1//search/", "POST /v1/search", [:]),
    ]

    @Test func theTable() {
        let m = matcher(Self.routes)
        for (method, path, expected, params) in Self.cases {
            guard case .route(let r, let p) = m.match(method: method, path: path) else {
                Issue.record("\(method) \(path): no route")
                continue
            }
            #expect(r.value == expected && p == params, "\(method) \(path) -> \(r.value) \(p)")
        }
    }

    @Test func otherMethodsAre405AndUnknownPaths404() {
        let m = matcher(["GET /v1/documents", "POST /v1/documents", "POST /v1/search"])
        guard case .methodNotAllowed(let allowed) = m.match(method: "PUT", path: "/v1/documents") else {
            Issue.record("PUT /v1/documents was not a 405")
            return
        }
        #expect(allowed == ["GET", "POST"])
        guard case .notFound = m.match(method: "GET", path: "/v2/documents") else {
            Issue.record("GET /v2/documents was not a 404")
            return
        }
        guard case .notFound = m.match(method: "POST", path: "/v1/search/more") else {
            Issue.record("a longer path matched a shorter route")
            return
        }
    }

    @Test func defaultComesLast() {
        let m = matcher(["GET /health"], fallback: "$default")
        guard case .route(let r, _) = m.match(method: "GET", path: "/health"), case .route(let d, _) = m.match(method: "GET", path: "/other") else {
            Issue.record("no route")
            return
        }
        #expect(r.value == "GET /health" && d.value == "$default")
    }

    /// The order routes are declared in never changes the choice.
    @Test func declarationOrderDoesNotMatter() {
        let forward = matcher(Self.routes), backward = matcher(Self.routes.reversed())
        for (method, path, _, _) in Self.cases {
            guard case .route(let a, _) = forward.match(method: method, path: path),
                  case .route(let b, _) = backward.match(method: method, path: path) else { continue }
            #expect(a.value == b.value, "\(method) \(path)")
        }
    }
}
