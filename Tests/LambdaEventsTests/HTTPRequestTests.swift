import Foundation
import LambdaEvents
import Testing

@Suite struct LenientDecodingTests {
    @Test func minimalHandWrittenRequestGetsDefaults() throws {
        let r = try decode(APIGatewayV2Request.self, #"""
            {"rawPath":"/v1/search","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default",
             "stage":"$default","time":"t","timeEpoch":0,"http":{"method":"get"}}}
            """#)
        #expect(r.version == "2.0")
        #expect(r.routeKey == "$default")
        #expect(r.rawPath == "/v1/search")
        #expect(r.rawQueryString == "")
        #expect(r.cookies == nil)
        #expect(r.headers.isEmpty)
        #expect(r.queryStringParameters == nil)
        #expect(r.pathParameters == nil)
        #expect(r.stageVariables == nil)
        #expect(r.body == nil)
        #expect(r.isBase64Encoded == false)
        #expect(r.requestContext.http.method == "get")
        #expect(r.method == "GET", "method is upper-cased for dispatch")
        #expect(r.requestContext.http.path == "/")
        #expect(r.requestContext.http.protocol == "HTTP/1.1")
        #expect(r.requestContext.http.sourceIp == "")
        #expect(r.requestContext.http.userAgent == "")
        #expect(r.requestContext.authorizer == nil)
        #expect(r.claims.isEmpty)
        #expect(try r.bodyData().isEmpty)
    }

    @Test func rawPathAndRequestContextAreRequired() {
        #expect(throws: DecodingError.self) {
            try decode(APIGatewayV2Request.self, #"{"requestContext":{"http":{"method":"GET"}}}"#)
        }
        #expect(throws: DecodingError.self) {
            try decode(APIGatewayV2Request.self, #"{"rawPath":"/"}"#)
        }
        #expect(throws: DecodingError.self) {
            try decode(APIGatewayV2Request.self, #"""
                {"rawPath":"/","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default",
                 "stage":"$default","time":"t","timeEpoch":0,"http":{"path":"/"}}}
                """#)
        }
    }

    @Test func nonStringClaimsAreKeptAsTheirJSONText() throws {
        let r = try decode(APIGatewayV2Request.self, #"""
            {"rawPath":"/","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default",
             "stage":"$default","time":"t","timeEpoch":0,"http":{"method":"GET"},
             "authorizer":{"jwt":{"claims":{"sub":"u-1","exp":1700000000,"admin":true,"groups":["a","b"],"nested":{"k":"v"},"none":null}}}}}
            """#)
        #expect(r.claims["sub"] == "u-1")
        #expect(r.claims["exp"] == "1700000000")
        #expect(r.claims["admin"] == "true")
        #expect(r.claims["groups"] == #"["a","b"]"#)
        #expect(r.claims["nested"] == #"{"k":"v"}"#)
        #expect(r.claims["none"] == "null")
        #expect(r.requestContext.authorizer?.jwt?.scopes == nil)
    }

    @Test func jwtWithoutClaimsAndLambdaAuthorizerContext() throws {
        let r = try decode(APIGatewayV2Request.self, #"""
            {"rawPath":"/","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default",
             "stage":"$default","time":"t","timeEpoch":0,"http":{"method":"GET"},
             "authorizer":{"jwt":{"scopes":["read"]},"lambda":{"tenant":"t-1","tier":2}}}}
            """#)
        #expect(r.claims.isEmpty)
        #expect(r.requestContext.authorizer?.jwt?.scopes == ["read"])
        #expect(r.requestContext.authorizer?.lambda?["tenant"] == "t-1")
        #expect(r.requestContext.authorizer?.lambda?["tier"]?.intValue == 2)
    }

    @Test func builtRequestRoundTrips() throws {
        let r = APIGatewayV2Request(
            routeKey: "POST /v1/documents/{id}", rawPath: "/v1/documents/42", rawQueryString: "a=1&b=x%20y",
            cookies: ["s=1"], headers: ["content-type": "application/json", "x-ünï": "ç"],
            queryStringParameters: ["a": "1", "b": "x y"], pathParameters: ["id": "42"], stageVariables: ["env": "dev"],
            body: "eyJhIjoxfQ==", isBase64Encoded: true,
            requestContext: .init(
                domainName: "localhost", domainPrefix: "localhost",
                http: .init(method: "POST", path: "/v1/documents/42", sourceIp: "10.0.0.1", userAgent: "curl/8"),
                requestId: "rid", routeKey: "POST /v1/documents/{id}", time: "04/Mar/2020:19:03:58 +0000",
                timeEpoch: 1_583_348_638_390,
                authorizer: .init(jwt: .init(claims: ["org_id": "o-1"], scopes: ["docs:write"]), lambda: ["x": 1])))
        #expect(r.version == "2.0")
        #expect(r.requestContext.accountId == "123456789012")
        #expect(r.requestContext.apiId == "local")
        #expect(r.requestContext.stage == "$default")
        #expect(r.requestContext.http.protocol == "HTTP/1.1")
        let back = try JSONDecoder().decode(APIGatewayV2Request.self, from: JSONEncoder().encode(r))
        #expect(back == r)
    }
}

@Suite struct HTTPHelperTests {
    @Test(arguments: ["content-type", "Content-Type", "CONTENT-TYPE", "cOnTeNt-TyPe"])
    func headerLookupIgnoresCase(_ name: String) {
        #expect(request(headers: ["content-type": "application/json"]).header(name) == "application/json")
        // Hand-written events may not lower-case their names.
        #expect(request(headers: ["Content-Type": "text/csv"]).header(name) == "text/csv")
    }

    @Test func missingHeaderIsNil() {
        #expect(request(headers: ["accept": "*/*"]).header("authorization") == nil)
        #expect(request().header("accept") == nil)
    }

    @Test func queryAndPathParameters() {
        let r = request(query: ["q": "swift testing", "tags": "a,b"], pathParameters: ["id": "doc-9", "proxy": "a/b"])
        #expect(r.query("q") == "swift testing")
        #expect(r.query("tags") == "a,b")
        #expect(r.query("missing") == nil)
        #expect(r.pathParameter("id") == "doc-9")
        #expect(r.pathParameter("proxy") == "a/b")
        #expect(r.pathParameter("missing") == nil)
        #expect(request().query("q") == nil)
        #expect(request().pathParameter("id") == nil)
    }

    @Test func claimsAndRequireClaim() throws {
        let r = request(claims: ["sub": "user-1", "org_id": "org-7", "empty": ""])
        #expect(r.claims == ["sub": "user-1", "org_id": "org-7", "empty": ""])
        #expect(try r.requireClaim("org_id") == "org-7")
    }

    @Test(arguments: ["org_id", "empty"])
    func requireClaimIs401WhenMissingOrEmpty(_ name: String) {
        let r = request(claims: ["sub": "user-1", "empty": ""])
        let error = #expect(throws: APIError.self) { try r.requireClaim(name) }
        #expect(error?.status == 401)
        #expect(error?.code == "unauthorized")
        #expect(error?.message.contains(name) == true)
    }

    @Test func requireClaimWithoutAuthorizerIs401() {
        let error = #expect(throws: APIError.self) { try request().requireClaim("sub") }
        #expect(error?.status == 401)
    }

    @Test func bodyDataPlainAndBase64() throws {
        #expect(try request(body: "héllo").bodyData() == Data("héllo".utf8))
        let bytes = Data([0x00, 0xFF, 0x10, 0x80, 0x7F])
        #expect(try request(body: bytes.base64EncodedString(), isBase64Encoded: true).bodyData() == bytes)
        // MIME-style line breaks in the base64 text are tolerated.
        #expect(try request(body: "aGVs\r\nbG8=", isBase64Encoded: true).bodyData() == Data("hello".utf8))
        #expect(try request(body: nil, isBase64Encoded: true).bodyData().isEmpty)
        #expect(try request(body: "", isBase64Encoded: true).bodyData().isEmpty)
    }

    @Test(arguments: ["abc", "not base64 at all!", "YWJj=ZA==", "%%%%", "!!!!", "a!b!c!d!", "YW*Jj"])
    func invalidBase64Is400(_ body: String) {
        let error = #expect(throws: APIError.self) { try request(body: body, isBase64Encoded: true).bodyData() }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_request")
        #expect(error?.message.contains("base64") == true)
    }
}

@Suite struct DecodeJSONBodyTests {
    struct Query: Decodable, Equatable {
        var query: String
        var topK: Int
        var filters: Filters?
        struct Filters: Decodable, Equatable { var tags: [String] }
    }

    @Test func validBody() throws {
        let q = try request(method: "POST", headers: ["content-type": "application/json"],
                            body: #"{"query":"what is RAG?","topK":5,"filters":{"tags":["a"]}}"#).decodeJSONBody(Query.self)
        #expect(q == Query(query: "what is RAG?", topK: 5, filters: .init(tags: ["a"])))
    }

    /// A NUL (only ever the escape `\u0000` in JSON) is refused naming its field, in both body readers.
    @Test func aNULInTheBodyNamesItsField() {
        let body = #"{"query":"q","topK":1,"filters":{"tags":["a","b\u0000"]}}"#
        let r = request(method: "POST", body: body)
        #expect(throws: APIError.invalidField("filters.tags[1]", "`filters.tags[1]` contains a NUL character (U+0000), which no field may hold.")) {
            try r.decodeJSONBody(Query.self)
        }
        #expect(throws: APIError.invalidField("filters.tags[1]", "`filters.tags[1]` contains a NUL character (U+0000), which no field may hold.")) {
            try r.jsonBody()
        }
        // The escaped backslash before `u0000` is no NUL.
        #expect((try? request(method: "POST", body: #"{"query":"a\\u0000","topK":1,"filters":{"tags":[]}}"#).decodeJSONBody(Query.self)) != nil)
    }

    @Test(arguments: [nil, "application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json", ""])
    func acceptedContentTypes(_ contentType: String?) throws {
        let headers = contentType.map { ["Content-Type": $0] } ?? [:]
        let q = try request(method: "POST", headers: headers, body: #"{"query":"q","topK":1}"#).decodeJSONBody(Query.self)
        #expect(q.topK == 1)
    }

    @Test func base64EncodedJSONBody() throws {
        let body = Data(#"{"query":"b64","topK":2}"#.utf8).base64EncodedString()
        let q = try request(method: "POST", body: body, isBase64Encoded: true).decodeJSONBody(Query.self)
        #expect(q == Query(query: "b64", topK: 2, filters: nil))
    }

    @Test(arguments: [#"{"query":"q","topK":"#, "not json", #"{"query":"q" "topK":1}"#, "{'query':'q'}"])
    func malformedIs400InvalidJSON(_ body: String) {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", headers: ["content-type": "application/json"], body: body).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
        #expect(error?.message == "The body is not valid JSON.")
    }

    @Test func wrongTypeNamesTheField() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: #"{"query":"q","topK":"five"}"#).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
        #expect(error?.message.contains("`topK`") == true, "\(error?.message ?? "")")
    }

    @Test func wrongTypeInNestedArrayNamesThePath() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: #"{"query":"q","topK":1,"filters":{"tags":["a",2]}}"#).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        let message = error?.message ?? ""
        #expect(message.contains("filters.tags") && message.contains("[1]"), "\(message)")
    }

    @Test func missingFieldNamesTheField() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: #"{"query":"q"}"#).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
        #expect(error?.message.contains("`topK`") == true, "\(error?.message ?? "")")
    }

    @Test func nullForARequiredFieldIs400() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: #"{"query":null,"topK":1}"#).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
        #expect(error?.message.contains("query") == true, "\(error?.message ?? "")")
    }

    @Test func topLevelWrongTypeIs400() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: "[1,2,3]").decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
    }

    @Test(arguments: [nil, ""])
    func emptyBodyIs400(_ body: String?) {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", headers: ["content-type": "application/json"], body: body).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_json")
        #expect(error?.message == "A JSON body is required.")
    }

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
    func nonJSONContentTypeIs415(_ contentType: String) {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", headers: ["Content-Type": contentType], body: #"{"query":"q","topK":1}"#)
                .decodeJSONBody(Query.self)
        }
        #expect(error?.status == 415)
        #expect(error?.code == "unsupported_media_type")
        #expect(error?.message.contains(contentType) == true)
    }

    @Test func invalidBase64BodyIs400BeforeParsing() {
        let error = #expect(throws: APIError.self) {
            try request(method: "POST", body: "abc", isBase64Encoded: true).decodeJSONBody(Query.self)
        }
        #expect(error?.status == 400)
        #expect(error?.code == "invalid_request")
    }
}
