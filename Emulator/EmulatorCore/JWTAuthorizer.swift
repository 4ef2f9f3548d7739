import Foundation
import JSON
import BearerTokens
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
    private let verifier: BearerTokenVerifier

    package init(spec: JWTAuthorizerSpec, hmacSecret: String?, jwksJSON: String?) async throws {
        self.spec = spec
        do {
            verifier = try await BearerTokenVerifier(issuer: spec.issuer, audience: spec.audience, hmacSecret: hmacSecret, jwksJSON: jwksJSON)
        } catch {
            throw TemplateError("Authorizer \(spec.name): \(error.description)")
        }
    }

    /// The header the token comes from (`$request.header.Authorization` -> `authorization`).
    var headerName: String {
        let source = spec.identitySource
        return (source.hasPrefix("$request.header.") ? String(source.dropFirst("$request.header.".count)) : "Authorization").lowercased()
    }

    /// The authorizer context for the event, or a 401 saying why not. A token seen before is
    /// answered on the event loop; a new one is verified off it.
    package func authorize(headers: [(String, String)], on eventLoop: any EventLoop) -> EventLoopFuture<Result<APIGatewayV2Request.Authorizer, APIError>> {
        let name = headerName
        let raw = headers.first(where: { $0.0.lowercased() == name })?.1
        if let raw, !raw.isEmpty {
            let token = raw.lowercased().hasPrefix("bearer ") ? String(raw.dropFirst(7)).trimmingCharacters(in: .whitespaces) : raw
            if let hit = verifier.cached(token) { return eventLoop.makeSucceededFuture(.success(hit)) }
            if let early = verifier.precheck(token) { return eventLoop.makeSucceededFuture(.failure(early)) }
        }
        return eventLoop.makeFutureWithTask { [verifier] in
            await verifier.verify(authorization: raw, headerName: name)
        }
    }

    static func unauthorized(_ message: String) -> APIError { BearerTokenVerifier.unauthorized(message) }

    static func checkSecret(_ secret: String) throws {
        do { try BearerTokenVerifier.checkSecret(secret) } catch { throw TemplateError(error.description) }
    }

    /// Signs a development token with the HS256 secret (`emulator token`).
    package static func devToken(secret: String, claims: [String: JSONValue]) async throws -> String {
        try checkSecret(secret)
        return try await BearerTokenVerifier.hs256Token(secret: secret, claims: claims)
    }

    /// The development secret when none is configured: tokens from `emulator token` verify
    /// against it out of the box. Never use it outside a local emulator.
    package static let developmentSecret = "rag-functions-local-development-secret"
}
