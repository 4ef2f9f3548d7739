import FunctionProtocol
import JSON
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// A function's own URL (`FunctionUrlConfig`), as Lambda serves one: every method and path go
/// to the function (payload format 2.0, `routeKey` `$default`, the URL's domain in
/// `requestContext.domainName`), with no API Gateway in front (no authorizer, no 30-second
/// limit: the function's own timeout). In `RESPONSE_STREAM` mode the answer goes to the client
/// as the function writes it (chunked transfer), which no other local emulator does.
///
/// `AuthType: NONE` only: the function checks its callers itself. `AWS_IAM` needs SigV4-signed
/// requests, which this does not verify, so such a URL refuses every request rather than let
/// anyone in.
package struct FunctionURLGateway: Sendable {
    package let function: FunctionSpec
    let invoker: Invoker

    package init(function: FunctionSpec, invoker: Invoker) {
        self.function = function
        self.invoker = invoker
    }

    /// The URL's id (its subdomain on AWS: 32 lower-case letters and digits), stable per function.
    package var urlId: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var out = ""
        for round in 0..<2 {
            for b in Array("\(function.logicalId)#\(round)".utf8) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            out += String(h, radix: 16).leftPadded(to: 16)
        }
        return out
    }

    package var domainName: String { "\(urlId).lambda-url.us-east-1.on.aws" }

    func respond(to request: HTTPEventMapping.IncomingRequest, on eventLoop: any EventLoop,
                 writer: ChannelStreamWriter) -> EventLoopFuture<HTTPEventMapping.OutgoingResponse?> {
        let requestId = Invoker.newRequestId()
        guard let url = function.functionURL, url.authType == .none else {
            return eventLoop.makeSucceededFuture(Gateway.error(APIError(
                status: 403, code: "forbidden",
                message: "\(function.logicalId)'s function URL uses AuthType AWS_IAM, whose SigV4 signatures the emulator does not verify; use AuthType NONE locally."),
                requestId: requestId))
        }
        var event = HTTPEventMapping.event(for: request, routeKey: "$default", pathParameters: [:], requestId: requestId)
        event.pathParameters = nil
        event.requestContext.domainName = domainName
        event.requestContext.domainPrefix = urlId
        event.requestContext.apiId = urlId
        event.requestContext.stage = "$default"
        event.requestContext.accountId = "anonymous"
        let streams = url.invokeMode == .responseStream
        invoker.log.telemetry.label(requestId, "function_url")
        return invoker.invoke(function, event: event, requestId: requestId, on: eventLoop, stream: streams ? writer : nil).map { result in
            switch result.outcome {
            case .success(.streamed): return nil
            case .failure where writer.hasStarted: return nil  // the writer cut the stream short
            default: return Gateway.response(for: result, requestId: requestId)
            }
        }
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
