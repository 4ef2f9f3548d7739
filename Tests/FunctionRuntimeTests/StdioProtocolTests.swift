import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import TestSupport
import Testing

/// The NDJSON protocol (docs/ARCHITECTURE.md, section 4) against the real `fixture-fn` process over pipes.
@Suite struct StdioProtocolTests {
    @Test func readyComesFirstAndStrayInitOutputStaysOffStdout() async throws {
        let fn = try await HandlerProcess()
        let initMs = try #require(fn.ready.initMs)
        #expect(initMs >= 0)
        #expect(fn.ready.requestId == nil)

        fn.closeStdin()
        #expect(await fn.waitForExit() == 0)
        // Nothing else was ever written to the protocol stream...
        #expect(await fn.child.readLine(timeout: 1) == nil)
        // ...and the `print` during init went to the logs.
        #expect(fn.stderr.contains { $0.contains("stray stdout during init") }, "\(fn.stderr)")
    }

    @Test func slowInitStillEndsInReady() async throws {
        let fn = try await HandlerProcess(environment: ["FIXTURE_INIT_SLEEP_MS": "50"])
        #expect(fn.ready.initMs != nil)
        let f = try await fn.call("after-slow-init", [:])
        #expect(f.type == .response)
    }

    @Test func manyInvocationsInSequenceOnOneWarmProcess() async throws {
        let fn = try await HandlerProcess()
        for i in 0..<25 {
            let id = "pid-\(i)"
            let response = try await fn.http(id, httpRequest("GET", "/fx/pid"))
            #expect(response.statusCode == 200)
            #expect(try jsonBody(response)["pid"]?.intValue == Int(fn.pid))
        }
        // Interleave event kinds on the same process.
        for i in 0..<10 {
            let f = try await fn.call("raw-\(i)", ["n": .number(Double(i))])
            #expect(f.type == .response)
            #expect(f.requestId == "raw-\(i)")
            #expect(f.payload?["echo"]?["n"]?.intValue == i)
        }
    }

    @Test func httpEventGetsAnHTTPResponsePayload() async throws {
        let fn = try await HandlerProcess(environment: ["AWS_LAMBDA_FUNCTION_NAME": "echoer"])
        let request = httpRequest(
            "POST", "/v1/things/42", routeKey: "POST /v1/things/{id}", query: ["q": "hello world", "k": "3"],
            headers: ["content-type": "application/json", "x-trace": "t-1"], cookies: ["session=abc"],
            body: #"{"a":1}"#, pathParameters: ["id": "42"], claims: ["sub": "user-1", "org_id": "org-9"])
        let response = try await fn.http("http-1", request)
        #expect(response.statusCode == 200)
        #expect(response.headers?["content-type"] == "application/json")
        let echo = try jsonBody(response)
        #expect(echo["method"] == "POST")
        #expect(echo["rawPath"] == "/v1/things/42")
        #expect(echo["routeKey"] == "POST /v1/things/{id}")
        #expect(echo["rawQueryString"] == "k=3&q=hello world")
        #expect(echo["queryStringParameters"] == ["q": "hello world", "k": "3"])
        #expect(echo["pathParameters"] == ["id": "42"])
        #expect(echo["headers"]?["x-trace"] == "t-1")
        #expect(echo["cookies"] == ["session=abc"])
        #expect(echo["body"] == #"{"a":1}"#)
        #expect(echo["isBase64Encoded"] == false)
        #expect(echo["claims"] == ["sub": "user-1", "org_id": "org-9"])
        #expect(echo["requestId"] == "http-1", "the invocation's id, not the gateway's")
    }

    @Test func binaryBodyRoundTripsAsBase64() async throws {
        let fn = try await HandlerProcess()
        let bytes = Data((0..<256).map { UInt8($0) } + [0, 0, 0xFF])
        let response = try await fn.http("bin-1", httpRequest(
            "POST", "/fx/binary", body: bytes.base64EncodedString(), isBase64Encoded: true))
        #expect(response.statusCode == 200)
        #expect(response.isBase64Encoded == true)
        #expect(response.headers?["content-type"] == "application/octet-stream")
        #expect(response.bodyData() == bytes)
    }

    @Test func httpErrorsUseTheDocumentedShape() async throws {
        let fn = try await HandlerProcess()
        let bad = try await fn.http("jb-1", httpRequest(
            "POST", "/fx/json-body", headers: ["content-type": "application/json"], body: "{nope"))
        #expect(bad.statusCode == 400)
        let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: try #require(bad.bodyData()))
        #expect(envelope.error.code == "invalid_json")
        #expect(envelope.requestId == "jb-1")

        let wrongType = try await fn.http("jb-2", httpRequest(
            "POST", "/fx/json-body", headers: ["content-type": "text/plain"], body: #"{"name":"x"}"#))
        #expect(wrongType.statusCode == 415)

        let ok = try await fn.http("jb-3", httpRequest("POST", "/fx/json-body", body: #"{"name":"Ada"}"#))
        #expect(ok.statusCode == 200)
        #expect(try jsonBody(ok) == ["hello": "Ada"])
    }

    @Test func nonHTTPEventIsEchoed() async throws {
        let fn = try await HandlerProcess(environment: ["AWS_LAMBDA_FUNCTION_NAME": "worker"])
        let event: JSONValue = ["documentId": "d-1", "nested": ["list": [1, 2.5, "três", nil, true]], "emoji": "🦀"]
        let f = try await fn.call("raw-1", event)
        #expect(f.type == .response)
        #expect(f.requestId == "raw-1")
        #expect(f.error == nil)
        let payload = try #require(f.payload)
        #expect(payload["echo"] == event)
        #expect(payload["requestId"] == "raw-1")
        #expect(payload["function"] == "fixture", "the invoke frame's functionName")
        #expect((payload["remainingMs"]?.intValue ?? 0) > 0)
    }

    @Test func scheduledEventIsClassified() async throws {
        let fn = try await HandlerProcess()
        let event = try eventValue(ScheduledEvent(
            id: "e-1", time: Timestamps.iso8601Seconds(Timestamps.nowMs()),
            ruleArn: "arn:aws:events:us-east-1:123456789012:rule/nightly-drain"))
        let f = try await fn.call("sched-1", event)
        #expect(f.type == .response)
        #expect(f.payload == ["scheduled": "nightly-drain"])
    }

    @Test func functionErrorBecomesAnErrorFrame() async throws {
        let fn = try await HandlerProcess()
        let f = try await fn.call("fail-1", ["fail": "the index is corrupt"])
        #expect(f.type == .error)
        #expect(f.requestId == "fail-1")
        #expect(f.payload == nil)
        let error = try #require(f.error)
        #expect(error.errorType == "FixtureError")
        #expect(error.errorMessage == "the index is corrupt")
        // The process survives its handler's errors.
        let next = try await fn.call("after-fail", ["ok": true])
        #expect(next.type == .response)
        #expect(next.requestId == "after-fail")
    }

    @Test func eventThatDoesNotFitTheHandlerIsAnInvalidEventError() async throws {
        // `health` is an HTTP function: its event type is the HTTP API request.
        let fn = try await HandlerProcess("health")
        let f = try await fn.call("bad-event-1", ["detail-type": "Scheduled Event", "foo": 1])
        #expect(f.type == .error)
        #expect(f.requestId == "bad-event-1")
        #expect(f.error?.errorType == "InvalidEvent")
        #expect(f.error?.errorMessage.contains("APIGatewayV2Request") == true, "\(f.error?.errorMessage ?? "")")

        let also = try await fn.call("bad-event-2", "just a string")
        #expect(also.type == .error)
        #expect(also.error?.errorType == "InvalidEvent")

        // Still serving.
        let ok = try await fn.http("good-1", httpRequest("GET", "/healthz", routeKey: "GET /healthz"))
        #expect(ok.statusCode == 200)
        #expect(try jsonBody(ok)["status"] == "ok")
    }

    @Test func malformedLinesGetErrorFramesAndTheProcessKeepsServing() async throws {
        let fn = try await HandlerProcess()

        fn.send("this is not json")
        let garbage = try await fn.frame()
        #expect(garbage.type == .error)
        #expect(garbage.requestId == nil)
        #expect(garbage.error?.errorType == "InvalidFrame")

        // Truncated JSON: the requestId is still found and echoed.
        fn.send(#"{"type":"invoke","requestId":"trunc-1","deadlineMs":1,"event":{"a":"#)
        let truncated = try await fn.frame()
        #expect(truncated.type == .error)
        #expect(truncated.requestId == "trunc-1")
        #expect(truncated.error?.errorType == "InvalidFrame")

        fn.send("[1,2,3]")
        let array = try await fn.frame()
        #expect(array.type == .error)
        #expect(array.error?.errorType == "InvalidFrame")

        // An invoke without the fields it needs.
        fn.send(#"{"type":"invoke","requestId":"short-1","event":{}}"#)
        let short = try await fn.frame()
        #expect(short.type == .error)
        #expect(short.requestId == "short-1")
        #expect(short.error?.errorType == "InvalidFrame")
        #expect(short.error?.errorMessage.contains("deadlineMs") == true)

        let ok = try await fn.call("after-garbage", ["still": "alive"])
        #expect(ok.type == .response)
        #expect(ok.requestId == "after-garbage")
    }

    @Test(arguments: [
        #"{"type":"ping","requestId":"u-1"}"#,
        #"{"type":"response","requestId":"u-1","payload":{}}"#,
        #"{"type":"ready","requestId":"u-1","initMs":1}"#,
        #"{"requestId":"u-1","event":{}}"#,
    ])
    func unknownFrameTypesGetErrorFrames(_ line: String) async throws {
        let fn = try await HandlerProcess()
        fn.send(line)
        let f = try await fn.frame()
        #expect(f.type == .error)
        #expect(f.requestId == "u-1")
        #expect(f.error?.errorType == "InvalidFrame")
        #expect(f.error?.errorMessage.contains("invoke") == true)

        let ok = try await fn.call("after-unknown", [:])
        #expect(ok.type == .response)
        #expect(ok.requestId == "after-unknown")
    }

    @Test func blankLinesAreIgnored() async throws {
        let fn = try await HandlerProcess()
        fn.child.write("\n   \n\t\r\n")
        let f = try await fn.call("after-blank", ["x": 1])
        #expect(f.type == .response, "blank lines get no answer of their own")
        #expect(f.requestId == "after-blank")
    }

    @Test func framesSplitAcrossWritesAndSeveralFramesInOneWrite() async throws {
        let fn = try await HandlerProcess()
        let line = invokeLine("split-1", ["part": "one"])
        let cut = line.index(line.startIndex, offsetBy: line.count / 2)
        fn.child.write(String(line[..<cut]))
        try await Task.sleep(for: .milliseconds(20))
        fn.child.write(String(line[cut...]) + invokeLine("batch-1", ["n": 1]) + invokeLine("batch-2", ["n": 2]))
        let ids = [try await fn.frame(), try await fn.frame(), try await fn.frame()].map { $0.requestId }
        #expect(ids == ["split-1", "batch-1", "batch-2"], "one at a time, in order")
    }

    @Test func frameOverTheLimitGetsAnErrorFrameWithItsRequestId() async throws {
        let fn = try await HandlerProcess()
        // The requestId comes first so the runtime can find it in the head of the line.
        var line = Data(#"{"requestId":"huge-1","type":"invoke","deadlineMs":9999999999999,"functionName":"fixture","event":{"data":""#.utf8)
        line.append(Data(repeating: UInt8(ascii: "x"), count: FrameLimits.maxLineBytes + 64 * 1024))
        line.append(Data("\"}}\n".utf8))
        await fn.sendLarge(line)
        let f = try await fn.frame()
        #expect(f.type == .error)
        #expect(f.requestId == "huge-1")
        #expect(f.error?.errorType == "RequestTooLarge")

        let ok = try await fn.call("after-huge", ["small": true])
        #expect(ok.type == .response)
        #expect(ok.requestId == "after-huge")
        #expect(ok.payload?["echo"] == ["small": true])
    }

    @Test func largeEventUnderTheLimitIsServed() async throws {
        let fn = try await HandlerProcess()
        // A 4 MB JSON body (its answer is small: the test reads what matters, not 4 MB back).
        let pad = String(repeating: "abcdefgh", count: 512 * 1024)
        let request = httpRequest(
            "POST", "/fx/json-body", headers: ["content-type": "application/json"], body: #"{"name":"big","pad":"\#(pad)"}"#)
        await fn.sendLarge(Data(invokeLine("large-1", try eventValue(request)).utf8))
        let f = try await fn.frame()
        #expect(f.type == .response)
        #expect(f.requestId == "large-1")
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(f.payload).encoded())
        #expect(response.statusCode == 200)
        #expect(try jsonBody(response) == ["hello": "big"])
    }

    @Test func responseOverTheLimitBecomesAnErrorFrame() async throws {
        let fn = try await HandlerProcess()
        let f = try await fn.call("big-out", try eventValue(httpRequest("GET", "/fx/big", query: ["bytes": "7000000"])))
        #expect(f.type == .error)
        #expect(f.requestId == "big-out")
        #expect(f.error?.errorType == "Function.ResponseSizeTooLarge")

        let fits = try await fn.http("big-ok", httpRequest("GET", "/fx/big", query: ["bytes": "100000"]))
        #expect(fits.body?.count == 100_000)
    }

    @Test func strayPrintDuringAnInvocationDoesNotCorruptStdout() async throws {
        let fn = try await HandlerProcess()
        for i in 0..<3 {
            let response = try await fn.http("print-\(i)", httpRequest("GET", "/fx/print"))
            #expect(try jsonBody(response) == ["printed": true])
        }
        let after = try await fn.call("after-print", ["x": 1])
        #expect(after.type == .response)
        #expect(after.requestId == "after-print")
        #expect(await fn.child.waitForStderr(containing: "stray stdout during an invocation") != nil)
    }

    @Test func invokeAsyncFrameComesBeforeTheResponse() async throws {
        let fn = try await HandlerProcess()
        fn.invoke("async-1", try eventValue(httpRequest("POST", "/fx/async", query: ["function": "reembed"])))
        let first = try await fn.frame()
        #expect(first.type == .invokeAsync)
        #expect(first.functionName == "reembed")
        #expect(first.event == ["from": "async"])
        #expect(first.requestId == nil)
        let second = try await fn.frame()
        #expect(second.type == .response)
        #expect(second.requestId == "async-1")
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(second.payload).encoded())
        #expect(response.statusCode == 202)
    }

    @Test func eofOnStdinExitsZero() async throws {
        let fn = try await HandlerProcess()
        _ = try await fn.call("before-eof", [:])
        fn.closeStdin()
        #expect(await fn.waitForExit() == 0)
    }

    @Test func eofDuringAnInvocationFinishesItFirst() async throws {
        let fn = try await HandlerProcess()
        fn.invoke("last-1", try eventValue(httpRequest("GET", "/fx/sleep", query: ["ms": "300"])))
        fn.closeStdin()
        let f = try await fn.frame()
        #expect(f.type == .response)
        #expect(f.requestId == "last-1")
        #expect(await fn.waitForExit() == 0)
    }

    @Test func sigtermWhileIdleExitsZero() async throws {
        let fn = try await HandlerProcess()
        _ = try await fn.call("before-term", [:])
        fn.signal(SIGTERM)
        #expect(await fn.waitForExit(timeout: 30) == 0)
    }

    @Test func sigtermDuringAnInvocationFinishesItThenExitsZero() async throws {
        let fn = try await HandlerProcess()
        // Idle: a thread sits in read(0) (where /proc says so).
        let observable = await fn.waitUntilReadingStdin(true)
        fn.invoke("term-1", try eventValue(httpRequest("GET", "/fx/sleep", query: ["ms": "800"])))
        if observable {
            // The invoke line was consumed: the invocation is under way.
            #expect(await fn.waitUntilReadingStdin(false))
        }
        try await Task.sleep(for: .milliseconds(150))
        fn.signal(SIGTERM)
        let f = try await fn.frame()
        #expect(f.type == .response, "the invocation is answered despite SIGTERM")
        #expect(f.requestId == "term-1")
        let response = try JSONDecoder().decode(APIGatewayV2Response.self, from: try #require(f.payload).encoded())
        #expect(try jsonBody(response) == ["slept": 800])
        #expect(await fn.waitForExit() == 0)
    }

    @Test func initFailureWritesInitErrorAndExitsNonZero() async throws {
        let child = try ChildProcess(TestPaths.executable("fixture-fn"),
                                     environment: HandlerProcess.environment(["FIXTURE_INIT_FAIL": "1"]))
        let line = try #require(await child.readLine(timeout: 60))
        let f = try decodeFrame(line)
        #expect(f.type == .initError)
        #expect(f.error?.errorType == "ConfigError")
        #expect(f.error?.errorMessage == "FIXTURE_INIT_FAIL is set")
        let status = try #require(await child.waitForExit())
        #expect(status != 0)
        #expect(await child.readLine(timeout: 1) == nil, "nothing after initError")
    }

    @Test func logsAreJSONLinesOnStderr() async throws {
        let fn = try await HandlerProcess(environment: ["AWS_LAMBDA_FUNCTION_NAME": "logger-fn"])
        _ = try await fn.call("log-1", ["fail": "boom \"quoted\"\nnewline"])
        let line = try #require(await fn.child.waitForStderr(containing: #""requestId":"log-1""#))
        let log = try JSONValue.decode(Data(line.utf8))
        #expect(log["level"] == "error")
        #expect(log["msg"] == "invocation failed")
        #expect(log["function"] == "logger-fn")
        #expect(log["requestId"] == "log-1")
        #expect(log["error"]?.stringValue?.contains("boom") == true)
        let ts = try #require(log["ts"]?.stringValue)
        #expect(ts.count == "2026-11-21T19:59:04.123Z".count && ts.hasSuffix("Z") && ts.contains("T"), "\(ts)")

        // Every line the runtime logs parses; stray prints are the only non-JSON lines. The
        // per-invocation EMF record is the other kind of JSON line (ObservabilityTests).
        #expect(fn.stderr.contains { $0.hasPrefix(#"{"_aws":"#) && $0.contains(#""requestId":"log-1""#) })
        for line in fn.stderr where line.hasPrefix("{") && !line.hasPrefix(#"{"_aws":"#) {
            let value = try JSONValue.decode(Data(line.utf8))
            #expect(value["ts"] != nil && value["level"] != nil && value["msg"] != nil && value["function"] != nil, "\(line)")
        }
    }
}
