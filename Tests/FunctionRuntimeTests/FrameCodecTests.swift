import Foundation
import FunctionProtocol
@testable import FunctionRuntime
import JSON
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
