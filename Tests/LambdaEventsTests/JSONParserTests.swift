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

    @Test func objectsKeepTheirMemberOrder() throws {
        let text = #"{"zeta":1,"alpha":[{"y":2,"b":3}],"mid":{"k2":"v","k1":null},"zeta":9}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        // Written back as read (the first of duplicate keys wins, as with JSONDecoder).
        #expect(String(decoding: try value.encoded(), as: UTF8.self) == #"{"zeta":1,"alpha":[{"y":2,"b":3}],"mid":{"k2":"v","k1":null}}"#)
        #expect(value.textValue == String(decoding: try value.encoded(), as: UTF8.self))
        // Equal to the same members in another order, as JSON's objects are, and hashed alike.
        let shuffled: JSONValue = ["mid": ["k1": nil, "k2": "v"], "alpha": [["b": 3, "y": 2]], "zeta": 1]
        #expect(value == shuffled && value.hashValue == shuffled.hashValue)
        #expect(value != ["mid": ["k1": nil, "k2": "v"], "alpha": [["b": 3, "y": 2]], "zeta": 2])
        // Codable sees an object (not swift-collections' flat array of keys and values).
        let encoded = try JSONEncoder().encode(["meta": value])
        let back = try JSONDecoder().decode([String: JSONValue].self, from: encoded)
        #expect(back["meta"] == value)
        #expect(try JSONSerialization.jsonObject(with: encoded) as? [String: [String: Any]] != nil)
    }

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
