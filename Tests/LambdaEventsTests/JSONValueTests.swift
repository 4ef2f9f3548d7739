import Foundation
import JSON
import LambdaEvents
import Testing

@Suite struct JSONValueTests {
    func roundTrip(_ v: JSONValue) throws -> JSONValue { try JSONValue.decode(v.encoded()) }
    func text(_ v: JSONValue) throws -> String { String(decoding: try v.encoded(), as: UTF8.self) }

    @Test func scalars() throws {
        #expect(try JSONValue.decode(Data("null".utf8)) == .null)
        #expect(try JSONValue.decode(Data("true".utf8)) == .bool(true))
        #expect(try JSONValue.decode(Data("false".utf8)) == .bool(false))
        #expect(try JSONValue.decode(Data("0".utf8)) == .number(0))
        #expect(try JSONValue.decode(Data("1".utf8)) == .number(1), "1 is a number, not true")
        #expect(try JSONValue.decode(Data("-2.5".utf8)) == .number(-2.5))
        #expect(try JSONValue.decode(Data(#""x""#.utf8)) == .string("x"))
        #expect(try JSONValue.decode(Data(#""true""#.utf8)) == .string("true"))
        #expect(try JSONValue.decode(Data("[]".utf8)) == .array([]))
        #expect(try JSONValue.decode(Data("{}".utf8)) == .object([:]))
    }

    @Test func integralNumbersEncodeWithoutAFraction() throws {
        #expect(try text(42) == "42")
        #expect(try text(.number(-7)) == "-7")
        #expect(try text(.number(0)) == "0")
        #expect(try text(.number(1e15)) == "1000000000000000")
        #expect(try text(.number(1_700_000_000_000)) == "1700000000000")
    }

    @Test func fractionalNumbersKeepTheirFraction() throws {
        #expect(try text(0.5) == "0.5")
        #expect(try text(.number(-1.25)) == "-1.25")
        #expect(try roundTrip(.number(0.1)) == .number(0.1))
        #expect(try roundTrip(.number(3.141592653589793)) == .number(3.141592653589793))
        #expect(try roundTrip(.number(1e300)) == .number(1e300))
    }

    @Test func numberAccessors() {
        #expect(JSONValue.number(5).intValue == 5)
        #expect(JSONValue.number(5.5).intValue == nil)
        #expect(JSONValue.number(5.5).doubleValue == 5.5)
        #expect(JSONValue.string("5").intValue == nil)
        #expect(JSONValue.number(1e16).intValue == nil, "beyond exact Int conversion")
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.string("s").stringValue == "s")
        #expect(JSONValue.number(1).stringValue == nil)
        #expect(JSONValue.array([1]).arrayValue == [1])
        #expect(JSONValue.object(["a": 1]).objectValue == ["a": 1])
        #expect(JSONValue.null.objectValue == nil)
        #expect(JSONValue.array([1])["a"] == nil)
    }

    @Test func nestedRoundTrip() throws {
        let v: JSONValue = [
            "name": "doc",
            "tags": ["a", "b", 3, 4.5, true, nil],
            "meta": ["pages": 12, "ratio": 0.75, "deep": ["deeper": [["k": "v"]]]],
            "empty": [:],
            "none": nil,
        ]
        #expect(try roundTrip(v) == v)
        #expect(v["meta"]?["deep"]?["deeper"]?.arrayValue?.first?["k"] == "v")
        #expect(v["tags"]?.arrayValue?.count == 6)
        #expect(v["none"] == .null)
        #expect(v["missing"] == nil)
        // Members keep their order (issue 18: objects are ordered), so the encoding is stable.
        #expect(try text(["b": 1, "a": 2]) == #"{"b":1,"a":2}"#)
        #expect(try text(v) == text(roundTrip(v)))
    }

    @Test func unicodeRoundTrip() throws {
        let v: JSONValue = ["text": "héllo wörld — 日本語 🦀 \u{0}\n\t\"quoted\" \\ /path", "émoji🔑": "✓"]
        #expect(try roundTrip(v) == v)
        let encoded = try text(v)
        #expect(encoded.contains("/path"), "slashes are not escaped")
        #expect(!encoded.contains("\n"), "newlines are escaped: the encoding is one line")
        let fromText = try JSONValue.decode(Data(#"{"s":"\u00e9\ud83e\udd80"}"#.utf8))
        #expect(fromText["s"] == "é🦀")
    }

    @Test func textValue() {
        #expect(JSONValue.string("plain").textValue == "plain")
        #expect(JSONValue.number(3).textValue == "3")
        #expect(JSONValue.number(0.5).textValue == "0.5")
        #expect(JSONValue.bool(false).textValue == "false")
        #expect(JSONValue.null.textValue == "null")
        #expect(JSONValue.array(["a", 1]).textValue == #"["a",1]"#)
        #expect(JSONValue.object(["z": 1, "a": [:]]).textValue == #"{"z":1,"a":{}}"#)
    }

    @Test func literals() {
        let v: JSONValue = ["s": "x", "i": 1, "d": 1.5, "b": true, "n": nil, "a": [1, "2"]]
        #expect(v == .object([
            "s": .string("x"), "i": .number(1), "d": .number(1.5), "b": .bool(true), "n": .null,
            "a": .array([.number(1), .string("2")]),
        ]))
    }

    @Test func embeddedInCodableTypes() throws {
        struct Envelope: Codable, Equatable { var id: Int; var payload: JSONValue }
        let e = Envelope(id: 1, payload: ["k": [1, 2.5, "x"]])
        #expect(try JSONDecoder().decode(Envelope.self, from: JSONEncoder().encode(e)) == e)
    }

    @Test func invalidJSONThrows() {
        #expect(throws: (any Error).self) { try JSONValue.decode(Data("{".utf8)) }
        #expect(throws: (any Error).self) { try JSONValue.decode(Data("".utf8)) }
    }
}

@Suite struct IncomingEventTests {
    func classify(_ json: String) throws -> IncomingEvent { try decode(IncomingEvent.self, json) }

    @Test func documentedHTTPExampleIsHTTP() throws {
        let e = try JSONDecoder().decode(IncomingEvent.self, from: example("apigateway-v2-request"))
        guard case .http(let r) = e else { Issue.record("expected .http, got \(e)"); return }
        #expect(r.rawPath == "/my/path")
        #expect(r.claims["claim1"] == "value1")
    }

    @Test func documentedScheduledEventIsSchedule() throws {
        let e = try JSONDecoder().decode(IncomingEvent.self, from: example("eventbridge-scheduled-event"))
        guard case .schedule(let s) = e else { Issue.record("expected .schedule, got \(e)"); return }
        #expect(s.ruleName == "my-scheduled-rule")
    }

    @Test func minimalHTTPEventIsHTTP() throws {
        let e = try classify(#"""
            {"rawPath":"/x","requestContext":{"accountId":"1","apiId":"a","requestId":"r","routeKey":"$default",
             "stage":"$default","time":"t","timeEpoch":0,"http":{"method":"POST"}}}
            """#)
        guard case .http(let r) = e else { Issue.record("expected .http, got \(e)"); return }
        #expect(r.method == "POST")
    }

    @Test(arguments: [
        #"{"from":"async","documentId":"d-1"}"#,
        // A rule's constant `Input`.
        #"{"task":"drain","limit":100}"#,
        // Looks like HTTP but lacks rawPath.
        #"{"requestContext":{"http":{"method":"GET"}}}"#,
        // Has rawPath and http but not a decodable request (no method): kept as-is, not lost.
        #"{"rawPath":"/x","requestContext":{"http":{}}}"#,
        // A scheduled event's shape from another detail-type.
        #"{"detail-type":"Object Created","source":"aws.s3"}"#,
        // Says Scheduled Event but misses the required fields.
        #"{"detail-type":"Scheduled Event"}"#,
        "[1,2,3]", #""just a string""#, "42", "null",
    ])
    func everythingElseIsOther(_ json: String) throws {
        let e = try classify(json)
        guard case .other(let v) = e else { Issue.record("expected .other, got \(e)"); return }
        #expect(v == (try JSONValue.decode(Data(json.utf8))))
    }

    @Test func invalidJSONIsADecodingError() {
        #expect(throws: (any Error).self) { try classify("{nope") }
    }

    /// The protocol reads events from a parsed tree (`JSONRepresentable`); it must sort every
    /// shape into the same case, with the same contents, as Codable does.
    @Test func theTreeReaderClassifiesAsCodableDoes() throws {
        func same(_ data: Data) throws {
            let viaCodable = try JSONDecoder().decode(IncomingEvent.self, from: data)
            let viaTree = try #require(IncomingEvent(json: try JSONValue.parse(Array(data))))
            switch (viaCodable, viaTree) {
            case (.http(let a), .http(let b)): #expect(a == b)
            case (.schedule(let a), .schedule(let b)): #expect(a == b)
            case (.other(let a), .other(let b)): #expect(a == b)
            default: Issue.record("Codable read \(viaCodable), the tree reader \(viaTree)")
            }
        }
        try same(example("apigateway-v2-request"))
        try same(example("eventbridge-scheduled-event"))
        for text in Self.otherShapes { try same(Data(text.utf8)) }
    }

    static let otherShapes = [
        #"{"from":"async","documentId":"d-1"}"#, #"{"requestContext":{"http":{"method":"GET"}}}"#,
        #"{"rawPath":"/x","requestContext":{"http":{}}}"#, #"{"detail-type":"Scheduled Event"}"#, "[1,2,3]", "null",
    ]
}

@Suite struct TimestampTests {
    // 2020-03-04T19:03:58.390Z, the documented example's timeEpoch.
    let ms: Int64 = 1_583_348_638_390

    @Test func iso8601Millis() {
        #expect(Timestamps.iso8601Millis(ms) == "2020-03-04T19:03:58.390Z")
        #expect(Timestamps.iso8601Millis(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamps.iso8601Millis(1_700_000_000_007) == "2023-11-14T22:13:20.007Z")
        #expect(Timestamps.iso8601Millis(951_782_400_050) == "2000-02-29T00:00:00.050Z")
    }

    @Test func iso8601Seconds() {
        #expect(Timestamps.iso8601Seconds(ms) == "2020-03-04T19:03:58Z")
        #expect(Timestamps.iso8601Seconds(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamps.iso8601Seconds(1_700_000_000_999) == "2023-11-14T22:13:20Z", "truncated, not rounded")
    }

    @Test func commonLogFormat() {
        #expect(Timestamps.clf(ms) == "04/Mar/2020:19:03:58 +0000")
        #expect(Timestamps.clf(0) == "01/Jan/1970:00:00:00 +0000")
        #expect(Timestamps.clf(1_700_000_000_000) == "14/Nov/2023:22:13:20 +0000")
        #expect(Timestamps.clf(951_782_400_000) == "29/Feb/2000:00:00:00 +0000")
    }

    @Test func nowIsTheWallClock() {
        let foundation = Int64(Date().timeIntervalSince1970 * 1000)
        let now = Timestamps.nowMs()
        // Same clock, same order of magnitude: within a minute of each other.
        #expect(abs(now - foundation) < 60_000)
    }
}
