import Foundation
import FunctionProtocol
@testable import FunctionRuntime
import JSON
import LambdaEvents
import Logging
import Testing

@Suite struct FrameCodecTests {
    @Test func framesAreSingleLines() throws {
        let frame = ResponseFrame(requestId: "r-1", payload: JSONValue.object(["text": "line one\nline two\r\n", "url": "a/b"]))
        let line = try FrameCodec.line(frame, encoder: FrameCodec.encoder())
        #expect(line.last == 0x0A)
        #expect(line.dropLast().contains(0x0A) == false)
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("a/b"), "slashes are not escaped")
        let decoded = try JSONDecoder().decode(AnyFrame.self, from: line)
        #expect(decoded.type == .response)
        #expect(decoded.requestId == "r-1")
        #expect(decoded.payload?["text"] == "line one\nline two\r\n")
    }

    @Test func everyFrameTypeRoundTripsThroughAnyFrame() throws {
        let encoder = FrameCodec.encoder()
        func any<T: Encodable>(_ f: T) throws -> AnyFrame { try JSONDecoder().decode(AnyFrame.self, from: FrameCodec.line(f, encoder: encoder)) }

        let ready = try any(ReadyFrame(initMs: 12.5))
        #expect(ready.type == .ready && ready.initMs == 12.5)

        let initError = try any(InitErrorFrame(error: ErrorPayload(errorType: "ConfigError", errorMessage: "no")))
        #expect(initError.type == .initError && initError.error?.errorType == "ConfigError")

        let invoke = try any(InvokeFrame(requestId: "i", deadlineMs: 1_732_200_000_000, functionName: "search",
                                         invokedFunctionArn: "arn", traceId: nil, event: JSONValue.object(["q": "x"])))
        #expect(invoke.type == .invoke && invoke.deadlineMs == 1_732_200_000_000 && invoke.event == ["q": "x"])

        let error = try any(ErrorFrame(requestId: "e", error: ErrorPayload(errorType: "T", errorMessage: "m")))
        #expect(error.type == .error && error.requestId == "e" && error.error?.stackTrace == [])

        let asyncFrame = try any(InvokeAsyncFrame(functionName: "reembed", event: JSONValue.object(["id": 1])))
        #expect(asyncFrame.type == .invokeAsync && asyncFrame.functionName == "reembed" && asyncFrame.event == ["id": 1])
    }

    @Test func invokeFrameHasTheDocumentedFields() throws {
        let data = try FrameCodec.encoder().encode(InvokeFrame(
            requestId: "r", deadlineMs: 5, functionName: "search", invokedFunctionArn: "arn", traceId: "t", event: JSONValue.object([:])))
        let o = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(o.keys) == ["type", "requestId", "deadlineMs", "functionName", "invokedFunctionArn", "traceId", "event"])
        #expect(o["type"] as? String == "invoke")
    }

    @Test(arguments: [
        (#"{"type":"invoke","requestId":"abc-123","event":{}}"#, "abc-123"),
        (#"{"requestId" : "spaced","type":"invoke"}"#, "spaced"),
        (#"{"type":"invoke","requestId":"trunc"#, nil),
        (#"{"type":"invoke","requestId":42}"#, nil),
        (#"{"type":"invoke"}"#, nil),
        ("", nil),
        ("garbage", nil),
    ] as [(String, String?)])
    func sniffsTheRequestId(_ text: String, _ expected: String?) {
        #expect(FrameCodec.sniffRequestId(Array(text.utf8)) == expected)
    }

    @Test func sniffLooksOnlyAtTheHead() {
        let late = #"{"event":""# + String(repeating: "x", count: 5000) + #"","requestId":"late"}"#
        #expect(FrameCodec.sniffRequestId(Array(late.utf8)) == nil)
        let early = #"{"requestId":"early","event":""# + String(repeating: "x", count: 100_000) + #""}"#
        #expect(FrameCodec.sniffRequestId(Array(early.utf8)) == "early")
    }

    @Test func limits() {
        #expect(FrameLimits.maxPayloadBytes == 6 * 1024 * 1024)
        #expect(FrameLimits.maxLineBytes > FrameLimits.maxPayloadBytes)
    }
}

@Suite struct JSONLogTextTests {
    func quoted(_ s: String) -> String {
        var out = ""
        JSONText.appendString(s, to: &out)
        return out
    }

    @Test func escapesLikeJSON() throws {
        for s in ["plain", "quote \" backslash \\", "new\nline\r\ttab", "\u{0}\u{1}\u{1F}", "unicode é 🦀", ""] {
            let text = quoted(s)
            #expect(!text.contains("\n"))
            #expect(try JSONDecoder().decode(String.self, from: Data(text.utf8)) == s, "\(text)")
        }
        #expect(quoted("\u{1}") == #""\u0001""#)
    }

    @Test func metadataValues() throws {
        var out = ""
        JSONText.append(.dictionary(["b": .array(["1", .stringConvertible(2)]), "a": .string("x\"y")]), to: &out)
        #expect(out == #"{"a":"x\"y","b":["1","2"]}"#)
        _ = try JSONValue.decode(Data(out.utf8))
    }

    @Test func logLevelFromEnvironment() {
        #expect(JSONLogHandler.level(from: nil) == .info)
        #expect(JSONLogHandler.level(from: "DEBUG") == .debug)
        #expect(JSONLogHandler.level(from: "warning") == .warning)
        #expect(JSONLogHandler.level(from: "loud") == .info)
    }
}

/// The codec's two paths (hand-written for `JSONRepresentable` types, Codable for the rest) must
/// read and write the same frames.
@Suite struct FrameCodecPathsTests {
    struct Plain: Codable, Sendable, Equatable { var q: String; var k: Int }

    private let meta = InvocationMeta(requestId: "r-9", deadlineMs: 1_732_200_000_123, functionName: "search",
                                      invokedFunctionArn: "arn:x", traceId: "Root=1-a-b")

    @Test func anyJSONValueEventCrossesByHandAsCodableWouldCarryIt() throws {
        let event: JSONValue = ["q": "phở \"bò\"\n", "n": 3, "f": 0.25, "big": 12_345_678_901, "neg": -7, "ok": true,
                                "none": nil, "list": [1, "two", ["three": []]], "nested": ["a": ["b": [:]]]]
        let line = try FrameCodec.invokeLine(meta, event: event, encoder: FrameCodec.encoder())
        #expect(line.last == 0x0A && !line.dropLast().contains(0x0A))
        // Codable reads what the hand-written path wrote…
        let viaCodable = try JSONDecoder().decode(InvokeFrame<JSONValue>.self, from: Data(line.dropLast()))
        #expect(viaCodable.event == event && viaCodable.requestId == "r-9" && viaCodable.traceId == "Root=1-a-b")
        // …and the handler's side reads it back to the same event and metadata.
        guard case .invocation(let m, .success(let back)) = FrameCodec.decodeInvoke(Array(line.dropLast()), as: JSONValue.self,
                                                                                   decoder: JSONDecoder()) else {
            Issue.record("not read as an invocation"); return
        }
        #expect(back == event && m == meta)
    }

    @Test func aCodableOnlyEventTakesTheCodablePathBothWays() throws {
        let line = try FrameCodec.invokeLine(meta, event: Plain(q: "x", k: 2), encoder: FrameCodec.encoder())
        guard case .invocation(let m, .success(let back)) = FrameCodec.decodeInvoke(line, as: Plain.self, decoder: JSONDecoder()) else {
            Issue.record("not read as an invocation"); return
        }
        #expect(back == Plain(q: "x", k: 2) && m == meta)
        // The same frame does not fit another type: an invocation whose event is refused, with Codable's reason.
        guard case .invocation(_, .failure(let e)) = FrameCodec.decodeInvoke(line, as: APIGatewayV2Request.self, decoder: JSONDecoder()) else {
            Issue.record("expected a refused event"); return
        }
        #expect(e.errorType == "InvalidEvent" && e.errorMessage.contains("APIGatewayV2Request"))
    }

    @Test func responsesWrittenByHandDecodeAsCodableWrites() throws {
        let response = APIGatewayV2Response(statusCode: 404, headers: ["content-type": "application/json"], cookies: ["a=1"],
                                            body: #"{"error":{"code":"not_found"}}"#, isBase64Encoded: false)
        let byHand = try FrameCodec.responseLine(requestId: "r", payload: response, encoder: FrameCodec.encoder())
        let frame = try JSONDecoder().decode(AnyFrame.self, from: Data(byHand))
        #expect(frame.type == .response && frame.requestId == "r")
        #expect(APIGatewayV2Response(json: try #require(frame.payload)) == response)
        #expect(try JSONDecoder().decode(APIGatewayV2Response.self, from: Data(FrameCodec.payload(response, encoder: FrameCodec.encoder()))) == response)
        // A shape Codable refuses is refused by the tree reader too.
        #expect(APIGatewayV2Response(json: ["statusCode": "200"]) == nil)
        #expect(APIGatewayV2Response(json: ["statusCode": 200, "headers": ["a": 1]]) == nil)
    }

    @Test func aLambdaAuthorizerContextCrossesTheProtocol() throws {
        var event = try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(#"""
            {"rawPath":"/x","requestContext":{"accountId":"1","apiId":"a","requestId":"q","routeKey":"$default","stage":"$default",
             "time":"t","timeEpoch":1,"http":{"method":"GET"}}}
            """#.utf8))
        event.requestContext.authorizer = .init(jwt: nil, lambda: ["org": "acme", "tier": 2])
        let line = try FrameCodec.invokeLine(meta, event: event, encoder: FrameCodec.encoder())
        guard case .invocation(_, .success(let back)) = FrameCodec.decodeInvoke(line, as: APIGatewayV2Request.self, decoder: JSONDecoder()) else {
            Issue.record("not read as an invocation"); return
        }
        #expect(back.requestContext.authorizer?.lambda == ["org": "acme", "tier": 2])
        #expect(back == event)
    }

    @Test func refusedFramesNameTheProblem() {
        func refusal(_ text: String) -> ErrorFrame? {
            if case .refused(let f) = FrameCodec.decodeInvoke(Array(text.utf8), as: JSONValue.self, decoder: JSONDecoder()) { return f }
            return nil
        }
        #expect(refusal("nope")?.error.errorMessage == "The frame is not a JSON object.")
        #expect(refusal(#"{"type":"ready","requestId":"z"}"#)?.requestId == "z")
        #expect(refusal(#"{"type":"invoke","requestId":"y"}"#)?.error.errorMessage.contains("needs requestId") == true)
    }
}
