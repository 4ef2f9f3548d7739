import Foundation
import JSON
import JWTKit
import LambdaEvents
import NIOConcurrencyHelpers
import NIOCore

/// API Gateway's JWT authorizer, from the template's `Auth.Authorizers` (`JwtConfiguration`
/// issuer and audience, `IdentitySource`). Signatures are checked by JWTKit against an HS256
/// development secret and/or a JWKS (RS256, ES256, ...); `exp` (required), `nbf`, `iss` and
/// `aud` are checked here. The header's `alg` must be one the configured keys use, so `none`
/// and algorithm confusion (an HS256 token "signed" with a public key) are refused before any
/// verification. Verified tokens are cached until they expire, so a client's repeated token
/// costs a dictionary lookup on the event loop.
package final class JWTAuthorizer: Sendable {
    package let spec: JWTAuthorizerSpec
    private let keys: JWTKeyCollection
    private let algorithms: Set<String>
    private let cache = NIOLockedValueBox<[String: Verified]>([:])

    struct Verified: Sendable {
        var authorizer: APIGatewayV2Request.Authorizer
        var expires: Double
    }

    package init(spec: JWTAuthorizerSpec, hmacSecret: String?, jwksJSON: String?) async throws {
        self.spec = spec
        let keys = JWTKeyCollection()
        var algorithms = Set<String>()
        if let jwksJSON {
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(jwksJSON.utf8))
            try await keys.add(jwks: jwks)
            for key in jwks.keys {
                if let alg = key.algorithm?.rawValue { algorithms.insert(alg) }
                else if key.keyType == .rsa { algorithms.formUnion(["RS256", "RS384", "RS512"]) }
                else if key.keyType == .ecdsa { algorithms.formUnion(["ES256", "ES384", "ES512"]) }
            }
        }
        if let hmacSecret, !hmacSecret.isEmpty {
            try Self.checkSecret(hmacSecret)
            // With a JWKS too, the secret gets its own key id so neither shadows the other.
            await keys.add(hmac: HMACKey(from: hmacSecret), digestAlgorithm: .sha256, kid: jwksJSON == nil ? nil : "emulator-hs256")
            algorithms.insert("HS256")
        }
        guard !algorithms.isEmpty else { throw TemplateError("Authorizer \(spec.name): no HS256 secret and no JWKS to verify tokens with.") }
        self.keys = keys
        self.algorithms = algorithms
    }

    /// The header the token comes from (`$request.header.Authorization` -> `authorization`).
    var headerName: String {
        let source = spec.identitySource
        return (source.hasPrefix("$request.header.") ? String(source.dropFirst("$request.header.".count)) : "Authorization").lowercased()
    }

    /// The authorizer context for the event, or a 401 saying why not.
    package func authorize(headers: [(String, String)], on eventLoop: any EventLoop) -> EventLoopFuture<Result<APIGatewayV2Request.Authorizer, APIError>> {
        let name = headerName
        guard let raw = headers.first(where: { $0.0.lowercased() == name })?.1, !raw.isEmpty else {
            return eventLoop.makeSucceededFuture(.failure(Self.unauthorized("Missing \(name) header with a bearer token.")))
        }
        let token = raw.lowercased().hasPrefix("bearer ") ? String(raw.dropFirst(7)).trimmingCharacters(in: .whitespaces) : raw
        let now = Date().timeIntervalSince1970
        if let hit = cache.withLockedValue({ $0[token] }), hit.expires > now {
            return eventLoop.makeSucceededFuture(.success(hit.authorizer))
        }
        if let early = precheck(token) { return eventLoop.makeSucceededFuture(.failure(early)) }
        return eventLoop.makeFutureWithTask { [self] in
            await verify(token, now: now)
        }
    }

    /// Refuses before verification what no configured key could have signed.
    private func precheck(_ token: String) -> APIError? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.base64URL(parts[0]),
              case .object(let h)? = try? JSONValue.parse(Array(header)), let alg = h["alg"]?.stringValue else {
            return Self.unauthorized("The token is not a JWT.")
        }
        guard alg.lowercased() != "none" else { return Self.unauthorized("Unsigned tokens (alg none) are refused.") }
        guard algorithms.contains(alg) else {
            return Self.unauthorized("The token's algorithm \(alg) is not one this authorizer accepts (\(algorithms.sorted().joined(separator: ", "))).")
        }
        return nil
    }

    private func verify(_ token: String, now: Double) async -> Result<APIGatewayV2Request.Authorizer, APIError> {
        let claims: [String: JSONValue]
        do {
            claims = try await keys.verify(token, as: RawClaims.self, iteratingKeys: true).values
        } catch {
            return .failure(Self.unauthorized("The token's signature does not verify."))
        }
        guard let exp = claims["exp"]?.doubleValue else { return .failure(Self.unauthorized("The token has no exp claim.")) }
        guard exp > now else { return .failure(Self.unauthorized("The token expired.")) }
        if let nbf = claims["nbf"]?.doubleValue, nbf > now { return .failure(Self.unauthorized("The token is not valid yet (nbf).")) }
        if let issuer = spec.issuer, claims["iss"]?.stringValue != issuer {
            return .failure(Self.unauthorized("The token's issuer is not \(issuer)."))
        }
        if !spec.audience.isEmpty {
            let aud = (claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? claims["aud"]?.stringValue.map { [$0] } ?? [])
                + (claims["client_id"]?.stringValue.map { [$0] } ?? [])
            guard aud.contains(where: spec.audience.contains) else {
                return .failure(Self.unauthorized("The token's audience is not \(spec.audience.joined(separator: " or "))."))
            }
        }
        let scopes = claims["scope"]?.stringValue?.split(separator: " ").map(String.init)
            ?? claims["scp"]?.arrayValue?.compactMap(\.stringValue)
        // A claim set to null carries no value: it is left out, as if absent (so `org_id: null` is
        // "no tenant", a 401, rather than the tenant "null").
        let authorizer = APIGatewayV2Request.Authorizer(jwt: .init(claims: claims.filter { $0.value != .null }.mapValues(Self.flatten),
                                                                   scopes: scopes))
        cache.withLockedValue { c in
            if c.count > 10_000 { c.removeAll() }
            c[token] = Verified(authorizer: authorizer, expires: exp)
        }
        return .success(authorizer)
    }

    /// API Gateway hands claims over as strings; arrays become `[a b c]`.
    static func flatten(_ v: JSONValue) -> String {
        switch v {
        case .array(let a): return "[" + a.map(flatten).joined(separator: " ") + "]"
        default: return v.textValue
        }
    }

    static func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, code: "unauthorized", message: message, headers: ["www-authenticate": "Bearer"])
    }

    static func base64URL(_ s: Substring) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
    static func checkSecret(_ secret: String) throws {
        guard secret.utf8.count >= 32 else {
            throw TemplateError("The HS256 secret must be at least 32 bytes (RFC 7518 §3.2); this one has \(secret.utf8.count).")
        }
    }

    /// Signs a development token with the HS256 secret (`emulator token`).
    package static func devToken(secret: String, claims: [String: JSONValue]) async throws -> String {
        try checkSecret(secret)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(RawClaims(values: claims))
    }

    /// The development secret when none is configured: tokens from `emulator token` verify
    /// against it out of the box. Never use it outside a local emulator.
    package static let developmentSecret = "rag-functions-local-development-secret"
}

/// Every claim, kept as JSON: the authorizer checks the registered ones itself.
struct RawClaims: JWTPayload {
    var values: [String: JSONValue]

    init(values: [String: JSONValue]) { self.values = values }
    init(from decoder: any Decoder) throws { values = try [String: JSONValue](from: decoder) }
    func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
