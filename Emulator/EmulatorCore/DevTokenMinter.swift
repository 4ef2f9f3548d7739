import Foundation
import JSON

/// Development JWTs the template's authorizer accepts (HS256 with the emulator's secret, the
/// authorizer's issuer and audience): for `emulator token` and the dashboard's per-org view.
package struct DevTokenMinter: Sendable {
    let secret: String
    let spec: JWTAuthorizerSpec?

    package init(secret: String, template: Template) {
        self.secret = secret
        spec = template.apis.values.flatMap(\.authorizers.values).first
    }

    /// - Parameter org: the `org_id` claim (any JSON, to show how functions refuse a malformed one).
    package func token(org: JSONValue?, sub: String, ttl: Int = 3600, scope: String? = nil) async throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        var claims: [String: JSONValue] = ["sub": .string(sub), "iat": .number(Double(now)), "exp": .number(Double(now + ttl))]
        if let org { claims["org_id"] = org }
        if let issuer = spec?.issuer { claims["iss"] = .string(issuer) }
        if let aud = spec?.audience.first { claims["aud"] = .string(aud) }
        if let scope { claims["scope"] = .string(scope) }
        return try await JWTAuthorizer.devToken(secret: secret, claims: claims)
    }
}
