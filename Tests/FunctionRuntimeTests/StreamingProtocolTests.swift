import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import TestSupport
import Testing

/// Streamed answers in the stdio protocol, against the real `fixture-fn` over pipes: the
/// frames, `cancel` reaching the handler mid-stream, and the next invocation after a stream
/// (stdin is read by a watcher thread during a stream and handed back).
@Suite struct StreamingProtocolTests {
    static let streaming = ["FUNCTION_URL_INVOKE_MODE": "RESPONSE_STREAM"]

    /// An HTTP event as a function URL sends it (the URL's domain in `requestContext`).
    static func urlEvent(_ path: String, query: [String: String]) throws -> JSONValue {
        var request = httpRequest("GET", path, query: query)
        request.requestContext.domainName = "abc123.lambda-url.us-east-1.on.aws"
        return try JSONValue.decode(try JSONEncoder().encode(request))
    }

    @Test func aStreamIsAStartChunksAndAnEnd() async throws {
        let fn = try await HandlerProcess(environment: Self.streaming)
        fn.invoke("s-1", try Self.urlEvent("/stream", query: ["chunks": "3"]))
        let start = try await fn.frame()
        #expect(start.type == .streamStart && start.requestId == "s-1")
        #expect(start.prelude?["statusCode"]?.intValue == 200)
        #expect(start.prelude?["headers"]?["content-type"]?.stringValue == "text/event-stream")
        var body = ""
        while true {
            let f = try await fn.frame()
            #expect(f.requestId == "s-1")
            if f.type == .streamEnd { break }
            #expect(f.type == .streamChunk)
            body += String(decoding: Data(base64Encoded: f.data ?? "") ?? Data(), as: UTF8.self)
        }
        #expect(body == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        // The process goes on to the next invocation (stdin came back from the watcher).
        let next = try await fn.call("after", ["n": .number(1)])
        #expect(next.type == .response && next.requestId == "after")
    }

    @Test func cancelReachesTheHandlerAndTheNextInvokeIsServed() async throws {
        let fn = try await HandlerProcess(environment: Self.streaming)
        fn.invoke("s-2", try Self.urlEvent("/stream", query: ["chunks": "1000", "delayMs": "50"]))
        #expect(try await fn.frame().type == .streamStart)
        #expect(try await fn.frame().type == .streamChunk)
        fn.send(#"{"type":"cancel","requestId":"s-2"}"#)
        // The handler stops its producer and ends the stream; chunks already on their way may come first.
        var last = try await fn.frame()
        while last.type == .streamChunk { last = try await fn.frame() }
        #expect(last.type == .streamError && last.requestId == "s-2", "\(last)")
        #expect(await eventually { fn.stderr.contains { $0.contains("fixture: producer stopped after") } }, "\(fn.stderr)")
        // A late cancel for a stream that has ended is ignored, and the next invoke is served.
        fn.send(#"{"type":"cancel","requestId":"s-2"}"#)
        let next = try await fn.call("after-cancel", ["n": .number(2)])
        #expect(next.type == .response && next.requestId == "after-cancel")
    }

    @Test func anErrorAfterTheStartIsAStreamError() async throws {
        let fn = try await HandlerProcess(environment: Self.streaming)
        fn.invoke("s-3", try Self.urlEvent("/stream", query: ["chunks": "5", "failAfter": "1"]))
        #expect(try await fn.frame().type == .streamStart)
        #expect(try await fn.frame().type == .streamChunk)
        let end = try await fn.frame()
        #expect(end.type == .streamError)
        #expect(end.error?.errorType == "FixtureStreamError")
    }

    @Test func withoutAStreamingURLTheAnswerIsWhole() async throws {
        // Streaming mode but an API Gateway event, and a function URL event without the mode.
        let gateway = try await HandlerProcess(environment: Self.streaming)
        let viaAPI = try await gateway.http("w-1", httpRequest("GET", "/stream", query: ["chunks": "2"]))
        #expect(viaAPI.body == "data: 0\n\ndata: 1\n\n")
        let buffered = try await HandlerProcess()
        let f = try await buffered.call("w-2", try Self.urlEvent("/stream", query: ["chunks": "2"]))
        #expect(f.type == .response)
    }
}
