import Foundation
import TestSupport
import Testing

/// Function URLs (`FunctionUrlConfig`), and response streaming through them: the answer reaches
/// the client as the function writes it, under the stdio protocol and under the Lambda Runtime
/// API alike. The fixture's `/stream` route writes server-sent events; with `gate` it waits
/// after the first one until a file exists, so each test looks at a half-sent stream by state,
/// not by timing.
@Suite struct FunctionURLStreamingTests {
    static let template = """
    AWSTemplateFormatVersion: "2010-09-09"
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        Runtime: provided.al2023
        Timeout: 20
    Resources:
      Streamer:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          ReservedConcurrentExecutions: 1
          Environment:
            Variables:
              FUNCTION_URL_INVOKE_MODE: RESPONSE_STREAM
          FunctionUrlConfig: {AuthType: NONE, InvokeMode: RESPONSE_STREAM}
          Events:
            Any: {Type: HttpApi, Properties: {Method: ANY, Path: "/fx/{proxy+}"}}
      RuntimeAPIStreamer:
        Type: AWS::Serverless::Function
        Metadata:
          EmulatorInterface: runtime-api
        Properties:
          Handler: fixture-fn
          ReservedConcurrentExecutions: 1
          Environment:
            Variables:
              FUNCTION_URL_INVOKE_MODE: RESPONSE_STREAM
          FunctionUrlConfig: {AuthType: NONE, InvokeMode: RESPONSE_STREAM}
      Buffered:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          FunctionUrlConfig: {AuthType: NONE}
      Signed:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          FunctionUrlConfig: {AuthType: AWS_IAM}
    """

    /// The emulator and each function URL's port, from `/__emulator/function-urls`.
    static func start() async throws -> (EmulatorHarness, [String: Int]) {
        let emu = try await EmulatorHarness.start(template: template)
        let reply = try await emu.get("/__emulator/function-urls")
        let urls = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: String])
        return (emu, urls.compactMapValues { $0.split(separator: ":").last.flatMap { Int($0) } })
    }

    static func busy(_ emu: EmulatorHarness, _ function: String) async throws -> Int {
        let health = try JSONSerialization.jsonObject(with: try await emu.get("/__emulator/health").body) as? [String: Any]
        let stats = (health?["functions"] as? [[String: Any]])?.first { $0["function"] as? String == function }
        return ((stats?["live"] as? Int) ?? 0) - ((stats?["idle"] as? Int) ?? 0)
    }

    @Test(arguments: ["Streamer", "RuntimeAPIStreamer"])
    func theFirstEventArrivesWhileTheFunctionIsStillWriting(function: String) async throws {
        let (emu, ports) = try await Self.start()
        defer { Task { await emu.stop() } }
        let gate = emu.directory + "/gate-\(function)"
        let port = try #require(ports[function])
        let response = try await StreamingHTTP.request(port: port, path: "/stream?chunks=3&gate=\(gate)")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/event-stream")
        #expect(response.headers["transfer-encoding"] == "chunked")
        var pieces = response.body.makeAsyncIterator()
        let first = try #require(try await pieces.next())
        #expect(String(decoding: first, as: UTF8.self) == "data: 0\n\n")
        // The function is still in its invocation (waiting on the gate) while the client reads.
        #expect(try await Self.busy(emu, function) == 1)
        FileManager.default.createFile(atPath: gate, contents: Data())
        var rest = ""
        while let piece = try await pieces.next() { rest += String(decoding: piece, as: UTF8.self) }
        #expect(rest == "data: 1\n\ndata: 2\n\n")
        try await emu.waitUntilIdle(function)
    }

    @Test func aClientThatDisconnectsEndsTheInvocation() async throws {
        let (emu, ports) = try await Self.start()
        defer { Task { await emu.stop() } }
        // A thousand events 50 ms apart: 50 seconds, far past the function's 20-second timeout,
        // unless the disconnect ends it.
        let response = try await StreamingHTTP.request(port: try #require(ports["Streamer"]), path: "/stream?chunks=1000&delayMs=50")
        var pieces = response.body.makeAsyncIterator()
        _ = try await pieces.next()
        response.close()
        #expect(await emu.child.waitForStderr(containing: "fixture: the client disconnected; stopping the producer", timeout: 30) != nil)
        #expect(await emu.child.waitForStderr(containing: "fixture: producer stopped after", timeout: 30) != nil)
        try await emu.waitUntilIdle("Streamer")
        // The process is warm and serves the next invocation.
        let next = try await StreamingHTTP.request(port: try #require(ports["Streamer"]), path: "/stream?chunks=2")
        #expect(await next.text().0 == "data: 0\n\ndata: 1\n\n")
    }

    @Test(arguments: ["Streamer", "RuntimeAPIStreamer"])
    func anErrorAfterTheStartCutsTheBodyShort(function: String) async throws {
        let (emu, ports) = try await Self.start()
        defer { Task { await emu.stop() } }
        let response = try await StreamingHTTP.request(port: try #require(ports[function]), path: "/stream?chunks=5&failAfter=2")
        #expect(response.status == 200)
        let (text, error) = await response.text()
        #expect(text == "data: 0\n\ndata: 1\n\n")
        #expect(error is StreamingHTTP.Truncated, "a stream that failed must not look complete")
        #expect(await emu.child.waitForStderr(containing: "failed after 2 events", timeout: 30) != nil)
        // The function survives its own error: the next stream is whole.
        try await emu.waitUntilIdle(function)
        let next = try await StreamingHTTP.request(port: try #require(ports[function]), path: "/stream?chunks=1")
        #expect(await next.text() .0 == "data: 0\n\n")
    }

    @Test func theSameFunctionBehindTheHTTPAPIAnswersWhole() async throws {
        let (emu, _) = try await Self.start()
        defer { Task { await emu.stop() } }
        let reply = try await emu.get("/fx/stream?chunks=3")
        #expect(reply.status == 200)
        #expect(reply.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n")
        #expect(reply.headers["content-length"] == "27")
    }

    @Test func aBufferedURLAnswersWholeWithAFunctionURLEvent() async throws {
        let (emu, ports) = try await Self.start()
        defer { Task { await emu.stop() } }
        let response = try await StreamingHTTP.request(port: try #require(ports["Buffered"]), path: "/anything?x=1")
        #expect(response.status == 200)
        #expect(response.headers["content-length"] != nil && response.headers["transfer-encoding"] == nil)
        let echo = try #require(try JSONSerialization.jsonObject(with: Data(await response.text().0.utf8)) as? [String: Any])
        #expect(echo["routeKey"] as? String == "$default")
        #expect(echo["rawPath"] as? String == "/anything")
        #expect(echo["rawQueryString"] as? String == "x=1")
        // Without FUNCTION_URL_INVOKE_MODE the fixture does not stream, even on its stream route.
        let plain = try await StreamingHTTP.request(port: try #require(ports["Buffered"]), path: "/stream?chunks=2")
        #expect(plain.headers["content-length"] == "18")
    }

    @Test func anIAMURLIsRefusedRatherThanLeftOpen() async throws {
        let (emu, ports) = try await Self.start()
        defer { Task { await emu.stop() } }
        let response = try await StreamingHTTP.request(port: try #require(ports["Signed"]), path: "/")
        #expect(response.status == 403)
        #expect(await response.text().0.contains("AWS_IAM"))
    }
}
