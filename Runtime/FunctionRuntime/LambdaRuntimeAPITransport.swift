#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import AWSSigV4
import Dispatch
import FunctionProtocol
import HTTPClient
import JSON

/// The AWS Lambda Runtime API (2018-06-01), chosen when `AWS_LAMBDA_RUNTIME_API` is set.
/// Calls block inside libcurl, so they run on one serial thread of their own.
final class LambdaRuntimeAPITransport: Transport, @unchecked Sendable {
    private let base: String
    private let functionName: String
    private let client: CurlHTTPClient
    private let queue = DispatchQueue(label: "function-runtime.runtime-api")
    private let encoder = FrameCodec.encoder()
    private let decoder = JSONDecoder()

    init(endpoint: String, functionName: String) throws {
        base = "http://\(endpoint)/2018-06-01/runtime"
        self.functionName = functionName
        do { client = try CurlHTTPClient() } catch { throw TransportError.runtimeAPI("\(error)") }
    }

    private func call(_ method: String, _ path: String, body: Data? = nil, headers: [String] = []) async throws -> CurlHTTPClient.Response {
        try await withCheckedThrowingContinuation { cont in
            queue.async { [client, base] in
                cont.resume(with: Result {
                    do { return try client.send(method: method, url: base + path, body: body, headers: headers) }
                    catch { throw TransportError.runtimeAPI("\(method) \(path): \(error)") }
                })
            }
        }
    }

    func ready(initMs: Double) async {}

    func initError(_ error: ErrorPayload) async {
        _ = try? await call("POST", "/init/error", body: try? encoder.encode(error),
                            headers: ["Content-Type: application/json", "Lambda-Runtime-Function-Error-Type: \(error.errorType)"])
    }

    func next<E: Decodable & Sendable>(_ type: E.Type) async throws -> Invocation<E>? {
        let r = try await call("GET", "/invocation/next")
        guard r.status == 200, let requestId = r.headers["lambda-runtime-aws-request-id"] else {
            throw TransportError.runtimeAPI("/invocation/next answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }
        Termination.beginInvocation()
        let traceId = r.headers["lambda-runtime-trace-id"]
        // The X-Ray SDKs read the trace header from the environment.
        if let traceId { setenv("_X_AMZN_TRACE_ID", traceId, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
        let meta = InvocationMeta(
            requestId: requestId,
            deadlineMs: r.headers["lambda-runtime-deadline-ms"].flatMap { Int64($0) } ?? Timestamps.nowMs() + 3000,
            functionName: functionName,
            invokedFunctionArn: r.headers["lambda-runtime-invoked-function-arn"] ?? "",
            traceId: traceId)
        do {
            return Invocation(meta: meta, event: .success(try FrameCodec.event(Array(r.body), as: E.self, decoder: decoder)))
        } catch {
            return Invocation(meta: meta, event: .failure(ErrorPayload(
                errorType: "InvalidEvent", errorMessage: "The event does not match \(E.self): \(error)")))
        }
    }

    func respond<P: Encodable & Sendable>(_ meta: InvocationMeta, payload: P) async throws {
        let body = Data(try FrameCodec.payload(payload, encoder: encoder))
        if body.count > FrameLimits.maxPayloadBytes {
            try await fail(meta, error: ErrorPayload(
                errorType: "Function.ResponseSizeTooLarge",
                errorMessage: "Response payload size (\(body.count) bytes) exceeded maximum allowed payload size (\(FrameLimits.maxPayloadBytes) bytes)."))
            return
        }
        let r = try await call("POST", "/invocation/\(meta.requestId)/response", body: body, headers: ["Content-Type: application/json"])
        guard (200..<300).contains(r.status) else {
            throw TransportError.runtimeAPI("/response answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }
    }

    func fail(_ meta: InvocationMeta, error: ErrorPayload) async throws {
        _ = try await call("POST", "/invocation/\(meta.requestId)/error", body: try encoder.encode(error),
                           headers: ["Content-Type: application/json", "Lambda-Runtime-Function-Error-Type: \(error.errorType)"])
    }

    /// Lambda's response streaming: one `POST /response` in streaming mode whose chunked body is
    /// the HTTP integration's JSON prelude, 8 NUL bytes, then the chunks as they are written; an
    /// error after the start goes in the `Lambda-Runtime-Function-Error-Type` / `-Body` trailers
    /// (the body base64 of Lambda's error object). The request runs on a thread and a libcurl
    /// handle of its own, so the serial queue stays free for `invokeAsync` meanwhile.
    func startStream(_ meta: InvocationMeta, prelude: StreamPrelude, cancel: ResponseStream.Box) async throws -> any StreamSink {
        let body = StreamingUploadBody()
        body.write(prelude.json.jsonBytes() + StreamPrelude.delimiter)
        let client: CurlHTTPClient
        do { client = try CurlHTTPClient() } catch { throw TransportError.runtimeAPI("\(error)") }
        let url = base + "/invocation/\(meta.requestId)/response"
        let headers = [
            "Lambda-Runtime-Function-Response-Mode: streaming",
            "Transfer-Encoding: chunked",
            "Content-Type: application/vnd.awslambda.http-integration-response",
            "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        ]
        let done = Task<CurlHTTPClient.Response, any Error> {
            try await withCheckedThrowingContinuation { cont in
                DispatchQueue(label: "function-runtime.runtime-api-stream").async {
                    cont.resume(with: Result { try client.send(method: "POST", url: url, headers: headers, stream: body) })
                }
            }
        }
        return RuntimeAPIStreamSink(body: body, done: done, encoder: encoder)
    }

    /// Lambda's Invoke API with `InvocationType: Event`, signed with the execution role's
    /// credentials (SigV4). The endpoint is `AWS_ENDPOINT_URL_LAMBDA` or `AWS_ENDPOINT_URL` when
    /// set (as the AWS SDKs read them: a VPC endpoint, or the emulator's `--lambda-port`), else
    /// `https://lambda.<AWS_REGION>.amazonaws.com`. The role needs `lambda:InvokeFunction` on the
    /// target; the template grants it.
    func invokeAsync<E: Codable & Sendable>(functionName: String, event: E) async throws {
        let env = ProcessInfo.processInfo.environment
        guard let credentials = AWSCredentials.fromEnvironment(env) else {
            throw TransportError.unsupported("invokeAsync needs AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), which Lambda sets")
        }
        let region = env["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? env["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
        var endpoint = env["AWS_ENDPOINT_URL_LAMBDA"].flatMap { $0.isEmpty ? nil : $0 }
            ?? env["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://lambda.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        let name = SigV4Signer.uriEncode(functionName)
        guard let url = URL(string: "\(endpoint)/2015-03-31/functions/\(name)/invocations") else {
            throw TransportError.unsupported("invokeAsync: not a URL: \(endpoint)")
        }
        let body = try encoder.encode(event)
        let base = ["Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"]
        let signed = SigV4Signer(credentials: credentials, region: region, service: "lambda").sign(method: "POST", url: url, headers: base, body: body)
        let headers = base.merging(signed) { $1 }.map { "\($0.key): \($0.value)" }
        let r: CurlHTTPClient.Response = try await withCheckedThrowingContinuation { cont in
            queue.async { [client] in
                cont.resume(with: Result { try client.send(method: "POST", url: url.absoluteString, body: body, headers: headers) })
            }
        }
        guard r.status == 202 else {
            throw TransportError.runtimeAPI("Invoke \(functionName) (Event) answered \(r.status): \(String(decoding: r.body.prefix(500), as: UTF8.self))")
        }
    }
}

private struct RuntimeAPIStreamSink: StreamSink, @unchecked Sendable {
    let body: StreamingUploadBody
    let done: Task<CurlHTTPClient.Response, any Error>
    let encoder: JSONEncoder

    func write(_ bytes: [UInt8]) throws { body.write(bytes) }

    func finish() async throws {
        body.finish()
        try await check()
    }

    func fail(_ error: ErrorPayload) async throws {
        let json = (try? encoder.encode(error)) ?? Data()
        body.finish(trailers: ["Lambda-Runtime-Function-Error-Type: \(error.errorType)",
                               "Lambda-Runtime-Function-Error-Body: \(json.base64EncodedString())"])
        try await check()
    }

    private func check() async throws {
        let r: CurlHTTPClient.Response
        do { r = try await done.value } catch { throw TransportError.runtimeAPI("streamed /response: \(error)") }
        guard (200..<300).contains(r.status) else {
            throw TransportError.runtimeAPI("streamed /response answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }
    }
}
