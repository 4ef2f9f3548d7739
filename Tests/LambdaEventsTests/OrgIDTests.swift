import Foundation
import LambdaEvents
import RequestTenancy
import Tenancy
import Testing

/// The tenant pattern, and the 401/403 a request gets for each kind of claim.
@Suite struct OrgIDTests {
    @Test(arguments: ["acme", "ACME", "acme-corp_1.eu", "team@acme:eu", "123", "a", String(repeating: "a", count: 128)])
    func validIds(_ raw: String) {
        #expect(OrgID(raw)?.rawValue == raw)
    }

    /// Look-alikes of `acme` and the shapes API Gateway gives non-string claims.
    @Test(arguments: ["acme\u{0}", "acme\u{0}x", "acme ", " acme", "acme\u{200B}", "\u{430}cme", "acm%", "acm*", "*", "%", "../x", "..", ".",
                      ".hidden", "-rf", "a/b", "a\\b", "", "[acme]", "[a b]", "{\"id\":\"acme\"}", "tổ chức", "acme\n",
                      String(repeating: "a", count: 129)])
    func invalidIds(_ raw: String) {
        #expect(OrgID(raw) == nil, "\(raw.debugDescription)")
    }

    func request(_ claims: [String: String]) -> APIGatewayV2Request {
        APIGatewayV2Request(routeKey: "GET /x", rawPath: "/x", headers: [:],
                            requestContext: .init(http: .init(method: "GET", path: "/x"), requestId: "r", routeKey: "GET /x",
                                                  time: "", timeEpoch: 0, authorizer: .init(jwt: .init(claims: claims))))
    }

    @Test func requestsGet401WithoutATenantAnd403ForAMalformedOne() throws {
        #expect(try request(["org_id": "acme"]).orgID() == "acme")
        #expect(throws: APIError.unauthorized("The token carries no `org_id` claim.")) { try request([:]).orgID() }
        #expect(throws: APIError.unauthorized("The token carries no `org_id` claim.")) { try request(["org_id": ""]).orgID() }
        do {
            _ = try request(["org_id": "acme\u{0}"]).orgID()
            Issue.record("accepted a NUL")
        } catch {
            #expect(error.status == 403 && error.code == "invalid_tenant")
            #expect(!error.message.contains("\u{0}"))
        }
        #expect(try request([:]).validatedOrgIDIfPresent() == nil)
        #expect(throws: APIError.self) { try request(["org_id": "[a b]"]).validatedOrgIDIfPresent() }
    }

    @Test func decodingValidates() throws {
        #expect(throws: (any Error).self) { try JSONDecoder().decode([OrgID].self, from: Data(#"["acme\u0000"]"#.utf8)) }
        #expect(try JSONDecoder().decode([OrgID].self, from: Data(#"["acme"]"#.utf8)) == ["acme"])
    }
}
