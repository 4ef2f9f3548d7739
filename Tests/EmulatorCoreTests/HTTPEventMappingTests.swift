import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import NIOCore
import Testing
@testable import EmulatorCore

@Suite struct HTTPEventMappingTests {
    @Test func requestBecomesPayload20Event() throws {
        let req = HTTPEventMapping.IncomingRequest(
            method: "POST", rawPath: "/v1/documents/a%2Fb", rawQuery: "tag=a&tag=b&q=hello+world&e=%C3%A9&flag",
            headers: [("Content-Type", "application/json"), ("X-Multi", "1"), ("x-multi", "2"),
                      ("Cookie", "a=1; b=2"), ("User-Agent", "curl/8"), ("Host", "api.local:3000")],
            body: Array(#"{"k":"v"}"#.utf8), sourceIp: "127.0.0.9")
        let e = HTTPEventMapping.event(for: req, routeKey: "POST /v1/documents/{id}", pathParameters: ["id": "a/b"],
                                       requestId: "rid", nowMs: 1_732_200_000_123)
        #expect(e.version == "2.0")
        #expect(e.routeKey == "POST /v1/documents/{id}")
        #expect(e.rawPath == "/v1/documents/a%2Fb")
        #expect(e.rawQueryString == "tag=a&tag=b&q=hello+world&e=%C3%A9&flag")
        #expect(e.queryStringParameters == ["tag": "a,b", "q": "hello world", "e": "é", "flag": ""])
        #expect(e.headers["content-type"] == "application/json")
        #expect(e.headers["x-multi"] == "1,2")
        #expect(e.headers["cookie"] == nil)
        #expect(e.cookies == ["a=1", "b=2"])
        #expect(e.pathParameters == ["id": "a/b"])
        #expect(e.body == #"{"k":"v"}"#)
        #expect(e.isBase64Encoded == false)
        #expect(e.requestContext.http.method == "POST")
        #expect(e.requestContext.http.sourceIp == "127.0.0.9")
        #expect(e.requestContext.http.userAgent == "curl/8")
        #expect(e.requestContext.requestId == "rid")
        #expect(e.requestContext.stage == "$default")
        #expect(e.requestContext.timeEpoch == 1_732_200_000_123)
        #expect(e.requestContext.time == "21/Nov/2024:14:40:00 +0000")
        #expect(e.requestContext.domainName == "api.local:3000")
    }

    @Test func binaryBodiesTravelAsBase64() {
        let bytes: [UInt8] = [0, 255, 1, 254, 10, 13]
        let (body, b64) = HTTPEventMapping.encodeBody(bytes, contentType: "application/octet-stream")
        #expect(b64)
        #expect(Data(base64Encoded: body!) == Data(bytes))
        // Text types that are not valid UTF-8 are base64 too, so nothing is mangled.
        #expect(HTTPEventMapping.encodeBody([0xff, 0xfe], contentType: "text/plain").1)
        #expect(HTTPEventMapping.encodeBody(Array("héllo".utf8), contentType: "text/plain; charset=utf-8") == ("héllo", false))
        #expect(HTTPEventMapping.encodeBody([], contentType: "text/plain") == (nil, false))
    }

    @Test func responseObjectMapsToHTTP() throws {
        let r = try HTTPEventMapping.response(from: [
            "statusCode": 201, "headers": ["content-type": "text/plain", "x-n": 5],
            "cookies": ["a=1; Path=/", "b=2"], "body": "created",
        ])
        #expect(r.status == 201)
        #expect(r.body == Array("created".utf8))
        #expect(r.headers.contains { $0 == ("content-type", "text/plain") })
        #expect(r.headers.contains { $0 == ("x-n", "5") })
        #expect(r.headers.filter { $0.0 == "set-cookie" }.map(\.1) == ["a=1; Path=/", "b=2"])
    }

    @Test func base64ResponseBodyIsDecoded() throws {
        let r = try HTTPEventMapping.response(from: ["statusCode": 200, "body": "AP8B", "isBase64Encoded": true])
        #expect(r.body == [0, 255, 1])
        #expect(throws: HTTPEventMapping.MappingError.self) {
            try HTTPEventMapping.response(from: ["statusCode": 200, "body": "***", "isBase64Encoded": true])
        }
    }

    @Test func payloadWithoutStatusCodeIsA200JSONBody() throws {
        let r = try HTTPEventMapping.response(from: ["hello": "world"])
        #expect(r.status == 200)
        #expect(r.headers.first { $0.0 == "content-type" }?.1 == "application/json")
        #expect(try JSONValue.decode(Data(r.body)) == ["hello": "world"])
    }

    @Test func invalidStatusIsRejected() {
        #expect(throws: HTTPEventMapping.MappingError.invalid("statusCode 99 is not an HTTP status")) {
            try HTTPEventMapping.response(from: ["statusCode": 99])
        }
    }

    @Test func oversizedResponseIsTooLarge() {
        let big = String(repeating: "x", count: 6 * 1024 * 1024 + 1)
        #expect(throws: HTTPEventMapping.MappingError.tooLarge(6 * 1024 * 1024 + 1)) {
            try HTTPEventMapping.response(from: ["statusCode": 200, "body": .string(big)])
        }
    }
}

@Suite struct HandWrittenInvokeFrameTests {
    @Test func handWrittenFrameDecodesToTheSameFrame() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t cr \r nul \u{0} bell \u{7} é 日本 🚀 </script>"
        let event = APIGatewayV2Request(
            routeKey: "POST /v1/x/{id}", rawPath: "/v1/x/%22", rawQueryString: "a=1&b=%20",
            cookies: ["a=1", tricky], headers: ["content-type": "application/json", "x-\(tricky)": tricky],
            queryStringParameters: ["a": "1", "b": " "], pathParameters: ["id": tricky], stageVariables: ["s": "v"],
            body: tricky, isBase64Encoded: false,
            requestContext: .init(domainName: "localhost", domainPrefix: "localhost",
                                  http: .init(method: "POST", path: "/v1/x/%22", sourceIp: "127.0.0.1", userAgent: tricky),
                                  requestId: "rid", routeKey: "POST /v1/x/{id}", time: "t", timeEpoch: 1_732_200_000_123,
                                  authorizer: .init(jwt: .init(claims: ["org_id": "acme", "x": tricky], scopes: ["read", "write"]))))
        let line = try FrameCodec.invokeLine(InvocationMeta(requestId: "r-1", deadlineMs: 99, functionName: "fn", invokedFunctionArn: "arn:x",
                                                            traceId: "Root=1-a-b"), event: event, encoder: FrameCodec.encoder())
        var bytes = line
        #expect(bytes.last == 0x0A)
        bytes.removeLast()
        #expect(!bytes.contains(0x0A))  // one frame, one line
        let decoded = try JSONDecoder().decode(InvokeFrame<APIGatewayV2Request>.self, from: Data(bytes))
        #expect(decoded.type == .invoke)
        #expect(decoded.requestId == "r-1")
        #expect(decoded.deadlineMs == 99)
        #expect(decoded.functionName == "fn")
        #expect(decoded.invokedFunctionArn == "arn:x")
        #expect(decoded.traceId == "Root=1-a-b")
        #expect(decoded.event == event)

        // And the minimal event, with every optional absent.
        var minimal = event
        (minimal.cookies, minimal.queryStringParameters, minimal.pathParameters, minimal.stageVariables, minimal.body) = (nil, nil, nil, nil, nil)
        minimal.requestContext.authorizer = nil
        minimal.requestContext.domainName = nil
        let line2 = try FrameCodec.invokeLine(InvocationMeta(requestId: "r", deadlineMs: 1, functionName: "f", invokedFunctionArn: "a", traceId: nil),
                                              event: minimal, encoder: FrameCodec.encoder())
        let decoded2 = try JSONDecoder().decode(InvokeFrame<APIGatewayV2Request>.self, from: Data(line2))
        #expect(decoded2.event == minimal)
        #expect(decoded2.traceId == nil)
    }
}

@Suite struct RequestIdTests {
    @Test func requestIdsAreVersion4UUIDs() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let id = Invoker.newRequestId()
            #expect(UUID(uuidString: id) != nil, "\(id)")
            #expect(id == id.lowercased())
            let chars = Array(id)
            #expect(chars[14] == "4")
            #expect("89ab".contains(chars[19]))
            seen.insert(id)
        }
        #expect(seen.count == 1000)
    }
}
