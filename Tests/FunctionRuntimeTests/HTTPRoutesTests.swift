import Foundation
@testable import FunctionRuntime
import FunctionProtocol
import JSON
import LambdaEvents
import Logging
import Synchronization
import Testing

/// Records what handlers queue with `context.invokeAsync`.
final class RecordingInvoker: AsyncInvoker {
    let calls = Mutex<[(String, String)]>([])
    func invokeAsync<E: Codable & Sendable>(functionName: String, event: E) async throws {
        let text = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        calls.withLock { $0.append((functionName, text)) }
    }
}

func testContext(requestId: String = "req-1", deadlineMs: Int64? = nil, invoker: any AsyncInvoker = RecordingInvoker()) -> InvocationContext {
    InvocationContext(
        requestId: requestId, deadlineMs: deadlineMs ?? Timestamps.nowMs() + 30_000, functionName: "test",
        invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:test", traceId: nil,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), asyncInvoker: invoker)
}

/// Each handler answers with its own name, so a test can see which one ran.
func named(_ name: String) -> HTTPRoutes.Handler {
    { request, _ in
        let params = JSONValue.object(JSONObject((request.pathParameters ?? [:]).mapValues { JSONValue.string($0) }))
        return .json(JSONValue.object(["route": .string(name), "params": params]))
    }
}

func dispatch(_ routes: HTTPRoutes, _ method: String, _ path: String, routeKey: String = "$default",
              pathParameters: [String: String]? = nil, requestId: String = "req-1") async throws -> (status: Int, body: JSONValue, response: APIGatewayV2Response) {
    let request = httpRequest(method, path, routeKey: routeKey, pathParameters: pathParameters)
    let response = await routes.respond(to: request, context: testContext(requestId: requestId))
    return (response.statusCode, try jsonBody(response), response)
}

struct Unexpected: Error {}

@Suite struct HTTPRoutesTests {
    let routes = HTTPRoutes([
        "GET /v1/documents": named("list"),
        "POST /v1/documents": named("create"),
        "GET /v1/documents/{id}": named("get"),
        "DELETE /v1/documents/{id}": named("delete"),
        "GET /v1/documents/{id}/versions/{version}": named("version"),
        "GET /v1/documents/search": named("search"),
        "ANY /files/{proxy+}": named("files"),
        "post /v1/lowercase": named("lowercase"),
    ])

    @Test func dispatchesByRouteKeyFirst() async throws {
        // The emulator and API Gateway name the matched route: that wins over the path.
        let r = try await dispatch(routes, "GET", "/somewhere/else", routeKey: "GET /v1/documents/{id}", pathParameters: ["id": "7"])
        #expect(r.status == 200)
        #expect(r.body == ["route": "get", "params": ["id": "7"]])
    }

    @Test(arguments: [
        ("GET", "/v1/documents", "list", [:]),
        ("POST", "/v1/documents", "create", [:]),
        ("GET", "/v1/documents/", "list", [:]),
        ("get", "/v1/documents/abc", "get", ["id": "abc"]),
        ("DELETE", "/v1/documents/abc", "delete", ["id": "abc"]),
        ("GET", "/v1/documents/d1/versions/3", "version", ["id": "d1", "version": "3"]),
        ("GET", "/files/a", "files", ["proxy": "a"]),
        ("PUT", "/files/a/b/c.txt", "files", ["proxy": "a/b/c.txt"]),
        ("POST", "/v1/lowercase", "lowercase", [:]),
    ] as [(String, String, String, [String: String])])
    func dispatchesByMethodAndPathForDefaultRoute(_ method: String, _ path: String, _ route: String, _ params: [String: String]) async throws {
        let r = try await dispatch(routes, method, path)
        #expect(r.status == 200)
        #expect(r.body["route"] == .string(route))
        #expect(r.body["params"] == .object(JSONObject(params.mapValues { JSONValue.string($0) })))
    }

    @Test func literalSegmentsBeatParameters() async throws {
        // Whatever order the table happens to be in, the most specific route wins.
        for _ in 0..<20 {
            let r = try await dispatch(routes, "GET", "/v1/documents/search")
            #expect(r.body["route"] == "search")
        }
        let many = HTTPRoutes(Dictionary(uniqueKeysWithValues: (0..<30).map { ("GET /x/{p\($0)}", named("param")) }
            + [("GET /x/literal", named("literal")), ("ANY /x/{proxy+}", named("greedy"))]))
        let r = try await dispatch(many, "GET", "/x/literal")
        #expect(r.body["route"] == "literal")
        let greedy = try await dispatch(many, "GET", "/x/a/b")
        #expect(greedy.body["route"] == "greedy")
    }

    @Test func specificMethodBeatsAny() async throws {
        let table = HTTPRoutes(Dictionary(uniqueKeysWithValues: (0..<10).filter { $0 != 5 }.map { ("ANY /r\($0)", named("any")) }
            + [("GET /r5", named("get")), ("ANY /r5", named("any"))]))
        #expect(try await dispatch(table, "GET", "/r5").body["route"] == "get")
        #expect(try await dispatch(table, "POST", "/r5").body["route"] == "any")
    }

    @Test func pathParametersFromTheEventAreKept() async throws {
        let r = try await dispatch(routes, "GET", "/v1/documents/abc", pathParameters: ["id": "from-gateway"])
        #expect(r.body["params"] == ["id": "from-gateway"])
    }

    @Test func greedyParameterNeedsASegment() async throws {
        let r = try await dispatch(routes, "GET", "/files")
        #expect(r.status == 404)
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        let r = try await dispatch(routes, "PATCH", "/v1/documents/abc", requestId: "req-405")
        #expect(r.status == 405)
        #expect(r.response.headers?["allow"] == "DELETE, GET")
        #expect(r.response.headers?["content-type"] == "application/json")
        #expect(r.body["error"]?["code"] == "method_not_allowed")
        #expect(r.body["error"]?["details"]?["allowed"] == ["DELETE", "GET"])
        #expect(r.body["requestId"] == "req-405")
    }

    @Test(arguments: ["/v2/documents", "/v1/documents/a/b", "/", "/files"])
    func unknownPathIs404WithTheErrorShape(_ path: String) async throws {
        let r = try await dispatch(routes, "GET", path, requestId: "req-404")
        #expect(r.status == 404)
        #expect(r.body["error"]?["code"] == "not_found")
        #expect(r.body["error"]?["message"]?.stringValue?.contains(path) == true)
        #expect(r.body["error"]?["details"] == [:])
        #expect(r.body["requestId"] == "req-404")
    }

    @Test func apiErrorsKeepTheirStatusAndHeaders() async throws {
        let table = HTTPRoutes([
            "POST /conflict": { _, _ in throw APIError.conflict("Already there.") },
            "POST /throttled": { _, _ in throw APIError.tooManyRequests("Slow down.", retryAfterSeconds: 2) },
            "POST /down": { _, _ in throw APIError.serviceUnavailable("Store is down.", details: ["store": "sqlite"]) },
            "GET /todo": HTTPRoutes.notImplemented("GET /todo"),
        ])
        let conflict = try await dispatch(table, "POST", "/conflict", routeKey: "POST /conflict", requestId: "r-409")
        #expect(conflict.status == 409)
        #expect(conflict.body == ["error": ["code": "conflict", "message": "Already there.", "details": [:]], "requestId": "r-409"])

        let throttled = try await dispatch(table, "POST", "/throttled")
        #expect(throttled.status == 429)
        #expect(throttled.response.headers?["retry-after"] == "2")

        let down = try await dispatch(table, "POST", "/down")
        #expect(down.status == 503)
        #expect(down.body["error"]?["details"] == ["store": "sqlite"])

        let todo = try await dispatch(table, "GET", "/todo")
        #expect(todo.status == 501)
        #expect(todo.body["error"]?["code"] == "not_implemented")
    }

    @Test func otherErrorsAre500WithoutLeakingDetails() async throws {
        struct SecretError: Error, CustomStringConvertible { var description: String { "password=hunter2" } }
        let table = HTTPRoutes(["GET /boom": { _, _ in throw SecretError() }])
        let r = try await dispatch(table, "GET", "/boom", requestId: "r-500")
        #expect(r.status == 500)
        #expect(r.body["error"]?["code"] == "internal_error")
        #expect(r.body["requestId"] == "r-500")
        let text = try #require(r.response.body)
        #expect(!text.contains("hunter2"))
    }

    @Test func defaultRouteKeyInTheTableCatchesEverything() async throws {
        let table = HTTPRoutes(["$default": named("catch-all"), "GET /x": named("x")])
        #expect(try await dispatch(table, "DELETE", "/anything/at/all").body["route"] == "catch-all")
        #expect(try await dispatch(table, "GET", "/x", routeKey: "GET /x").body["route"] == "x")
    }

    @Test func handlersSeeTheContext() async throws {
        let invoker = RecordingInvoker()
        let table = HTTPRoutes(["POST /queue": { request, context in
            try await context.invokeAsync("reembed", event: ["documentId": request.pathParameter("id") ?? "none"])
            return .json(["requestId": context.requestId, "function": context.functionName], status: 202)
        }])
        let response = await table.respond(
            to: httpRequest("POST", "/queue", routeKey: "POST /queue"),
            context: testContext(requestId: "ctx-1", invoker: invoker))
        #expect(response.statusCode == 202)
        #expect(try jsonBody(response) == ["requestId": "ctx-1", "function": "test"])
        let calls = invoker.calls.withLock { $0 }
        #expect(calls.count == 1)
        #expect(calls.first?.0 == "reembed")
        #expect(calls.first?.1 == #"{"documentId":"none"}"#)
    }
}

@Suite struct InvocationContextTests {
    @Test func remainingTimeCountsDownToTheDeadline() {
        let future = testContext(deadlineMs: Timestamps.nowMs() + 60_000)
        #expect(future.remainingTime > .zero)
        #expect(future.remainingTime <= .seconds(60))
        let past = testContext(deadlineMs: Timestamps.nowMs() - 1_000)
        #expect(past.remainingTime < .zero)
        #expect(testContext(deadlineMs: 1_500).deadline == .milliseconds(1_500))
    }

    @Test func initializationContextEnvTreatsEmptyAsUnset() {
        let context = InitializationContext(
            functionName: "f", logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
            environment: ["SET": "1", "EMPTY": ""])
        #expect(context.env("SET") == "1")
        #expect(context.env("EMPTY") == nil)
        #expect(context.env("MISSING") == nil)
    }

    @Test func durationMilliseconds() {
        #expect(Duration.milliseconds(1500).milliseconds == 1500)
        #expect(Duration.microseconds(250).milliseconds == 0.25)
        #expect(Duration.seconds(2).milliseconds == 2000)
    }

    @Test func errorPayloadOfAnyError() {
        struct Oops: Error, CustomStringConvertible { var description: String { "it broke" } }
        let p = FunctionRuntime.errorPayload(Oops())
        #expect(p.errorType == "Oops")
        #expect(p.errorMessage == "it broke")
        let given = ErrorPayload(errorType: "Mine", errorMessage: "as is")
        #expect(FunctionRuntime.errorPayload(given) == given)
    }
}
