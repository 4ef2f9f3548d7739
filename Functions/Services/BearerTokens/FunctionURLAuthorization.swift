import Foundation
import HTTPClient
import JSON
import LambdaEvents
import Synchronization

/// What API Gateway's JWT authorizer does for its routes, done by the function itself for
/// requests that came through its function URL (`AuthType: NONE`: a URL has no JWT
/// authorizer). The same issuer, audience and keys as the API's authorizer
/// (`JWT_ISSUER`, `JWT_AUDIENCE`; keys from `JWT_JWKS_URL`, else the issuer's OpenID discovery
/// document, and/or the HS256 `JWT_HS256_SECRET` of a local emulator), so a token the API
/// accepts is accepted here and one it refuses is refused here. Requests through API Gateway
/// pass unchanged: their authorizer already ran.
package final class FunctionURLAuthorization: Sendable {
    struct Settings: Sendable {
        var issuer: String
        var audience: [String]
        var secret: String?
        var jwksURL: String?
    }

    private let settings: Settings?
    private let makeClient: @Sendable () throws -> HTTPClient
    /// Built on the first request through the URL (fetching keys would slow every cold start,
    /// most of which never see such a request); a failure is tried again on the next one.
    private let verifier = Mutex<Task<BearerTokenVerifier, any Error>?>(nil)

    init(settings: Settings?, makeClient: @escaping @Sendable () throws -> HTTPClient = { try HTTPClient() }) {
        self.settings = settings
        self.makeClient = makeClient
    }

    /// Whether the environment asks for token checks at all (`JWT_ISSUER` set).
    package static func configured(_ env: [String: String]) -> Bool { !(env["JWT_ISSUER"] ?? "").isEmpty }

    /// From the environment; without `JWT_ISSUER` every request through a function URL is refused.
    package static func fromEnvironment(_ env: [String: String]) -> FunctionURLAuthorization {
        func value(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
        guard let issuer = value("JWT_ISSUER") else { return FunctionURLAuthorization(settings: nil) }
        let audience = (value("JWT_AUDIENCE") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return FunctionURLAuthorization(settings: Settings(issuer: issuer, audience: audience, secret: value("JWT_HS256_SECRET"),
                                                           jwksURL: value("JWT_JWKS_URL")))
    }

    private func currentVerifier() async throws -> BearerTokenVerifier {
        guard let settings else { throw BearerTokenVerifier.ConfigurationError("JWT_ISSUER is not set") }
        let task = verifier.withLock { v -> Task<BearerTokenVerifier, any Error> in
            if let v { return v }
            let makeClient = self.makeClient
            let t = Task<BearerTokenVerifier, any Error> {
                var jwks: String? = nil
                if settings.jwksURL != nil || settings.secret == nil {
                    jwks = try await Self.fetchJWKS(issuer: settings.issuer, url: settings.jwksURL, client: try makeClient())
                }
                return try await BearerTokenVerifier(issuer: settings.issuer, audience: settings.audience, hmacSecret: settings.secret,
                                                     jwksJSON: jwks)
            }
            v = t
            return t
        }
        do {
            return try await task.value
        } catch {
            verifier.withLock { $0 = nil }
            throw error
        }
    }

    /// The JWKS at `url`, else at the `jwks_uri` of `{issuer}/.well-known/openid-configuration`
    /// (what API Gateway's JWT authorizer reads).
    static func fetchJWKS(issuer: String, url: String?, client: HTTPClient) async throws -> String {
        var jwksURL = url
        if jwksURL == nil {
            let discovery = (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
            let r = try await client.send(method: "GET", url: discovery, timeout: .seconds(5))
            guard r.status == 200, let uri = (try? JSONValue.parse(r.body))?["jwks_uri"]?.stringValue else {
                throw BearerTokenVerifier.ConfigurationError("\(discovery) answered \(r.status) without a jwks_uri")
            }
            jwksURL = uri
        }
        let r = try await client.send(method: "GET", url: jwksURL!, timeout: .seconds(5))
        guard r.status == 200 else { throw BearerTokenVerifier.ConfigurationError("\(jwksURL!) answered \(r.status)") }
        return String(decoding: r.body, as: UTF8.self)
    }

    /// Whether a request came through a function URL (its domain is `<id>.lambda-url.<region>.on.aws`).
    package static func viaFunctionURL(_ request: APIGatewayV2Request) -> Bool {
        request.requestContext.domainName?.contains(".lambda-url.") ?? false
    }

    /// The request with its authorizer context, checked here when it came through the URL.
    package func authorize(_ request: APIGatewayV2Request) async throws(APIError) -> APIGatewayV2Request {
        guard Self.viaFunctionURL(request) else { return request }
        let verifier: BearerTokenVerifier
        do {
            verifier = try await currentVerifier()
        } catch {
            throw APIError(status: 503, code: "service_unavailable",
                           message: "This function URL cannot verify tokens (\(error)); call it through the API.")
        }
        let header = request.headers.first { $0.key.lowercased() == "authorization" }?.value
        switch await verifier.verify(authorization: header) {
        case .success(let authorizer):
            var r = request
            r.requestContext.authorizer = authorizer
            return r
        case .failure(let error):
            throw error
        }
    }
}
