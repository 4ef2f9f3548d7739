import LambdaEvents
import Tenancy

// The tenant of an HTTP API request: the `org_id` claim read once, at the edge, as an `OrgID`.
// A module apart from `Tenancy`, so that the stores, which take `OrgID`s, depend on nothing
// HTTP-shaped.

extension APIError {
    /// A token whose `org_id` breaks `OrgID`'s pattern: signed, so not a 401, but no tenant.
    package static func invalidTenant() -> APIError {
        APIError(status: 403, code: "invalid_tenant",
                 message: "The token's `org_id` claim is not a valid org id (\(OrgID.rule)).",
                 details: ["claim": .string("org_id")])
    }
}

extension APIGatewayV2Request {
    /// The caller's tenant, parsed from the `org_id` claim: 401 when the token has none, 403
    /// `invalid_tenant` when it breaks the pattern. Handlers call this before any store or blob
    /// call, so a malformed tenant never reaches either.
    package func orgID() throws(APIError) -> OrgID {
        guard let raw = claims["org_id"], !raw.isEmpty else {
            throw APIError.unauthorized("The token carries no `org_id` claim.")
        }
        guard let org = OrgID(raw) else { throw APIError.invalidTenant() }
        return org
    }

    /// For endpoints that do not need a tenant (the router): a present but malformed `org_id`
    /// is still refused, so every function answers a bad tenant the same way; an absent or
    /// empty one is no tenant, which such an endpoint accepts.
    package func validatedOrgIDIfPresent() throws(APIError) -> OrgID? {
        guard let raw = claims["org_id"], !raw.isEmpty else { return nil }
        return try orgID()
    }
}
