#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

extension APIGatewayV2Request {
    /// Builds the request from a parsed JSON tree, with the same leniency as `init(from:)`.
    /// Returns nil where `init(from:)` would throw (callers then decode with Codable for the error).
    public init?(json v: JSONValue) {
        guard case .object(let o) = v, let rawPath = o["rawPath"]?.stringValue,
              case .object(let rc)? = o["requestContext"], case .object(let http)? = rc["http"],
              let method = http["method"]?.stringValue,
              let accountId = rc["accountId"]?.stringValue, let apiId = rc["apiId"]?.stringValue,
              let requestId = rc["requestId"]?.stringValue, let routeKey = rc["routeKey"]?.stringValue,
              let stage = rc["stage"]?.stringValue, let time = rc["time"]?.stringValue,
              let epoch = rc["timeEpoch"]?.doubleValue
        else { return nil }
        func map(_ key: String) -> [String: String]?? {
            switch o[key] {
            case nil, .null?: return .some(nil)
            case .object(let m)?:
                var out: [String: String] = [:]
                for (k, v) in m {
                    guard let s = v.stringValue else { return nil }
                    out[k] = s
                }
                return .some(out)
            default: return nil
            }
        }
        func optionalString(_ value: JSONValue?) -> String?? {
            switch value {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        guard let headers = map("headers"), let query = map("queryStringParameters"), let path = map("pathParameters"),
              let stageVariables = map("stageVariables"), let body = optionalString(o["body"]),
              let version = optionalString(o["version"]), let key = optionalString(o["routeKey"]),
              let rawQuery = optionalString(o["rawQueryString"]), let domainName = optionalString(rc["domainName"]),
              let domainPrefix = optionalString(rc["domainPrefix"]) else { return nil }
        var cookies: [String]?
        switch o["cookies"] {
        case nil, .null?: cookies = nil
        case .array(let a)?:
            let strings = a.compactMap(\.stringValue)
            guard strings.count == a.count else { return nil }
            cookies = strings
        default: return nil
        }
        var authorizer: Authorizer?
        switch rc["authorizer"] {
        case nil, .null?: authorizer = nil
        case .object(let a)?:
            var jwt: JWT?
            if case .object(let j)? = a["jwt"] {
                let claims = (j["claims"]?.objectValue ?? [:]).mapValues(\.textValue)
                let scopes = j["scopes"]?.arrayValue?.compactMap(\.stringValue)
                jwt = JWT(claims: claims, scopes: scopes)
            }
            authorizer = Authorizer(jwt: jwt, lambda: a["lambda"])
        default: return nil
        }
        func text(_ value: JSONValue?, _ fallback: String) -> String? {
            switch value {
            case nil, .null?: return fallback
            case .string(let s)?: return s
            default: return nil
            }
        }
        guard let proto = text(http["protocol"], "HTTP/1.1"), let sourceIp = text(http["sourceIp"], ""),
              let userAgent = text(http["userAgent"], ""), let httpPath = text(http["path"], "/") else { return nil }
        var isBase64 = false
        switch o["isBase64Encoded"] {
        case nil, .null?: isBase64 = false
        case .bool(let flag)?: isBase64 = flag
        default: return nil
        }
        self.init(
            routeKey: key ?? "$default", rawPath: rawPath, rawQueryString: rawQuery ?? "", cookies: cookies,
            headers: headers ?? [:], queryStringParameters: query, pathParameters: path, stageVariables: stageVariables,
            body: body, isBase64Encoded: isBase64,
            requestContext: RequestContext(
                accountId: accountId, apiId: apiId, domainName: domainName, domainPrefix: domainPrefix,
                http: HTTP(method: method, path: httpPath, protocol: proto, sourceIp: sourceIp, userAgent: userAgent),
                requestId: requestId, routeKey: routeKey, stage: stage, time: time, timeEpoch: Int64(epoch),
                authorizer: authorizer))
        self.version = version ?? "2.0"
    }
}

extension APIGatewayV2Response {
    /// Builds the response from a parsed JSON tree; nil where the synthesized `init(from:)` would throw.
    public init?(json v: JSONValue) {
        guard case .object(let o) = v, let statusCode = o["statusCode"]?.intValue else { return nil }
        var headers: [String: String]?
        switch o["headers"] {
        case nil, .null?: headers = nil
        case .object(let m)?:
            var out: [String: String] = [:]
            for (k, value) in m {
                guard let s = value.stringValue else { return nil }
                out[k] = s
            }
            headers = out
        default: return nil
        }
        var cookies: [String]?
        switch o["cookies"] {
        case nil, .null?: cookies = nil
        case .array(let a)?:
            let strings = a.compactMap(\.stringValue)
            guard strings.count == a.count else { return nil }
            cookies = strings
        default: return nil
        }
        var body: String?
        switch o["body"] {
        case nil, .null?: body = nil
        case .string(let s)?: body = s
        default: return nil
        }
        var isBase64Encoded: Bool?
        switch o["isBase64Encoded"] {
        case nil, .null?: isBase64Encoded = nil
        case .bool(let b)?: isBase64Encoded = b
        default: return nil
        }
        self.init(statusCode: statusCode, headers: headers, cookies: cookies, body: body, isBase64Encoded: isBase64Encoded)
    }
}

extension APIGatewayV2Request: JSONRepresentable {}
extension APIGatewayV2Response: JSONRepresentable {}
