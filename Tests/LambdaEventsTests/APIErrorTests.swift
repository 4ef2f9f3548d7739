import Foundation
import LambdaEvents
import Testing

@Suite struct APIErrorTests {
    @Test func bodyHasExactlyTheDocumentedShape() throws {
        let error = APIError(status: 422, code: "validation_failed", message: "topK must be 1...50",
                             details: ["field": "topK", "max": 50])
        let o = try jsonObject(error.body(requestId: "req-123"))
        #expect(Set(o.keys) == ["error", "requestId"])
        #expect(o["requestId"] as? String == "req-123")
        let e = try #require(o["error"] as? [String: Any])
        #expect(Set(e.keys) == ["code", "message", "details"])
        #expect(e["code"] as? String == "validation_failed")
        #expect(e["message"] as? String == "topK must be 1...50")
        let details = try #require(e["details"] as? [String: Any])
        #expect(details["field"] as? String == "topK")
        #expect((details["max"] as? NSNumber)?.intValue == 50)
    }

    @Test func emptyDetailsAreAnEmptyObject() throws {
        let data = APIError.notFound().body(requestId: "r")
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""details":{}"#), "\(text)")
        let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: data)
        #expect(envelope == ErrorEnvelope(error: .init(code: "not_found", message: "Not found.", details: [:]), requestId: "r"))
    }

    @Test func bodyWithoutRequestIdDecodes() throws {
        let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: APIError.badRequest("nope").body(requestId: nil))
        #expect(envelope.requestId == nil)
        #expect(envelope.error.code == "invalid_request")
        #expect(envelope.error.message == "nope")
    }

    @Test func slashesAreNotEscaped() {
        let text = String(decoding: APIError.notFound("No route for GET /v1/x.").body(requestId: "a/b"), as: UTF8.self)
        #expect(text.contains("GET /v1/x."))
        #expect(!text.contains(#"\/"#))
    }

    @Test(arguments: [
        (APIError.badRequest("m"), 400, "invalid_request"),
        (APIError.badRequest("m", code: "invalid_json"), 400, "invalid_json"),
        (APIError.unauthorized(), 401, "unauthorized"),
        (APIError.forbidden("m"), 403, "forbidden"),
        (APIError.notFound(), 404, "not_found"),
        (APIError.methodNotAllowed("DELETE", allowed: ["GET", "POST"]), 405, "method_not_allowed"),
        (APIError.conflict("m"), 409, "conflict"),
        (APIError.payloadTooLarge("m"), 413, "payload_too_large"),
        (APIError.unsupportedMediaType("m"), 415, "unsupported_media_type"),
        (APIError.unprocessable("m"), 422, "validation_failed"),
        (APIError.tooManyRequests("m"), 429, "too_many_requests"),
        (APIError.internalError(), 500, "internal_error"),
        (APIError.notImplemented("m"), 501, "not_implemented"),
        (APIError.badGateway("m"), 502, "bad_gateway"),
        (APIError.serviceUnavailable("m"), 503, "service_unavailable"),
        (APIError.gatewayTimeout("m"), 504, "timeout"),
    ])
    func honestStatuses(_ error: APIError, _ status: Int, _ code: String) {
        #expect(error.status == status)
        #expect(error.code == code)
        #expect(error.description.hasPrefix("\(status) \(code): "))
    }

    @Test func methodNotAllowedCarriesAllowHeaderAndDetails() {
        let e = APIError.methodNotAllowed("DELETE", allowed: ["GET", "POST"])
        #expect(e.headers == ["allow": "GET, POST"])
        #expect(e.details["allowed"] == ["GET", "POST"])
        #expect(e.message.contains("DELETE"))
    }

    @Test func tooManyRequestsRetryAfter() {
        #expect(APIError.tooManyRequests("slow down", retryAfterSeconds: 7).headers == ["retry-after": "7"])
        #expect(APIError.tooManyRequests("slow down").headers.isEmpty)
    }
}

@Suite struct ResponseHelperTests {
    struct Hit: Codable, Equatable { var id: String; var score: Double; var url: String }

    @Test func jsonResponse() throws {
        let r = APIGatewayV2Response.json([Hit(id: "d1", score: 0.5, url: "https://x/y")], status: 201, headers: ["x-extra": "1"])
        #expect(r.statusCode == 201)
        #expect(r.headers == ["content-type": "application/json", "x-extra": "1"])
        #expect(r.isBase64Encoded == nil)
        #expect(r.cookies == nil)
        let body = try #require(r.body)
        #expect(body.contains("https://x/y"), "slashes are not escaped: \(body)")
        #expect(try JSONDecoder().decode([Hit].self, from: Data(body.utf8)) == [Hit(id: "d1", score: 0.5, url: "https://x/y")])
        #expect(r.bodyData() == Data(body.utf8))
    }

    @Test func jsonDefaultsTo200() {
        let r = APIGatewayV2Response.json(["ok": true])
        #expect(r.statusCode == 200)
        #expect(r.body == #"{"ok":true}"#)
    }

    @Test func unencodableJSONBecomesA500WithTheErrorShape() throws {
        let r = APIGatewayV2Response.json(["score": Double.nan])
        #expect(r.statusCode == 500)
        #expect(r.headers?["content-type"] == "application/json")
        let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(try #require(r.body).utf8))
        #expect(envelope.error.code == "internal_error")
    }

    @Test func errorResponse() throws {
        let r = APIGatewayV2Response.error(.tooManyRequests("Slow down.", retryAfterSeconds: 3), requestId: "req-9")
        #expect(r.statusCode == 429)
        #expect(r.headers == ["content-type": "application/json", "retry-after": "3"])
        let envelope = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(try #require(r.body).utf8))
        #expect(envelope == ErrorEnvelope(error: .init(code: "too_many_requests", message: "Slow down.", details: [:]), requestId: "req-9"))
    }

    @Test func errorResponseFor405HasAllow() {
        let r = APIGatewayV2Response.error(.methodNotAllowed("PUT", allowed: ["GET"]), requestId: nil)
        #expect(r.statusCode == 405)
        #expect(r.headers?["allow"] == "GET")
        #expect(r.headers?["content-type"] == "application/json")
    }

    @Test func binaryResponse() throws {
        let bytes = Data((0...255).map { UInt8($0) })
        let r = APIGatewayV2Response.binary(bytes, contentType: "application/pdf")
        #expect(r.statusCode == 200)
        #expect(r.isBase64Encoded == true)
        #expect(r.headers == ["content-type": "application/pdf"])
        #expect(r.body == bytes.base64EncodedString())
        #expect(r.bodyData() == bytes)
        // And over the wire.
        let back = try JSONDecoder().decode(APIGatewayV2Response.self, from: JSONEncoder().encode(r))
        #expect(back.bodyData() == bytes)
    }

    @Test func textResponse() {
        let r = APIGatewayV2Response.text("hi", status: 202)
        #expect(r.statusCode == 202)
        #expect(r.headers == ["content-type": "text/plain; charset=utf-8"])
        #expect(r.body == "hi")
        #expect(APIGatewayV2Response.text("<p/>", contentType: "text/html").headers?["content-type"] == "text/html")
    }
}
