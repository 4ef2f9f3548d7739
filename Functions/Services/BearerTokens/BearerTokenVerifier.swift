import Foundation
import JSON
import JWTKit
import LambdaEvents
import Synchronization

/// API Gateway's JWT authorizer, as a library: the emulator runs it in front of its HTTP API, and
/// a function behind a function URL (which has no authorizer) runs it itself. Signatures are
/// checked by JWTKit against an HS256 secret and/or a JWKS (RS256, ES256, ...); `exp`
/// (required), `nbf`, `iss` and `aud` (or `client_id`) are checked here, as API Gateway does.
/// The header's `alg` must be one the configured keys use, so `none` and algorithm confusion
/// (an HS256 token "signed" with a public key) are refused before any verification. Verified
/// tokens are cached until they expire.
package final class BearerTokenVerifier: Sendable {
    package let issuer: String?
    package let audience: [String]
    private let keys: JWTKeyCollection
    private let algorithms: Set<String>
    private let cache = Mutex<[String: Verified]>([:])

    struct Verified: Sendable {
        var authorizer: APIGatewayV2Request.Authorizer
        var expires: Double
    }

    package struct ConfigurationError: Error, CustomStringConvertible {
        package let description: String
        package init(_ description: String) { self.description = description }
    }

    package init(issuer: String?, audience: [String], hmacSecret: String?, jwksJSON: String?) async throws(ConfigurationError) {
        self.issuer = issuer
        self.audience = audience
        let keys = JWTKeyCollection()
        var algorithms = Set<String>()
        if let jwksJSON {
            let jwks: JWKS
            do { jwks = try JSONDecoder().decode(JWKS.self, from: Data(jwksJSON.utf8)) } catch {
                throw ConfigurationError("The JWKS is not a JSON Web Key Set: \(error)")
            }
            do { try await keys.add(jwks: jwks) } catch { throw ConfigurationError("The JWKS holds a key JWTKit cannot use: \(error)") }
            for key in jwks.keys {
                if let alg = key.algorithm?.rawValue { algorithms.insert(alg) }
                else if key.keyType == .rsa { algorithms.formUnion(["RS256", "RS384", "RS512"]) }
                else if key.keyType == .ecdsa { algorithms.formUnion(["ES256", "ES384", "ES512"]) }
            }
        }
        if let hmacSecret, !hmacSecret.isEmpty {
            try Self.checkSecret(hmacSecret)
            // With a JWKS too, the secret gets its own key id so neither shadows the other.
            await keys.add(hmac: HMACKey(from: hmacSecret), digestAlgorithm: .sha256, kid: jwksJSON == nil ? nil : "local-hs256")
            algorithms.insert("HS256")
        }
        guard !algorithms.isEmpty else { throw ConfigurationError("No HS256 secret and no JWKS to verify tokens with.") }
        self.keys = keys
        self.algorithms = algorithms
    }

    /// The authorizer context for a request carrying `authorization` (the header's value), or
    /// a 401 saying why not.
    package func verify(authorization raw: String?, headerName: String = "authorization") async -> Result<APIGatewayV2Request.Authorizer, APIError> {
        guard let raw, !raw.isEmpty else {
            return .failure(Self.unauthorized("Missing \(headerName) header with a bearer token."))
        }
        let token = raw.lowercased().hasPrefix("bearer ") ? String(raw.dropFirst(7)).trimmingCharacters(in: .whitespaces) : raw
        let now = Date().timeIntervalSince1970
        if let hit = cached(token, now: now) { return .success(hit) }
        if let early = precheck(token) { return .failure(early) }
        return await verify(token, now: now)
    }

    /// A token verified before and not yet expired.
    package func cached(_ token: String, now: Double = Date().timeIntervalSince1970) -> APIGatewayV2Request.Authorizer? {
        guard let hit = cache.withLock({ $0[token] }), hit.expires > now else { return nil }
        return hit.authorizer
    }

    /// Refuses before verification what no configured key could have signed.
    package func precheck(_ token: String) -> APIError? {
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

    package func verify(_ token: String, now: Double) async -> Result<APIGatewayV2Request.Authorizer, APIError> {
        let claims: [String: JSONValue]
        do {
            claims = try await keys.verify(token, as: RawClaims.self, iteratingKeys: true).values
        } catch {
            return .failure(Self.unauthorized("The token's signature does not verify."))
        }
        guard let exp = claims["exp"]?.doubleValue else { return .failure(Self.unauthorized("The token has no exp claim.")) }
        guard exp > now else { return .failure(Self.unauthorized("The token expired.")) }
        if let nbf = claims["nbf"]?.doubleValue, nbf > now { return .failure(Self.unauthorized("The token is not valid yet (nbf).")) }
        if let issuer, claims["iss"]?.stringValue != issuer {
            return .failure(Self.unauthorized("The token's issuer is not \(issuer)."))
        }
        if !audience.isEmpty {
            let aud = (claims["aud"]?.arrayValue?.compactMap(\.stringValue) ?? claims["aud"]?.stringValue.map { [$0] } ?? [])
                + (claims["client_id"]?.stringValue.map { [$0] } ?? [])
            guard aud.contains(where: audience.contains) else {
                return .failure(Self.unauthorized("The token's audience is not \(audience.joined(separator: " or "))."))
            }
        }
        let scopes = claims["scope"]?.stringValue?.split(separator: " ").map(String.init)
            ?? claims["scp"]?.arrayValue?.compactMap(\.stringValue)
        // A claim set to null carries no value: it is left out, as if absent (so `org_id: null` is
        // "no tenant", a 401, rather than the tenant "null").
        let authorizer = APIGatewayV2Request.Authorizer(jwt: .init(claims: claims.filter { $0.value != .null }.mapValues(Self.flatten),
                                                                   scopes: scopes))
        cache.withLock { c in
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

    package static func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, code: "unauthorized", message: message, headers: ["www-authenticate": "Bearer"])
    }

    static func base64URL(_ s: Substring) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    /// RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
    package static func checkSecret(_ secret: String) throws(ConfigurationError) {
        guard secret.utf8.count >= 32 else {
            throw ConfigurationError("The HS256 secret must be at least 32 bytes (RFC 7518 §3.2); this one has \(secret.utf8.count).")
        }
    }

    /// Signs a token with an HS256 secret (the emulator's development tokens).
    package static func hs256Token(secret: String, claims: [String: JSONValue]) async throws -> String {
        try checkSecret(secret)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(RawClaims(values: claims))
    }
}

/// Every claim, kept as JSON: the verifier checks the registered ones itself.
package struct RawClaims: JWTPayload {
    package var values: [String: JSONValue]

    package init(values: [String: JSONValue]) { self.values = values }
    package init(from decoder: any Decoder) throws { values = try [String: JSONValue](from: decoder) }
    package func encode(to encoder: any Encoder) throws { try values.encode(to: encoder) }
    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}
