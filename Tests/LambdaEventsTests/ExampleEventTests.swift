import Foundation
import LambdaEvents
import Testing

/// The examples AWS documents, decoded field by field.
@Suite struct ExampleEventTests {
    @Test func httpAPIRequestExampleDecodesEveryField() throws {
        let r = try JSONDecoder().decode(APIGatewayV2Request.self, from: example("apigateway-v2-request"))
        #expect(r.version == "2.0")
        #expect(r.routeKey == "$default")
        #expect(r.rawPath == "/my/path")
        #expect(r.rawQueryString == "parameter1=value1&parameter1=value2&parameter2=value")
        #expect(r.cookies == ["cookie1", "cookie2"])
        #expect(r.headers == ["header1": "value1", "header2": "value1,value2"])
        #expect(r.queryStringParameters == ["parameter1": "value1,value2", "parameter2": "value"])
        #expect(r.pathParameters == ["parameter1": "value1"])
        #expect(r.stageVariables == ["stageVariable1": "value1", "stageVariable2": "value2"])
        #expect(r.body == "Hello from Lambda")
        #expect(r.isBase64Encoded == false)

        let c = r.requestContext
        #expect(c.accountId == "123456789012")
        #expect(c.apiId == "api-id")
        #expect(c.domainName == "id.execute-api.us-east-1.amazonaws.com")
        #expect(c.domainPrefix == "id")
        #expect(c.http.method == "POST")
        #expect(c.http.path == "/my/path")
        #expect(c.http.protocol == "HTTP/1.1")
        #expect(c.http.sourceIp == "192.0.2.1")
        #expect(c.http.userAgent == "agent")
        #expect(c.requestId == "id")
        #expect(c.routeKey == "$default")
        #expect(c.stage == "$default")
        #expect(c.time == "12/Mar/2020:19:03:58 +0000")
        #expect(c.timeEpoch == 1_583_348_638_390)
        #expect(c.authorizer?.jwt?.claims == ["claim1": "value1", "claim2": "value2"])
        #expect(c.authorizer?.jwt?.scopes == ["scope1", "scope2"])
        #expect(c.authorizer?.lambda == nil)

        // The helpers over the example.
        #expect(r.method == "POST")
        #expect(r.header("Header1") == "value1")
        #expect(r.query("parameter1") == "value1,value2")
        #expect(r.pathParameter("parameter1") == "value1")
        #expect(r.claims["claim2"] == "value2")
        #expect(try r.bodyData() == Data("Hello from Lambda".utf8))
    }

    @Test func httpAPIRequestExampleRoundTrips() throws {
        let decoded = try JSONDecoder().decode(APIGatewayV2Request.self, from: example("apigateway-v2-request"))
        let reencoded = try JSONEncoder().encode(decoded)
        let again = try JSONDecoder().decode(APIGatewayV2Request.self, from: reencoded)
        #expect(again == decoded)

        // The wire form keeps the documented names (fields this type does not model, like
        // `authentication`, are dropped).
        let o = try jsonObject(reencoded)
        #expect(Set(o.keys) == [
            "version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers", "queryStringParameters",
            "pathParameters", "stageVariables", "body", "isBase64Encoded", "requestContext",
        ])
        let context = try #require(o["requestContext"] as? [String: Any])
        let http = try #require(context["http"] as? [String: Any])
        #expect(http["method"] as? String == "POST")
        #expect(http["protocol"] as? String == "HTTP/1.1")
        #expect((context["timeEpoch"] as? NSNumber)?.int64Value == 1_583_348_638_390)
        let jwt = try #require((context["authorizer"] as? [String: Any])?["jwt"] as? [String: Any])
        #expect(jwt["claims"] as? [String: String] == ["claim1": "value1", "claim2": "value2"])
        #expect(jwt["scopes"] as? [String] == ["scope1", "scope2"])
    }

    @Test func httpAPIResponseExampleDecodes() throws {
        let r = try JSONDecoder().decode(APIGatewayV2Response.self, from: example("apigateway-v2-response"))
        #expect(r.statusCode == 200)
        #expect(r.cookies == ["cookie1", "cookie2"])
        #expect(r.isBase64Encoded == false)
        #expect(r.headers == ["content-type": "application/json", "headername": "headervalue"])
        #expect(r.body == #"{ "message": "Hello from Lambda!" }"#)
        #expect(r.bodyData() == Data(#"{ "message": "Hello from Lambda!" }"#.utf8))

        let again = try JSONDecoder().decode(APIGatewayV2Response.self, from: JSONEncoder().encode(r))
        #expect(again == r)
    }

    @Test func minimalResponseLeavesOptionalFieldsOut() throws {
        let r = try decode(APIGatewayV2Response.self, #"{"statusCode":204}"#)
        #expect(r == APIGatewayV2Response(statusCode: 204))
        #expect(r.bodyData() == nil)
        let o = try jsonObject(JSONEncoder().encode(r))
        #expect(Set(o.keys) == ["statusCode"])
    }

    @Test func scheduledEventExampleDecodesEveryField() throws {
        let e = try JSONDecoder().decode(ScheduledEvent.self, from: example("eventbridge-scheduled-event"))
        #expect(e.version == "0")
        #expect(e.id == "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
        #expect(e.detailType == "Scheduled Event")
        #expect(e.source == "aws.events")
        #expect(e.account == "123456789012")
        #expect(e.time == "2015-10-08T16:53:06Z")
        #expect(e.region == "us-east-1")
        #expect(e.resources == ["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"])
        #expect(e.detail == .object([:]))
        #expect(e.isScheduledEvent)
        #expect(e.ruleName == "my-scheduled-rule")
    }

    @Test func scheduledEventRoundTripsWithItsHyphenatedKey() throws {
        let original = ScheduledEvent(
            id: "abc", time: "2026-01-02T03:04:05Z", ruleArn: "arn:aws:events:eu-west-1:111122223333:rule/nightly-reembed",
            account: "111122223333", region: "eu-west-1")
        #expect(original.version == "0")
        #expect(original.isScheduledEvent)
        #expect(original.ruleName == "nightly-reembed")
        let data = try JSONEncoder().encode(original)
        let o = try jsonObject(data)
        #expect(o["detail-type"] as? String == "Scheduled Event")
        #expect(o["detailType"] == nil)
        #expect(o["source"] as? String == "aws.events")
        #expect(o["resources"] as? [String] == ["arn:aws:events:eu-west-1:111122223333:rule/nightly-reembed"])
        #expect((o["detail"] as? [String: Any])?.isEmpty == true)
        #expect(try JSONDecoder().decode(ScheduledEvent.self, from: data) == original)

        // Same bytes as the documented example, modulo values.
        let documented = try JSONDecoder().decode(ScheduledEvent.self, from: example("eventbridge-scheduled-event"))
        #expect(try JSONDecoder().decode(ScheduledEvent.self, from: JSONEncoder().encode(documented)) == documented)
    }

    @Test func eventFromAnotherSourceIsNotAScheduledEvent() throws {
        let e = try decode(ScheduledEvent.self, """
            {"version":"0","id":"1","detail-type":"Object Created","source":"aws.s3","account":"1",
             "time":"2020-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"bucket":{"name":"b"}}}
            """)
        #expect(!e.isScheduledEvent)
        #expect(e.ruleName == nil)
        #expect(e.detail["bucket"]?["name"] == "b")
    }
}
