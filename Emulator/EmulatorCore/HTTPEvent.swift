import Foundation
import FunctionProtocol
import JSON
import LambdaEvents

/// Turns an HTTP request into the API Gateway HTTP API payload 2.0 event, and a function's
/// answer back into an HTTP response, as API Gateway does.
package enum HTTPEventMapping {
    package struct IncomingRequest: Sendable {
        package var method: String
        package var rawPath: String
        package var rawQuery: String
        /// Names as sent; mapped to lower case.
        package var headers: [(String, String)]
        package var body: [UInt8]
        package var sourceIp: String

        package init(method: String, rawPath: String, rawQuery: String, headers: [(String, String)], body: [UInt8], sourceIp: String) {
            self.method = method
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.headers = headers
            self.body = body
            self.sourceIp = sourceIp
        }
    }

    package static func event(
        for request: IncomingRequest, routeKey: String, pathParameters: [String: String], requestId: String,
        nowMs: Int64 = Timestamps.nowMs(), authorizer: APIGatewayV2Request.Authorizer? = nil
    ) -> APIGatewayV2Request {
        var headers: [String: String] = [:]
        var cookies: [String] = []
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if lower == "cookie" {
                cookies += value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                continue
            }
            headers[lower] = headers[lower].map { "\($0),\(value)" } ?? value
        }
        let (body, isBase64) = encodeBody(request.body, contentType: headers["content-type"])
        let host = headers["host"] ?? "localhost"
        return APIGatewayV2Request(
            routeKey: routeKey, rawPath: request.rawPath, rawQueryString: request.rawQuery,
            cookies: cookies.isEmpty ? nil : cookies, headers: headers,
            queryStringParameters: queryParameters(request.rawQuery),
            pathParameters: pathParameters.isEmpty ? nil : pathParameters,
            body: body, isBase64Encoded: isBase64,
            requestContext: .init(
                domainName: host, domainPrefix: String(host.split(separator: ".").first ?? "localhost"),
                http: .init(method: request.method, path: request.rawPath, sourceIp: request.sourceIp,
                            userAgent: headers["user-agent"] ?? ""),
                requestId: requestId, routeKey: routeKey, time: Timestamps.clf(nowMs), timeEpoch: nowMs,
                authorizer: authorizer))
    }

    /// Text bodies travel as strings; anything else (or text that is not UTF-8) as base64.
    static func encodeBody(_ bytes: [UInt8], contentType: String?) -> (String?, Bool) {
        guard !bytes.isEmpty else { return (nil, false) }
        if isTextual(contentType), let text = String(validating: bytes, as: UTF8.self) {
            return (text, false)
        }
        return (Data(bytes).base64EncodedString(), true)
    }

    static func isTextual(_ contentType: String?) -> Bool {
        guard let ct = contentType?.lowercased() else { return true }
        let mime = ct.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ct
        return mime.hasPrefix("text/") || mime.hasSuffix("json") || mime.hasSuffix("+json") || mime.hasSuffix("xml")
            || mime == "application/x-www-form-urlencoded" || mime == "application/javascript" || mime == "application/graphql"
    }

    /// API Gateway joins repeated parameters with commas and percent-decodes names and values.
    static func queryParameters(_ raw: String) -> [String: String]? {
        guard !raw.isEmpty else { return nil }
        var out: [String: String] = [:]
        for pair in raw.split(separator: "&") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(kv[0])
            let value = kv.count > 1 ? decode(kv[1]) : ""
            out[key] = out[key].map { "\($0),\(value)" } ?? value
        }
        return out.isEmpty ? nil : out
    }

    static func decode(_ s: Substring) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }

    package struct OutgoingResponse: Sendable, Equatable {
        package var status: Int
        package var headers: [(String, String)]
        package var body: [UInt8]

        package static func == (a: Self, b: Self) -> Bool {
            a.status == b.status && a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
        }
    }

    package enum MappingError: Error, Equatable {
        case invalid(String)
        case tooLarge(Int)
    }

    /// A payload with `statusCode` is a response object; any other JSON is the body of a 200
    /// (payload format 2.0's inference).
    package static func response(from payload: JSONValue) throws(MappingError) -> OutgoingResponse {
        guard case .object(let o) = payload, let statusValue = o["statusCode"] else {
            let data = (try? payload.encoded()) ?? Data("null".utf8)
            guard data.count <= FrameLimits.maxPayloadBytes else { throw .tooLarge(data.count) }
            return OutgoingResponse(status: 200, headers: [("content-type", "application/json")], body: Array(data))
        }
        guard let status = statusValue.intValue ?? Int(statusValue.stringValue ?? ""), (100...599).contains(status) else {
            throw .invalid("statusCode \(statusValue.textValue) is not an HTTP status")
        }
        var headers: [(String, String)] = []
        for (k, v) in (o["headers"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.append((k, v.textValue))
        }
        for c in o["cookies"]?.arrayValue ?? [] { headers.append(("set-cookie", c.textValue)) }
        var body: [UInt8] = []
        if let b = o["body"], b != .null {
            let text = b.textValue
            if o["isBase64Encoded"]?.boolValue == true {
                guard let data = Base64.decode(text) else {
                    throw .invalid("isBase64Encoded is true but the body is not base64")
                }
                body = Array(data)
            } else {
                body = Array(text.utf8)
            }
        }
        guard body.count <= FrameLimits.maxPayloadBytes else { throw .tooLarge(body.count) }
        return OutgoingResponse(status: status, headers: headers, body: body)
    }
}
