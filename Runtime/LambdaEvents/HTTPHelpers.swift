#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

extension APIGatewayV2Request {
    /// A header by name, ignoring case (API Gateway lower-cases names; hand-written events may not).
    public func header(_ name: String) -> String? {
        if let v = headers[name] { return v }
        let lower = name.lowercased()
        if let v = headers[lower] { return v }
        return headers.first { $0.key.lowercased() == lower }?.value
    }

    /// A query parameter. API Gateway joins repeated parameters with commas.
    public func query(_ name: String) -> String? { queryStringParameters?[name] }

    public func pathParameter(_ name: String) -> String? { pathParameters?[name] }

    public var method: String { requestContext.http.method.uppercased() }

    /// The claims the JWT authorizer verified, empty when the route has no authorizer.
    public var claims: [String: String] { requestContext.authorizer?.jwt?.claims ?? [:] }

    /// A claim the endpoint cannot work without (the tenant's `org_id`, say): 401 when absent.
    public func requireClaim(_ name: String) throws(APIError) -> String {
        guard let value = claims[name], !value.isEmpty else {
            throw APIError.unauthorized("The token carries no `\(name)` claim.")
        }
        return value
    }

    /// The body's bytes, base64-decoded when API Gateway encoded them.
    public func bodyData() throws(APIError) -> Data {
        guard let body else { return Data() }
        guard isBase64Encoded else { return Data(body.utf8) }
        guard let data = Base64.decode(body) else {
            throw APIError.badRequest("The body is marked base64 but is not valid base64.")
        }
        return data
    }

    /// The body as a JSON value, for endpoints that validate field by field (naming each field in
    /// their errors). Missing or malformed JSON is a 400.
    public func jsonBody() throws(APIError) -> JSONValue {
        let data = try bodyData()
        if data.isEmpty { throw APIError.badRequest("A JSON body is required.", code: "invalid_json") }
        guard let value = try? JSONValue.parse(Array(data)) else {
            throw APIError.badRequest("The body is not valid JSON.", code: "invalid_json")
        }
        if let field = Self.fieldHoldingNUL(value) {
            throw APIError.invalidField(field, "`\(field)` contains a NUL character (U+0000), which no field may hold.")
        }
        return value
    }

    /// The path of the first key or string in `value` that holds U+0000 (`JSONValue.pathHoldingNUL`),
    /// `body` for the body itself.
    public static func fieldHoldingNUL(_ value: JSONValue, path: String = "") -> String? {
        value.pathHoldingNUL(path: path).map { $0.isEmpty ? "body" : $0 }
    }

    /// A 400 naming the first path or query parameter that holds U+0000 (decoded: `%00`), so no
    /// id, cursor or filter from the URL reaches a store or a file name with one.
    public func refuseNULParameters() throws(APIError) {
        for (name, value) in (pathParameters ?? [:]).sorted(by: { $0.key < $1.key }) where value.utf8.contains(0) {
            throw APIError.invalidField(name, "The path parameter `\(name)` contains a NUL character (U+0000).", malformed: true)
        }
        for (name, value) in (queryStringParameters ?? [:]).sorted(by: { $0.key < $1.key })
        where value.utf8.contains(0) || name.utf8.contains(0) {
            throw APIError.invalidField(name, "The query parameter `\(name)` contains a NUL character (U+0000).", malformed: true)
        }
        if rawPath.utf8.contains(0) { throw APIError.badRequest("The request path contains a NUL character (U+0000).") }
    }

    /// The body decoded as JSON into `T`. A missing, malformed or mistyped body is a 400 that
    /// says what was wrong, never a crash.
    public func decodeJSONBody<T: Decodable>(_ type: T.Type = T.self) throws(APIError) -> T {
        let data = try bodyData()
        if data.isEmpty { throw APIError.badRequest("A JSON body is required.", code: "invalid_json") }
        if let contentType = header("content-type")?.lowercased(), !contentType.isEmpty,
           !contentType.contains("json") {
            throw APIError.unsupportedMediaType("Send the body as application/json, not \(contentType).")
        }
        // JSON can carry a NUL only as the escape `\u0000`: the body is parsed a second time, to
        // name the field, only when that escape is in it.
        if data.firstRange(of: Array(#"\u0000"#.utf8)) != nil, let value = try? JSONValue.parse(Array(data)),
           let field = Self.fieldHoldingNUL(value) {
            throw APIError.invalidField(field, "`\(field)` contains a NUL character (U+0000), which no field may hold.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest(Self.describe(error), code: "invalid_json")
        } catch {
            throw APIError.badRequest("The body is not valid JSON.", code: "invalid_json")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ p: [any CodingKey]) -> String {
            p.isEmpty ? "the body" : "`" + p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "`"
        }
        switch error {
        case .dataCorrupted(let c) where c.codingPath.isEmpty: return "The body is not valid JSON."
        case .dataCorrupted(let c): return "Invalid value at \(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "Missing field `\(key.stringValue)` in \(path(c.codingPath))."
        case .typeMismatch(let type, let c): return "Wrong type at \(path(c.codingPath)): expected \(type)."
        case .valueNotFound(let type, let c): return "Missing value at \(path(c.codingPath)): expected \(type)."
        @unknown default: return "The body does not match the expected shape."
        }
    }
}

extension APIGatewayV2Response {
    /// A JSON response. Encoding failures are a programming error in the caller's type and
    /// become a 500 with the error shape rather than a crash.
    public static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [String: String] = [:]) -> APIGatewayV2Response {
        guard let data = try? HTTPBody.encoder.encode(value) else {
            return .error(.internalError("The response could not be encoded."), requestId: nil)
        }
        var h = headers
        h["content-type"] = "application/json"
        return APIGatewayV2Response(statusCode: status, headers: h, body: String(decoding: data, as: UTF8.self))
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> APIGatewayV2Response {
        APIGatewayV2Response(statusCode: status, headers: ["content-type": contentType], body: text)
    }

    public static func binary(_ data: Data, status: Int = 200, contentType: String) -> APIGatewayV2Response {
        APIGatewayV2Response(statusCode: status, headers: ["content-type": contentType], body: data.base64EncodedString(), isBase64Encoded: true)
    }

    public static func error(_ error: APIError, requestId: String?) -> APIGatewayV2Response {
        var h = error.headers
        h["content-type"] = "application/json"
        return APIGatewayV2Response(statusCode: error.status, headers: h, body: String(decoding: error.body(requestId: requestId), as: UTF8.self))
    }

    /// The body's bytes, base64-decoded when marked so.
    public func bodyData() -> Data? {
        guard let body else { return nil }
        if isBase64Encoded == true { return Base64.decode(body) }
        return Data(body.utf8)
    }
}

/// Strict base64 for bodies API Gateway marks `isBase64Encoded`.
public enum Base64 {
    /// Tolerates line breaks and spaces (MIME-style wrapping) but nothing else:
    /// `.ignoreUnknownCharacters` would turn garbage into empty or partial data instead of an error.
    public static func decode(_ text: String) -> Data? {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        return text.utf8.contains(where: isSpace)
            ? Data(base64Encoded: String(decoding: text.utf8.filter { !isSpace($0) }, as: UTF8.self))
            : Data(base64Encoded: text)
    }
}
