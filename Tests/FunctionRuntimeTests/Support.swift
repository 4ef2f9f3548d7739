import Foundation
import FunctionProtocol
import JSON
import LambdaEvents
import TestSupport
import Testing

/// A handler process (`fixture-fn` by default) over real pipes, speaking the NDJSON protocol.
final class HandlerProcess: Sendable {
    let child: ChildProcess
    let ready: AnyFrame

    struct StartError: Error, CustomStringConvertible { let description: String }

    /// The environment of a handler: nothing inherited, so a stray `AWS_LAMBDA_RUNTIME_API` in
    /// the test's own environment cannot switch transports.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env.merge(extra) { _, new in new }
        return env
    }

    /// Starts the process and reads its first frame, which must be `ready`.
    init(_ product: String = "fixture-fn", environment: [String: String] = [:]) async throws {
        child = try ChildProcess(TestPaths.executable(product), environment: Self.environment(environment))
        guard let line = await child.readLine(timeout: 60) else {
            throw StartError(description: "\(product) wrote no frame; stderr: \(child.stderr.joined(separator: "\n"))")
        }
        let frame = try decodeFrame(line)
        guard frame.type == .ready else { throw StartError(description: "first frame is not ready: \(line)") }
        ready = frame
    }

    var pid: Int32 { child.process.processIdentifier }

    func send(_ line: String) { child.write(line.hasSuffix("\n") ? line : line + "\n") }

    /// Writes a large chunk from a thread of its own: the write blocks until the process has read
    /// it, and must not hold one of the few threads of the cooperative pool meanwhile.
    func sendLarge(_ data: Data) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [child] in
                child.write(data)
                done.resume()
            }
        }
    }

    func invoke(_ requestId: String, _ event: JSONValue, functionName: String = "fixture") {
        send(invokeLine(requestId, event, functionName: functionName))
    }

    /// The next frame on stdout; fails the test when none comes or it is not JSON.
    func frame(timeout: Double = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws -> AnyFrame {
        let line = try #require(await child.readLine(timeout: timeout), "no frame on stdout", sourceLocation: sourceLocation)
        return try decodeFrame(line)
    }

    /// Sends an invocation and returns the frame that answers it.
    func call(_ requestId: String, _ event: JSONValue) async throws -> AnyFrame {
        invoke(requestId, event)
        return try await frame()
    }

    /// Sends an HTTP invocation and returns the HTTP response carried by the response frame.
    func http(_ requestId: String, _ request: APIGatewayV2Request, sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIGatewayV2Response {
        let f = try await call(requestId, try eventValue(request))
        #expect(f.type == .response, "\(f.error.map { "\($0.errorType): \($0.errorMessage)" } ?? "")", sourceLocation: sourceLocation)
        #expect(f.requestId == requestId, sourceLocation: sourceLocation)
        let payload = try #require(f.payload, sourceLocation: sourceLocation)
        return try JSONDecoder().decode(APIGatewayV2Response.self, from: payload.encoded())
    }

    /// Blocks until a thread of the process sits in `read(0, ...)`: it is idle, waiting for a frame.
    /// Returns false where `/proc/<pid>/task/*/syscall` cannot be read.
    func waitUntilReadingStdin(_ reading: Bool, timeout: Double = 10) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {  // looks once more after the deadline: a starved task's late look still counts
            guard let state = Self.isReadingStdin(pid) else { return false }
            if state == reading { return true }
            if Date() >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    private static func isReadingStdin(_ pid: Int32) -> Bool? {
        #if os(Linux) && arch(x86_64)
        let readSyscall = "0"
        #elseif os(Linux) && arch(arm64)
        let readSyscall = "63"
        #else
        return nil
        #endif
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var readable = false
        for tid in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/syscall", encoding: .utf8) else { continue }
            readable = true
            let fields = text.split(separator: " ")
            if fields.count > 1, fields[0] == readSyscall, fields[1] == "0x0" { return true }
        }
        return readable ? false : nil
        #endif
    }

    func closeStdin() { child.closeStdin() }
    func signal(_ sig: Int32) { child.signal(sig) }
    func waitForExit(timeout: Double = 20) async -> Int32? { await child.waitForExit(timeout: timeout) }
    var stderr: [String] { child.stderr }
}

func decodeFrame(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> AnyFrame {
    do {
        return try JSONDecoder().decode(AnyFrame.self, from: Data(line.utf8))
    } catch {
        Issue.record("not a frame: \(line.prefix(300))", sourceLocation: sourceLocation)
        throw error
    }
}

func invokeLine(_ requestId: String, _ event: JSONValue, functionName: String = "fixture", deadlineMs: Int64? = nil) -> String {
    let frame: JSONValue = [
        "type": "invoke", "requestId": .string(requestId),
        "deadlineMs": .number(Double(deadlineMs ?? Timestamps.nowMs() + 60_000)),
        "functionName": .string(functionName),
        "invokedFunctionArn": .string("arn:aws:lambda:us-east-1:123456789012:function:\(functionName)"),
        "traceId": "Root=1-5759e988-bd862e3fe1be46a994272793",
        "event": event,
    ]
    return String(decoding: try! frame.encoded(), as: UTF8.self) + "\n"
}

func eventValue<T: Encodable>(_ value: T) throws -> JSONValue {
    try JSONValue.decode(JSONEncoder().encode(value))
}

/// An HTTP API request as the emulator would send it.
func httpRequest(
    _ method: String = "GET", _ path: String, routeKey: String = "$default", query: [String: String]? = nil,
    headers: [String: String] = [:], cookies: [String]? = nil, body: String? = nil, isBase64Encoded: Bool = false,
    pathParameters: [String: String]? = nil, claims: [String: String]? = nil
) -> APIGatewayV2Request {
    let rawQuery = (query ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    return APIGatewayV2Request(
        routeKey: routeKey, rawPath: path, rawQueryString: rawQuery, cookies: cookies, headers: headers,
        queryStringParameters: query, pathParameters: pathParameters, body: body, isBase64Encoded: isBase64Encoded,
        requestContext: .init(
            http: .init(method: method, path: path, sourceIp: "127.0.0.1", userAgent: "tests"),
            requestId: "gw-\(UUID().uuidString.prefix(8))", routeKey: routeKey,
            time: Timestamps.clf(Timestamps.nowMs()), timeEpoch: Timestamps.nowMs(),
            authorizer: claims.map { .init(jwt: .init(claims: $0, scopes: ["read"])) }))
}

/// A JSON body of an HTTP response, as a value.
func jsonBody(_ response: APIGatewayV2Response, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    let data = try #require(response.bodyData(), "response has no body", sourceLocation: sourceLocation)
    return try JSONValue.decode(data)
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Double = 20, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
