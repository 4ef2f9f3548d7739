import Foundation
import LambdaEvents

/// API Gateway v2 requests as the emulator (and AWS) hands them to a handler, for tests that
/// call a handler's library directly: the JWT claims, the body as text or base64.
package enum TestRequest {
    package static func make(_ method: String, _ path: String, org: String? = "acme", headers: [String: String] = [:],
                     query: [String: String]? = nil, pathParameters: [String: String]? = nil, body: [UInt8]? = nil) -> APIGatewayV2Request {
        let routeKey = "\(method) \(path)"
        // Text travels as a string, anything else base64-encoded, as API Gateway sends it.
        var text: String?
        var base64 = false
        if let body {
            if let s = String(validating: body, as: UTF8.self), !s.contains("\r") {
                text = s
            } else {
                text = Data(body).base64EncodedString()
                base64 = true
            }
        }
        let claims = org.map { ["org_id": $0, "sub": "tester"] } ?? ["sub": "tester"]
        return APIGatewayV2Request(
            routeKey: routeKey, rawPath: path, headers: headers, queryStringParameters: query, pathParameters: pathParameters,
            body: text, isBase64Encoded: base64,
            requestContext: .init(http: .init(method: method, path: path), requestId: "req-1", routeKey: routeKey,
                                  time: "21/Nov/2026:19:59:04 +0000", timeEpoch: 0,
                                  authorizer: .init(jwt: .init(claims: claims))))
    }
}
