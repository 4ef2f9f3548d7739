import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import NIOPosix
import Testing
@testable import EmulatorCore

/// The Runtime API's wire format as a runtime client sees it, without a process behind it.
@Suite struct RuntimeAPIHostTests {
    static let function = FunctionSpec(
        logicalId: "Fn", functionName: "stack-fn", handler: "fn", runtime: "provided.al2023", codeUri: nil,
        timeoutSeconds: 3, memoryMB: 128, reservedConcurrency: nil, environment: [:], httpEvents: [], schedules: [])

    func call(_ host: RuntimeAPIHost, _ method: String, _ path: String, body: String? = nil) async throws -> (Int, [String: String], String) {
        var r = URLRequest(url: URL(string: "http://\(host.address)/2018-06-01/runtime\(path)")!)
        r.httpMethod = method
        r.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: r)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)".lowercased()] = "\(v)" }
        return (http.statusCode, headers, String(decoding: data, as: UTF8.self))
    }

    @Test func nextCarriesTheEventAndLambdasHeaders() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let host = try await RuntimeAPIHost.bind(on: loop, function: Self.function, log: EmulatorLog(verbosity: .quiet))
        defer { host.close() }

        // The runtime asks before any invocation exists: the long poll waits for one.
        async let next = call(host, "GET", "/invocation/next")
        try await Task.sleep(for: .milliseconds(100))
        let frame = #"{"type":"invoke","requestId":"req-1","deadlineMs":1700000003000,"functionName":"stack-fn","invokedFunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:stack-fn","traceId":"Root=1-abc","event":{"k":"vé"}}"#
        host.deliver(ByteBuffer(string: frame))
        let (status, headers, body) = try await next
        #expect(status == 200)
        #expect(headers["lambda-runtime-aws-request-id"] == "req-1")
        #expect(headers["lambda-runtime-deadline-ms"] == "1700000003000")
        #expect(headers["lambda-runtime-invoked-function-arn"] == "arn:aws:lambda:us-east-1:123456789012:function:stack-fn")
        #expect(headers["lambda-runtime-trace-id"] == "Root=1-abc")
        #expect(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String] == ["k": "vé"])

        // Only the invocation in flight may be answered; another id is Lambda's 400.
        let (wrong, _, wrongBody) = try await call(host, "POST", "/invocation/req-2/response", body: "{}")
        #expect(wrong == 400)
        #expect(wrongBody.contains("InvalidRequestID"))
        let (ok, _, okBody) = try await call(host, "POST", "/invocation/req-1/response", body: #"{"done":true}"#)
        #expect(ok == 202)
        #expect(okBody == #"{"status":"OK"}"#)
        // Answered once: a second answer is refused.
        #expect(try await call(host, "POST", "/invocation/req-1/response", body: "{}").0 == 400)

        #expect(try await call(host, "GET", "/invocation/req-1/response").0 == 405)
        #expect(try await call(host, "POST", "/invocation/next").0 == 405)
        #expect(try await call(host, "GET", "/no/such/path").0 == 404)
    }

    @Test func anInvocationDeliveredBeforeNextIsHandedOutByIt() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let host = try await RuntimeAPIHost.bind(on: loop, function: Self.function, log: EmulatorLog(verbosity: .quiet))
        defer { host.close() }
        _ = try await withThrowingTaskGroup(of: Void.self) { group in
            // First `next` is init's end; answer it so the runtime is idle, as after a response.
            group.addTask { _ = try await call(host, "GET", "/invocation/next") }
            try await Task.sleep(for: .milliseconds(100))
            host.deliver(ByteBuffer(string: #"{"type":"invoke","requestId":"a","deadlineMs":1,"functionName":"f","invokedFunctionArn":"x","event":1}"#))
            try await group.waitForAll()
        }
        #expect(try await call(host, "POST", "/invocation/a/error", body: #"{"errorType":"E","errorMessage":"m"}"#).0 == 202)
        host.deliver(ByteBuffer(string: #"{"type":"invoke","requestId":"b","deadlineMs":1,"functionName":"f","invokedFunctionArn":"x","event":[2]}"#))
        let (status, headers, body) = try await call(host, "GET", "/invocation/next")
        #expect(status == 200)
        #expect(headers["lambda-runtime-aws-request-id"] == "b")
        #expect(body == "[2]")
    }
}
