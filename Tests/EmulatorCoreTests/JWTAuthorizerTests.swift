import Foundation
import JWTKit
import JSON
import LambdaEvents
import Testing
import TestSupport
@testable import EmulatorCore
import BearerTokens

/// The JWT authorizer in front of a real emulator: HS256 with a secret, ES256 from a JWKS file,
/// and every way a token can be wrong.
@Suite(.serialized) struct JWTAuthorizerTests {
    static let template = """
    Resources:
      Api:
        Type: AWS::Serverless::HttpApi
        Properties:
          Auth:
            DefaultAuthorizer: Jwt
            Authorizers:
              Jwt:
                IdentitySource: $request.header.Authorization
                JwtConfiguration: {issuer: "https://issuer.test/", audience: [rag-api]}
      Fixture:
        Type: AWS::Serverless::Function
        Properties:
          Handler: fixture-fn
          Events:
            Private: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: "/private/{proxy+}"}}
            Public: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: "/public/{proxy+}", Auth: {Authorizer: NONE}}}
    """
    static let secret = "test-secret-of-at-least-thirty-two-bytes"

    static func claims(_ overrides: [String: JSONValue] = [:], drop: [String] = []) -> [String: JSONValue] {
        let now = Date().timeIntervalSince1970
        var c: [String: JSONValue] = ["iss": "https://issuer.test/", "aud": "rag-api", "sub": "alice", "org_id": "acme",
                                      "exp": .number(now + 600), "scope": "docs:read docs:write", "groups": ["a", "b"]]
        c.merge(overrides) { _, new in new }
        for d in drop { c[d] = nil }
        return c
    }

    static func hs256(_ claims: [String: JSONValue], secret: String = secret) async throws -> String {
        try await JWTAuthorizer.devToken(secret: secret, claims: claims)
    }

    func start(jwks: String? = nil, jwksURL: String? = nil) async throws -> EmulatorHarness {
        var args = ["--jwt-secret", Self.secret]
        if let jwksURL { args += ["--jwks", jwksURL] }
        if let jwks {
            let path = TestPaths.temporaryDirectory("jwks") + "/jwks.json"
            try jwks.write(toFile: path, atomically: true, encoding: .utf8)
            args += ["--jwks", path]
        }
        return try await EmulatorHarness.start(template: Self.template, arguments: args)
    }

    func get(_ emu: EmulatorHarness, _ token: String?, path: String = "/private/echo") async throws -> EmulatorHarness.Reply {
        try await emu.request("GET", path, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
    }

    @Test func validTokensReachTheFunctionWithTheirClaims() async throws {
        let emu = try await start()
        defer { Task { await emu.stop() } }
        let r = try await get(emu, try await Self.hs256(Self.claims()))
        #expect(r.status == 200)
        let claims = r.json["claims"] as? [String: String]
        #expect(claims?["org_id"] == "acme")
        #expect(claims?["sub"] == "alice")
        #expect(claims?["groups"] == "[a b]")
        // An audience list that includes ours, and the raw token without "Bearer ".
        let listAud = try await Self.hs256(Self.claims(["aud": ["other", "rag-api"]]))
        #expect(try await emu.request("GET", "/private/echo", headers: ["Authorization": listAud]).status == 200)
        // Routes marked Authorizer: NONE need no token.
        #expect(try await get(emu, nil, path: "/public/echo").status == 200)
    }

    @Test func everyBadTokenIs401() async throws {
        let emu = try await start()
        defer { Task { await emu.stop() } }
        let now = Date().timeIntervalSince1970
        let cases: [(String?, String)] = [
            (nil, "Missing authorization header"),
            ("not-a-jwt", "not a JWT"),
            (try await Self.hs256(Self.claims(["exp": .number(now - 5)])), "expired"),
            (try await Self.hs256(Self.claims(drop: ["exp"])), "no exp"),
            (try await Self.hs256(Self.claims(["nbf": .number(now + 600)])), "not valid yet"),
            (try await Self.hs256(Self.claims(["iss": "https://evil.test/"])), "issuer"),
            (try await Self.hs256(Self.claims(["aud": "someone-else"])), "audience"),
            (try await Self.hs256(Self.claims(), secret: "wrong-secret-also-thirty-two-bytes-long"), "signature"),
            (Self.unsigned(Self.claims()), "alg none"),
        ]
        for (token, reason) in cases {
            let r = try await get(emu, token)
            #expect(r.status == 401, "\(reason)")
            #expect(r.errorCode == "unauthorized", "\(reason)")
            #expect(r.text.contains(reason), "\(reason): \(r.text)")
            #expect(r.headers["www-authenticate"] == "Bearer")
        }
    }

    @Test func jwksFromAURL() async throws {
        let key = ES256PrivateKey()
        let (x, y) = try #require(key.parameters)
        let dir = TestPaths.temporaryDirectory("jwks-url")
        try #"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)","kid":"k9","alg":"ES256"}]}"#
            .write(toFile: dir + "/jwks.json", atomically: true, encoding: .utf8)
        // A real HTTP server for the key set.
        let server = try ChildProcess("/usr/bin/env", arguments: ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
                                      currentDirectory: dir)
        defer { server.signal(SIGKILL) }
        let line = try #require(await server.readLine(timeout: 60))
        let port = try #require(line.split(separator: " ").compactMap { Int($0) }.first, "\(line)")
        let emu = try await start(jwksURL: "http://127.0.0.1:\(port)/jwks.json")
        defer { Task { await emu.stop() } }
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: "k9")
        #expect(try await get(emu, try await keys.sign(RawClaims(values: Self.claims()), kid: "k9")).status == 200)
    }

    /// A function URL's own check: keys found through the issuer's OpenID discovery document
    /// (as API Gateway's authorizer finds them), API Gateway's requests passed as they are.
    @Test func aFunctionURLFindsItsKeysThroughDiscovery() async throws {
        let key = ES256PrivateKey()
        let (x, y) = try #require(key.parameters)
        let dir = TestPaths.temporaryDirectory("oidc")
        try FileManager.default.createDirectory(atPath: dir + "/.well-known", withIntermediateDirectories: true)
        let server = try ChildProcess("/usr/bin/env", arguments: ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
                                      currentDirectory: dir)
        defer { server.signal(SIGKILL) }
        let line = try #require(await server.readLine(timeout: 60))
        let port = try #require(line.split(separator: " ").compactMap { Int($0) }.first, "\(line)")
        let issuer = "http://127.0.0.1:\(port)/"
        try #"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)","kid":"k7","alg":"ES256"}]}"#
            .write(toFile: dir + "/jwks.json", atomically: true, encoding: .utf8)
        try #"{"issuer":"\#(issuer)","jwks_uri":"\#(issuer)jwks.json"}"#
            .write(toFile: dir + "/.well-known/openid-configuration", atomically: true, encoding: .utf8)

        let auth = FunctionURLAuthorization.fromEnvironment(["JWT_ISSUER": issuer, "JWT_AUDIENCE": "rag-api"])
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: "k7")
        let token = try await keys.sign(RawClaims(values: Self.claims(["iss": .string(issuer)])), kid: "k7")
        var request = APIGatewayV2Request(routeKey: "$default", rawPath: "/v1/generate", rawQueryString: "",
                                          headers: ["authorization": "Bearer \(token)"],
                                          requestContext: .init(http: .init(method: "POST", path: "/v1/generate"), requestId: "r",
                                                                routeKey: "$default", time: "", timeEpoch: 0))
        // Through API Gateway: its authorizer already ran; nothing is checked again.
        #expect(try await auth.authorize(request).requestContext.authorizer == nil)
        request.requestContext.domainName = "abc.lambda-url.us-east-1.on.aws"
        let authorized = try await auth.authorize(request)
        #expect(authorized.requestContext.authorizer?.jwt?.claims["org_id"] == "acme")
        request.headers["authorization"] = "Bearer " + (try await JWTAuthorizer.devToken(secret: Self.secret, claims: Self.claims(["iss": .string(issuer)])))
        await #expect(throws: APIError.self) { try await auth.authorize(request) }
        // Not configured: a URL request is refused (503), never let through.
        await #expect(throws: APIError.self) { try await FunctionURLAuthorization.fromEnvironment([:]).authorize(request) }
    }

    @Test func shortSecretsAreRefusedAtStart() async throws {
        await #expect(throws: EmulatorHarness.StartError.self) {
            try await EmulatorHarness.start(template: Self.template, arguments: ["--jwt-secret", "short"])
        }
    }

    @Test func es256FromAJWKSAndNoAlgorithmConfusion() async throws {
        let key = ES256PrivateKey()
        let (x, y) = try #require(key.parameters)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(x)","y":"\#(y)","kid":"k1","alg":"ES256","use":"sig"}]}"#
        let emu = try await start(jwks: jwks)
        defer { Task { await emu.stop() } }

        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: "k1")
        let es = try await keys.sign(RawClaims(values: Self.claims()), kid: "k1")
        #expect(try await get(emu, es).status == 200)

        // Signed by another ES256 key with the same kid: refused.
        let other = JWTKeyCollection()
        await other.add(ecdsa: ES256PrivateKey(), kid: "k1")
        #expect(try await get(emu, try await other.sign(RawClaims(values: Self.claims()), kid: "k1")).status == 401)

        // HS256 "signed" with the public key as the HMAC secret (the classic confusion attack).
        let forged = try await Self.hs256(Self.claims(), secret: jwks)
        #expect(try await get(emu, forged).status == 401)
        // An algorithm no configured key uses is refused before verification.
        #expect(try await get(emu, Self.withHeader(#"{"alg":"RS256","typ":"JWT"}"#, Self.claims())).text.contains("not one this authorizer accepts"))
    }

    static func b64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func withHeader(_ header: String, _ claims: [String: JSONValue]) -> String {
        b64url(Data(header.utf8)) + "." + b64url((try? JSONValue.object(JSONObject(claims)).encoded()) ?? Data()) + ".c2ln"
    }

    static func unsigned(_ claims: [String: JSONValue]) -> String {
        b64url(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + b64url((try? JSONValue.object(JSONObject(claims)).encoded()) ?? Data()) + "."
    }
}
