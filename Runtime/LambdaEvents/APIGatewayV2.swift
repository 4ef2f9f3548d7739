#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// An API Gateway HTTP API request, payload format 2.0, as AWS documents it.
public struct APIGatewayV2Request: Codable, Sendable, Equatable {
    public var version: String
    public var routeKey: String
    public var rawPath: String
    public var rawQueryString: String
    public var cookies: [String]?
    public var headers: [String: String]
    public var queryStringParameters: [String: String]?
    public var pathParameters: [String: String]?
    public var stageVariables: [String: String]?
    public var body: String?
    public var isBase64Encoded: Bool
    public var requestContext: RequestContext

    public init(
        routeKey: String, rawPath: String, rawQueryString: String = "", cookies: [String]? = nil,
        headers: [String: String] = [:], queryStringParameters: [String: String]? = nil,
        pathParameters: [String: String]? = nil, stageVariables: [String: String]? = nil,
        body: String? = nil, isBase64Encoded: Bool = false, requestContext: RequestContext
    ) {
        self.version = "2.0"
        self.routeKey = routeKey
        self.rawPath = rawPath
        self.rawQueryString = rawQueryString
        self.cookies = cookies
        self.headers = headers
        self.queryStringParameters = queryStringParameters
        self.pathParameters = pathParameters
        self.stageVariables = stageVariables
        self.body = body
        self.isBase64Encoded = isBase64Encoded
        self.requestContext = requestContext
    }

    // AWS omits empty maps and `rawQueryString` can be absent in hand-written events; be lenient
    // on input so `emulator invoke --event` accepts what people paste from the docs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decodeIfPresent(String.self, forKey: .version) ?? "2.0"
        routeKey = try c.decodeIfPresent(String.self, forKey: .routeKey) ?? "$default"
        rawPath = try c.decode(String.self, forKey: .rawPath)
        rawQueryString = try c.decodeIfPresent(String.self, forKey: .rawQueryString) ?? ""
        cookies = try c.decodeIfPresent([String].self, forKey: .cookies)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        queryStringParameters = try c.decodeIfPresent([String: String].self, forKey: .queryStringParameters)
        pathParameters = try c.decodeIfPresent([String: String].self, forKey: .pathParameters)
        stageVariables = try c.decodeIfPresent([String: String].self, forKey: .stageVariables)
        body = try c.decodeIfPresent(String.self, forKey: .body)
        isBase64Encoded = try c.decodeIfPresent(Bool.self, forKey: .isBase64Encoded) ?? false
        requestContext = try c.decode(RequestContext.self, forKey: .requestContext)
    }

    public struct RequestContext: Codable, Sendable, Equatable {
        public var accountId: String
        public var apiId: String
        public var domainName: String?
        public var domainPrefix: String?
        public var http: HTTP
        public var requestId: String
        public var routeKey: String
        public var stage: String
        public var time: String
        public var timeEpoch: Int64
        public var authorizer: Authorizer?

        public init(
            accountId: String = "123456789012", apiId: String = "local", domainName: String? = nil,
            domainPrefix: String? = nil, http: HTTP, requestId: String, routeKey: String,
            stage: String = "$default", time: String, timeEpoch: Int64, authorizer: Authorizer? = nil
        ) {
            self.accountId = accountId
            self.apiId = apiId
            self.domainName = domainName
            self.domainPrefix = domainPrefix
            self.http = http
            self.requestId = requestId
            self.routeKey = routeKey
            self.stage = stage
            self.time = time
            self.timeEpoch = timeEpoch
            self.authorizer = authorizer
        }
    }

    public struct HTTP: Codable, Sendable, Equatable {
        public var method: String
        public var path: String
        public var `protocol`: String
        public var sourceIp: String
        public var userAgent: String

        public init(method: String, path: String, protocol: String = "HTTP/1.1", sourceIp: String = "127.0.0.1", userAgent: String = "") {
            self.method = method
            self.path = path
            self.protocol = `protocol`
            self.sourceIp = sourceIp
            self.userAgent = userAgent
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            method = try c.decode(String.self, forKey: .method)
            path = try c.decodeIfPresent(String.self, forKey: .path) ?? "/"
            `protocol` = try c.decodeIfPresent(String.self, forKey: .protocol) ?? "HTTP/1.1"
            sourceIp = try c.decodeIfPresent(String.self, forKey: .sourceIp) ?? ""
            userAgent = try c.decodeIfPresent(String.self, forKey: .userAgent) ?? ""
        }
    }

    public struct Authorizer: Codable, Sendable, Equatable {
        public var jwt: JWT?
        public var lambda: JSONValue?
        public init(jwt: JWT? = nil, lambda: JSONValue? = nil) {
            self.jwt = jwt
            self.lambda = lambda
        }
    }

    /// JWT authorizer output. API Gateway hands claims over as strings (arrays and objects
    /// flattened); non-string values in hand-written events are kept as their JSON text.
    public struct JWT: Codable, Sendable, Equatable {
        public var claims: [String: String]
        public var scopes: [String]?

        public init(claims: [String: String], scopes: [String]? = nil) {
            self.claims = claims
            self.scopes = scopes
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let raw = try c.decodeIfPresent([String: JSONValue].self, forKey: .claims) ?? [:]
            claims = raw.mapValues(\.textValue)
            scopes = try c.decodeIfPresent([String].self, forKey: .scopes)
        }
    }
}

/// An API Gateway HTTP API response, payload format 2.0.
public struct APIGatewayV2Response: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var cookies: [String]?
    public var body: String?
    public var isBase64Encoded: Bool?

    public init(statusCode: Int, headers: [String: String]? = nil, cookies: [String]? = nil, body: String? = nil, isBase64Encoded: Bool? = nil) {
        self.statusCode = statusCode
        self.headers = headers
        self.cookies = cookies
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }
}
