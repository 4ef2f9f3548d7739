import Foundation
import JSON
import LambdaEvents
import Testing

/// The hand-written parser must agree with JSONDecoder on everything valid and refuse what
/// JSONDecoder refuses: it carries every frame on the hot path.
@Suite struct JSONParserTests {
    static let valid: [String] = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #"false"#, #"0"#, #"-0"#, #"42"#, #"-17"#, #"3.25"#, #"-1.5e-3"#, #"1E+2"#,
        #"123456789012345678"#, #"1795294283477"#, #""""#, #""plain""#,
        #""esc \" \\ \/ \b \f \n \r \t""#, #""\u00e9\u65e5\ud83d\ude80""#, #""é日本🚀""#,
        #"  { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "d" }  "#,
        #"{"nested":{"deep":{"deeper":[[[]]]}},"k":"v","n":-0.5}"#,
        #"{"dup":1,"dup":2}"#,
    ]

    @Test(arguments: valid)
    func agreesWithJSONDecoder(_ text: String) throws {
        let ours = try JSONValue.parse(Array(text.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
    }

    static let invalid: [String] = [
        "", " ", "{", "[", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, "[1,]", "[1 2]", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", #""unterminated"#, "\"raw\nnewline\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#,
        #"{"a":1} x"#, "{a:1}", "'single'", "NaN", "[" + String(repeating: "[", count: 600) + String(repeating: "]", count: 601),
    ]

    @Test(arguments: invalid)
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func theAWSExampleEventMapsLikeCodable() throws {
        let data = try example("apigateway-v2-request")
        let codable = try JSONDecoder().decode(APIGatewayV2Request.self, from: data)
        let fast = try #require(APIGatewayV2Request(json: try JSONValue.parse(Array(data))))
        #expect(fast == codable)
    }

    @Test func minimalAndWrongEventsMapLikeCodable() throws {
        let minimal = #"{"rawPath":"/x","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default","stage":"$default","time":"t","timeEpoch":5,"http":{"method":"GET"}}}"#
        let codable = try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(minimal.utf8))
        #expect(APIGatewayV2Request(json: try JSONValue.parse(Array(minimal.utf8))) == codable)

        // Shapes Codable rejects are rejected here too (the runtime then reports Codable's error).
        for wrong in [#"{"rawPath":1}"#, #"{"rawPath":"/x","requestContext":{}}"#,
                      minimal.replacingOccurrences(of: #""rawPath":"/x""#, with: #""rawPath":"/x","headers":{"a":1}"#)] {
            #expect(APIGatewayV2Request(json: try JSONValue.parse(Array(wrong.utf8))) == nil, "\(wrong)")
            #expect(throws: (any Error).self) { try JSONDecoder().decode(APIGatewayV2Request.self, from: Data(wrong.utf8)) }
        }
    }

    @Test func writerOutputParsesBack() throws {
        var w = JSONWriter(capacity: 64)
        let tricky = "q\" b\\ n\n t\t c\u{1} é 🚀"
        let response = APIGatewayV2Response(statusCode: 201, headers: ["x": tricky], cookies: ["a=1"], body: tricky, isBase64Encoded: false)
        response.writeJSON(to: &w)
        let decoded = try JSONDecoder().decode(APIGatewayV2Response.self, from: Data(w.bytes))
        #expect(decoded == response)
    }
}
