import FunctionProtocol
import FunctionRuntime
import JSON
import LambdaEvents
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A function for the emulator's and runtime's tests: each route exercises one behaviour
/// (echo, crash, hang, stray stdout, huge answers, async invocations).
struct Fixture: FunctionHandler {
    init(context: InitializationContext) async throws {
        print("stray stdout during init")  // must land in the logs, not the protocol
        if let ms = context.env("FIXTURE_INIT_SLEEP_MS").flatMap(Int.init) { try await Task.sleep(for: .milliseconds(ms)) }
        if context.env("FIXTURE_INIT_FAIL") == "1" { throw ErrorPayload(errorType: "ConfigError", errorMessage: "FIXTURE_INIT_FAIL is set") }
    }

    func handle(_ event: IncomingEvent, context: InvocationContext) async throws -> Output {
        switch event {
        case .http(let request): return .http(try await http(request, context: context))
        case .schedule(let s): return .raw(["scheduled": .string(s.ruleName ?? "")])
        case .other(let value):
            if value["fail"] != nil { throw ErrorPayload(errorType: "FixtureError", errorMessage: value["fail"]!.textValue) }
            if let ms = value["sleepMs"]?.intValue { try await Task.sleep(for: .milliseconds(ms)) }
            return .raw(["echo": value, "requestId": .string(context.requestId), "function": .string(context.functionName),
                         "remainingMs": .number(Double(context.remainingTime.components.seconds * 1000))])
        }
    }

    func http(_ request: APIGatewayV2Request, context: InvocationContext) async throws -> APIGatewayV2Response {
        let last = request.rawPath.split(separator: "/").last.map(String.init) ?? ""
        switch last {
        case "crash":
            exit(3)
        case "abort":
            abort()
        case "sleep":
            let ms = Int(request.query("ms") ?? "") ?? 1000
            try await Task.sleep(for: .milliseconds(ms))
            return .json(["slept": ms])
        case "print":
            print("stray stdout during an invocation")
            fflush(nil)  // all streams: the stray line must actually reach fd 1
            return .json(["printed": true])
        case "big":
            let n = Int(request.query("bytes") ?? "") ?? 1024
            return .text(String(repeating: "x", count: n))
        case "pid":
            return .json(["pid": Int(getpid())])
        case "stream":
            // Server-sent events, one per `delayMs`: `chunks` of them, or an error after `failAfter`.
            // With `gate`, the rest waits after the first event until that file exists, so a test
            // can look at the world while the stream is half sent without guessing at timings.
            let n = Int(request.query("chunks") ?? "") ?? 3
            let delay = Int(request.query("delayMs") ?? "") ?? 0
            let failAfter = request.query("failAfter").flatMap(Int.init)
            let gate = request.query("gate")
            var context = context
            context.acceptsResponseStream = ResponseStreaming.accepts(request)
            guard context.acceptsResponseStream else {
                return .init(statusCode: 200, headers: ["content-type": "text/event-stream"],
                             body: (0..<n).map { "data: \($0)\n\n" }.joined())
            }
            let stream = try await context.startResponseStream(
                StreamPrelude(statusCode: 200, headers: ["content-type": "text/event-stream", "cache-control": "no-cache"]))
            let producer = Task {
                for i in 0..<n {
                    if let failAfter, i == failAfter { throw ErrorPayload(errorType: "FixtureStreamError", errorMessage: "failed after \(i) events") }
                    try await stream.write("data: \(i)\n\n")
                    if i == 0, let gate {
                        while !FileManager.default.fileExists(atPath: gate) { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                }
            }
            stream.onCancel {
                print("fixture: the client disconnected; stopping the producer")
                producer.cancel()
            }
            do {
                try await producer.value
            } catch let error where error is CancellationError || error as? ResponseStreamError == .clientDisconnected {
                // Cancelled while sleeping, or while writing: either way the client is gone.
                print("fixture: producer stopped after \(stream.bytesWritten) bytes")
                throw ResponseStreamError.clientDisconnected
            }
            return .streamed
        case "write":
            // Lambda's task root (the working directory) is read-only: does a write there succeed?
            let written = FileManager.default.createFile(atPath: "write-probe", contents: Data("x".utf8))
            if written { try? FileManager.default.removeItem(atPath: "write-probe") }
            struct Probe: Encodable { var written: Bool; var cwd: String }
            return .json(Probe(written: written, cwd: FileManager.default.currentDirectoryPath))
        case "env":
            return .json(["value": ProcessInfo.processInfo.environment[request.query("name") ?? ""] ?? ""])
        case "binary":
            let data = try request.bodyData()
            return .binary(data, contentType: "application/octet-stream")
        case "async":
            var event: JSONObject = ["from": "async"]
            // A slow event, so a burst of them really overlaps and meets the concurrency limit.
            if let ms = request.query("sleepMs").flatMap(Int.init) { event["sleepMs"] = .number(Double(ms)) }
            try await context.invokeAsync(request.query("function") ?? "fixture", event: JSONValue.object(event))
            return .json(["queued": true], status: 202)
        case "json-body":
            struct Body: Decodable { var name: String }
            let b: Body
            do { b = try request.decodeJSONBody(Body.self) } catch { return .error(error, requestId: context.requestId) }
            return .json(["hello": b.name])
        default:
            struct Echo: Encodable {
                var method: String
                var rawPath: String
                var routeKey: String
                var rawQueryString: String
                var pathParameters: [String: String]?
                var queryStringParameters: [String: String]?
                var headers: [String: String]
                var cookies: [String]?
                var body: String?
                var isBase64Encoded: Bool
                var requestId: String
                var claims: [String: String]
                var pid: Int
            }
            return .json(Echo(method: request.method, rawPath: request.rawPath, routeKey: request.routeKey,
                              rawQueryString: request.rawQueryString, pathParameters: request.pathParameters,
                              queryStringParameters: request.queryStringParameters, headers: request.headers,
                              cookies: request.cookies, body: request.body, isBase64Encoded: request.isBase64Encoded,
                              requestId: context.requestId, claims: request.claims, pid: Int(getpid())))
        }
    }

    /// JSONRepresentable, as a handler whose output is any JSON would be: it crosses the
    /// protocol by hand, members in the order written.
    enum Output: JSONRepresentable {
        case http(APIGatewayV2Response)
        case raw(JSONValue)

        init?(json: JSONValue) { self = .raw(json) }
        init(from decoder: any Decoder) throws { self = .raw(try JSONValue(from: decoder)) }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .http(let r): try r.encode(to: encoder)
            case .raw(let v): try v.encode(to: encoder)
            }
        }

        func writeJSON(to w: inout JSONWriter) {
            switch self {
            case .http(let r): r.writeJSON(to: &w)
            case .raw(let v): w.value(v)
            }
        }
    }
}

await Fixture.main()
