import Foundation
import FunctionProtocol
import HTTPTypes
import Hummingbird
import JSON
import LambdaEvents
import NIOCore
import TestSupport
import Testing

/// A Lambda Runtime API (2018-06-01) good enough to drive a handler: a queue of events handed
/// out by a long-polling `/next`, and a record of everything posted back.
actor FakeRuntimeAPI {
    struct Event: Sendable {
        var id: String
        var body: Data
        var deadlineMs: Int64
        var arn: String
        var traceId: String
    }
    struct Posted: Sendable {
        var id: String?
        var errorType: String?
        var contentType: String?
        /// `Lambda-Runtime-Function-Response-Mode` (`streaming` for a streamed answer).
        var responseMode: String?
        var body: Data
        var json: JSONValue? { try? JSONValue.decode(body) }
    }

    private var queue: [Event] = []
    private(set) var nextCalls = 0
    private(set) var responses: [Posted] = []
    private(set) var errors: [Posted] = []
    private(set) var initErrors: [Posted] = []
    /// A streamed `/response`'s body so far, by request id, as its parts arrive.
    private(set) var streamed: [String: Data] = [:]

    func enqueue(_ id: String, _ event: JSONValue, arn: String = "arn:aws:lambda:us-east-1:123456789012:function:fixture") throws {
        queue.append(Event(id: id, body: try event.encoded(), deadlineMs: Timestamps.nowMs() + 60_000, arn: arn,
                           traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"))
    }

    fileprivate func take() -> Event? { queue.isEmpty ? nil : queue.removeFirst() }
    fileprivate func countNext() { nextCalls += 1 }
    fileprivate func record(response p: Posted) { responses.append(p) }
    fileprivate func record(error p: Posted) { errors.append(p) }
    fileprivate func record(initError p: Posted) { initErrors.append(p) }
    fileprivate func record(part: ByteBuffer, of id: String) { streamed[id, default: Data()].append(contentsOf: part.readableBytesView) }

    func response(_ id: String) -> Posted? { responses.first { $0.id == id } }
    func error(_ id: String) -> Posted? { errors.first { $0.id == id } }

    /// Serves the API on 127.0.0.1 (a free port) while `body` runs.
    func serve<T: Sendable>(_ body: @Sendable (_ endpoint: String) async throws -> T) async throws -> T {
        let router = Router()
        let base = "/2018-06-01/runtime"
        router.get("\(base)/invocation/next") { _, _ -> Response in
            await self.countNext()
            // Long-poll: hold the request until there is an event (or the server stops).
            while true {
                if let event = await self.take() {
                    var headers = HTTPFields()
                    headers[HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!] = event.id
                    headers[HTTPField.Name("Lambda-Runtime-Deadline-Ms")!] = String(event.deadlineMs)
                    headers[HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!] = event.arn
                    headers[HTTPField.Name("Lambda-Runtime-Trace-Id")!] = event.traceId
                    headers[.contentType] = "application/json"
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: event.body)))
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        @Sendable func posted(_ request: Request, _ id: String?) async throws -> Posted {
            let buffer = try await request.body.collect(upTo: 16 * 1024 * 1024)
            return Posted(
                id: id, errorType: request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!],
                contentType: request.headers[.contentType],
                responseMode: request.headers[HTTPField.Name("Lambda-Runtime-Function-Response-Mode")!],
                body: Data(buffer.readableBytesView))
        }
        router.post("\(base)/invocation/:id/response") { request, context -> Response in
            let id = context.parameters.get("id")
            let mode = request.headers[HTTPField.Name("Lambda-Runtime-Function-Response-Mode")!]
            if mode == "streaming", let id {
                // Read as it arrives, so a test can see the first bytes before the last are written.
                var body = Data()
                for try await part in request.body {
                    body.append(contentsOf: part.readableBytesView)
                    await self.record(part: part, of: id)
                }
                await self.record(response: Posted(id: id, errorType: nil, contentType: request.headers[.contentType],
                                                   responseMode: mode, body: body))
                return Response(status: .accepted)
            }
            await self.record(response: try await posted(request, id))
            return Response(status: .accepted)
        }
        router.post("\(base)/invocation/:id/error") { request, context -> Response in
            await self.record(error: try await posted(request, context.parameters.get("id")))
            return Response(status: .accepted)
        }
        router.post("\(base)/init/error") { request, _ -> Response in
            await self.record(initError: try await posted(request, nil))
            return Response(status: .accepted)
        }

        return try await serveLocally(router, label: "fake-runtime-api") { port in try await body("127.0.0.1:\(port)") }
    }
}

/// A handler started against the fake Runtime API (stdout is not used by this transport).
func startAgainst(_ endpoint: String, product: String = "fixture-fn", env: [String: String] = [:]) throws -> ChildProcess {
    try ChildProcess(TestPaths.executable(product), environment: HandlerProcess.environment(
        ["AWS_LAMBDA_RUNTIME_API": endpoint, "AWS_LAMBDA_FUNCTION_NAME": "fixture"].merging(env) { _, new in new }))
}

/// Ends a handler that would otherwise poll for ever.
func stop(_ child: ChildProcess) async {
    child.signal(SIGKILL)
    _ = await child.waitForExit(timeout: 30)
}

@Suite struct RuntimeAPITransportTests {
    @Test func responsesForHTTPAndRawEventsReachResponse() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("req-http", eventValue(httpRequest(
                "GET", "/fx/echo", query: ["q": "1"], headers: ["x-h": "v"], claims: ["sub": "u"])))
            try await api.enqueue("req-raw", ["hello": "lambda", "n": 3])
            try await api.enqueue("req-sched", eventValue(ScheduledEvent(
                id: "s", time: "2026-01-01T00:00:00Z", ruleArn: "arn:aws:events:us-east-1:123456789012:rule/nightly")))
            let child = try startAgainst(endpoint)
            #expect(await eventually { await api.responses.count == 3 }, "stderr: \(child.stderr)")
            await stop(child)

            let http = try #require(await api.response("req-http"))
            #expect(http.contentType == "application/json")
            let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: http.body)
            #expect(response.statusCode == 200)
            let echo = try jsonBody(response)
            #expect(echo["requestId"] == "req-http")
            #expect(echo["rawPath"] == "/fx/echo")
            #expect(echo["headers"]?["x-h"] == "v")
            #expect(echo["claims"] == ["sub": "u"])

            let raw = try #require(await api.response("req-raw")?.json)
            #expect(raw["echo"] == ["hello": "lambda", "n": 3])
            #expect(raw["requestId"] == "req-raw")
            #expect(raw["function"] == "fixture", "AWS_LAMBDA_FUNCTION_NAME")
            #expect((raw["remainingMs"]?.intValue ?? 0) > 0, "the deadline header is used")

            #expect(await api.response("req-sched")?.json == ["scheduled": "nightly"])
            #expect(await api.errors.isEmpty)
            #expect(await api.responses.map(\.id) == ["req-http", "req-raw", "req-sched"], "served in order")
        }
    }

    @Test func failingEventReachesErrorWithItsType() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("req-fail", ["fail": "no such index"])
            try await api.enqueue("req-after", ["ok": true])
            let child = try startAgainst(endpoint)
            #expect(await eventually { await api.response("req-after") != nil }, "stderr: \(child.stderr)")
            await stop(child)

            let posted = try #require(await api.error("req-fail"))
            #expect(posted.errorType == "FixtureError")
            #expect(posted.contentType == "application/json")
            let body = try #require(posted.json)
            #expect(body["errorType"] == "FixtureError")
            #expect(body["errorMessage"] == "no such index")
            #expect(body["stackTrace"] == [])
            #expect(await api.response("req-fail") == nil)
            #expect(await api.response("req-after")?.json?["echo"] == ["ok": true], "the process kept serving")
        }
    }

    @Test func eventThatDoesNotFitIsAnInvalidEventError() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("req-bad", ["not": "an http request"])
            try await api.enqueue("req-good", eventValue(httpRequest("GET", "/healthz", routeKey: "GET /healthz")))
            let child = try startAgainst(endpoint, product: "health")
            #expect(await eventually { await api.response("req-good") != nil }, "stderr: \(child.stderr)")
            await stop(child)

            let posted = try #require(await api.error("req-bad"))
            #expect(posted.errorType == "InvalidEvent")
            #expect(posted.json?["errorType"] == "InvalidEvent")
            let good = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(await api.response("req-good")).body)
            #expect(good.statusCode == 200)
        }
    }

    @Test func responseOverTheLimitIsReportedAsAnError() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("req-big", eventValue(httpRequest("GET", "/fx/big", query: ["bytes": "7000000"])))
            let child = try startAgainst(endpoint)
            #expect(await eventually { await api.error("req-big") != nil }, "stderr: \(child.stderr)")
            await stop(child)
            #expect(await api.error("req-big")?.errorType == "Function.ResponseSizeTooLarge")
            #expect(await api.response("req-big") == nil)
        }
    }

    @Test func longPollThatWaitsStillDelivers() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            let child = try startAgainst(endpoint)
            // The handler is parked in /next with nothing queued...
            #expect(await eventually { await api.nextCalls >= 1 }, "stderr: \(child.stderr)")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(child.process.isRunning, "a quiet /next is not a client timeout")
            // ...and an event queued later is still picked up on the same poll.
            try await api.enqueue("req-late", ["late": true])
            #expect(await eventually { await api.response("req-late") != nil }, "stderr: \(child.stderr)")
            #expect(await api.nextCalls <= 2)
            await stop(child)
            #expect(await api.response("req-late")?.json?["echo"] == ["late": true])
        }
    }

    @Test func traceIdReachesTheEnvironment() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("req-trace", eventValue(httpRequest("GET", "/fx/env", query: ["name": "_X_AMZN_TRACE_ID"])))
            let child = try startAgainst(endpoint)
            #expect(await eventually { await api.response("req-trace") != nil }, "stderr: \(child.stderr)")
            await stop(child)
            let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(await api.response("req-trace")).body)
            #expect(try jsonBody(response)["value"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        }
    }

    @Test func initFailureReachesInitError() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            try await api.enqueue("never-served", [:])
            let child = try startAgainst(endpoint, env: ["FIXTURE_INIT_FAIL": "1"])
            let status = await child.waitForExit()
            #expect(status != nil && status != 0, "exits non-zero after reporting")
            let posted = try #require(await api.initErrors.first)
            #expect(posted.errorType == "ConfigError")
            #expect(posted.json?["errorType"] == "ConfigError")
            #expect(posted.json?["errorMessage"] == "FIXTURE_INIT_FAIL is set")
            #expect(await api.nextCalls == 0, "no invocation is asked for after a failed init")
            #expect(await api.responses.isEmpty)
        }
    }
}

/// Lambda response streaming from the handler's side: one `/response` in streaming mode whose
/// chunked body is the HTTP integration prelude, 8 NUL bytes and the events, sent as written.
@Suite struct RuntimeAPIStreamingTests {
    @Test func aFunctionURLStreamIsPostedInStreamingModeAsItIsWritten() async throws {
        let api = FakeRuntimeAPI()
        let gate = TestPaths.temporaryDirectory("runtime-api-stream") + "/gate"
        try await api.serve { endpoint in
            var request = httpRequest("GET", "/stream", query: ["chunks": "3", "gate": gate])
            request.requestContext.domainName = "abc123.lambda-url.us-east-1.on.aws"
            try await api.enqueue("req-stream", try eventValue(request))
            let child = try startAgainst(endpoint, env: ["FUNCTION_URL_INVOKE_MODE": "RESPONSE_STREAM"])
            // The first event reaches the API while the handler still waits on the gate.
            #expect(await eventually {
                (await api.streamed["req-stream"]).map { String(decoding: $0, as: UTF8.self).hasSuffix("data: 0\n\n") } ?? false
            }, "stderr: \(child.stderr)")
            #expect(await api.response("req-stream") == nil, "the response is still open")
            FileManager.default.createFile(atPath: gate, contents: Data())
            #expect(await eventually { await api.response("req-stream") != nil }, "stderr: \(child.stderr)")
            await stop(child)

            let posted = try #require(await api.response("req-stream"))
            #expect(posted.responseMode == "streaming")
            #expect(posted.contentType == "application/vnd.awslambda.http-integration-response")
            let body = [UInt8](posted.body)
            let delimiter = try #require((0...(body.count - 8)).first { body[$0..<($0 + 8)].allSatisfy { $0 == 0 } })
            let prelude = try JSONValue.parse(Array(body[..<delimiter]))
            #expect(prelude["statusCode"]?.intValue == 200)
            #expect(prelude["headers"]?["content-type"]?.stringValue == "text/event-stream")
            #expect(String(decoding: body[(delimiter + 8)...], as: UTF8.self) == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        }
    }

    @Test func anAnswerMadeWholeIsStillStreamedToAStreamingURL() async throws {
        let api = FakeRuntimeAPI()
        try await api.serve { endpoint in
            var request = httpRequest("GET", "/fx/echo")
            request.requestContext.domainName = "abc123.lambda-url.us-east-1.on.aws"
            try await api.enqueue("req-whole", try eventValue(request))
            try await api.enqueue("req-gateway", try eventValue(httpRequest("GET", "/fx/echo")))
            let child = try startAgainst(endpoint, product: "health", env: ["FUNCTION_URL_INVOKE_MODE": "RESPONSE_STREAM"])
            #expect(await eventually { await api.responses.count == 2 }, "stderr: \(child.stderr)")
            await stop(child)
            // health is an HTTPFunction: through the URL its answer (a 404 here) goes out as a stream...
            let whole = try #require(await api.response("req-whole"))
            #expect(whole.responseMode == "streaming")
            let body = [UInt8](whole.body)
            let delimiter = try #require((0...(body.count - 8)).first { body[$0..<($0 + 8)].allSatisfy { $0 == 0 } })
            #expect(try JSONValue.parse(Array(body[..<delimiter]))["statusCode"]?.intValue == 404)
            #expect(String(decoding: body[(delimiter + 8)...], as: UTF8.self).contains("not_found"))
            // ...and through API Gateway as a buffered JSON response.
            let gateway = try #require(await api.response("req-gateway"))
            #expect(gateway.responseMode == nil && gateway.contentType == "application/json")
        }
    }
}
