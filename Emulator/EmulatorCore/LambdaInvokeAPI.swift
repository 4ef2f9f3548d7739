import Foundation
import FunctionProtocol
import JSON
import NIOCore

/// The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so the AWS CLI and
/// the SDKs work against the emulator unmodified (`--endpoint-url http://127.0.0.1:3001`).
/// Request signatures are not checked: any credentials do.
package struct LambdaInvokeAPI: Sendable {
    let invoker: Invoker

    package init(invoker: Invoker) { self.invoker = invoker }

    package typealias Response = HTTPEventMapping.OutgoingResponse

    package func respond(to request: HTTPEventMapping.IncomingRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Response> {
        let parts = request.rawPath.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard parts.count == 4, parts[0] == "2015-03-31", parts[1] == "functions", parts[3] == "invocations" else {
            return eventLoop.makeSucceededFuture(Self.awsError(404, "UnknownOperationException", "Unknown operation \(request.method) \(request.rawPath)."))
        }
        guard request.method == "POST" else {
            return eventLoop.makeSucceededFuture(Self.awsError(405, "MethodNotAllowedException", "Invoke takes POST."))
        }
        // A name, a partial ARN or a full ARN, with an optional qualifier.
        var name = parts[2]
        if name.hasPrefix("arn:") { name = name.split(separator: ":").dropFirst(6).first.map(String.init) ?? name }
        if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }
        guard let function = invoker.template.function(named: name) else {
            return eventLoop.makeSucceededFuture(Self.awsError(404, "ResourceNotFoundException", "Function not found: \(parts[2])"))
        }
        let header = { (n: String) in request.headers.first { $0.0.lowercased() == n }?.1 }
        let payload: JSONValue
        do {
            payload = request.body.isEmpty ? .object([:]) : try JSONValue.parse(request.body)
        } catch {
            return eventLoop.makeSucceededFuture(Self.awsError(400, "InvalidRequestContentException", "Could not parse request body into json: \(error)"))
        }
        switch header("x-amz-invocation-type") ?? "RequestResponse" {
        case "DryRun":
            return eventLoop.makeSucceededFuture(Response(status: 204, headers: [], body: []))
        case "Event":
            invoker.invokeAsync(functionName: function.logicalId, event: payload, source: "Invoke API")
            return eventLoop.makeSucceededFuture(Response(status: 202, headers: [("x-amzn-requestid", Invoker.newRequestId())], body: []))
        case "RequestResponse":
            break
        case let other:
            return eventLoop.makeSucceededFuture(Self.awsError(400, "InvalidParameterValueException", "Unknown X-Amz-Invocation-Type \(other)."))
        }
        let tail = header("x-amz-log-type") == "Tail"
        let requestId = Invoker.newRequestId()
        let log = invoker.log
        if tail { log.beginCapture(requestId) }
        return invoker.invoke(function, event: payload, requestId: requestId, on: eventLoop).map { result in
            var headers: [(String, String)] = [("x-amzn-requestid", requestId), ("x-amz-executed-version", "$LATEST"),
                                               ("content-type", "application/json")]
            if tail {
                // Lambda returns the last 4 KB of the invocation's log, base64-encoded.
                let logs = Array(log.endCapture(requestId).utf8.suffix(4096))
                headers.append(("x-amz-log-result", Data(logs).base64EncodedString()))
            }
            let body: Data
            switch result.outcome {
            case .success(.response(let value)):
                body = (try? value.encoded()) ?? Data("null".utf8)
            case .success(.streamed(_, nil)):
                body = Data("null".utf8)  // not reached: this API collects streams into a response
            case .success(.streamed(_, let e?)), .success(.functionError(let e)):
                headers.append(("x-amz-function-error", "Unhandled"))
                body = (try? FrameCodec.encoder().encode(e)) ?? Data()
            case .failure(.throttled(let m)):
                return Self.awsError(429, "TooManyRequestsException", m)
            case .failure(.requestTooLarge(let m)):
                return Self.awsError(413, "RequestTooLargeException", m)
            case .failure(let f):
                // What Lambda reports for a sandbox that died, timed out or failed to start.
                let type: String
                switch f {
                case .timedOut: type = "Sandbox.Timedout"
                case .initFailed: type = "Runtime.InitError"
                case .responseTooLarge: type = "Function.ResponseSizeTooLarge"
                default: type = "Runtime.ExitError"
                }
                headers.append(("x-amz-function-error", "Unhandled"))
                body = (try? FrameCodec.encoder().encode(ErrorPayload(errorType: type, errorMessage: f.description))) ?? Data()
            }
            return Response(status: 200, headers: headers, body: Array(body))
        }
    }

    /// Lambda's error shape: `x-amzn-ErrorType` and `{"Type":"User","message":"..."}`.
    static func awsError(_ status: Int, _ type: String, _ message: String) -> Response {
        let body = (try? JSONValue.object(["Type": "User", "message": .string(message)]).encoded()) ?? Data()
        return Response(status: status, headers: [("x-amzn-errortype", type), ("content-type", "application/json")], body: Array(body))
    }
}
