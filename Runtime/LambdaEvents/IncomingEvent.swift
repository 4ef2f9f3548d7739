#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// An event of a function that is invoked in several ways (the `reembed` worker: HTTP routes,
/// schedules and async invocations). Decoded in one pass by trying the known shapes in order.
public enum IncomingEvent: Codable, Sendable {
    case http(APIGatewayV2Request)
    case schedule(ScheduledEvent)
    case other(JSONValue)

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        if value["requestContext"]?["http"] != nil, value["rawPath"] != nil, let request = try? APIGatewayV2Request(from: decoder) {
            self = .http(request)
        } else if value["detail-type"]?.stringValue == "Scheduled Event", let event = try? ScheduledEvent(from: decoder) {
            self = .schedule(event)
        } else {
            self = .other(value)
        }
    }
}

extension IncomingEvent: JSONRepresentable {
    /// The same classification as `init(from:)`, from a parsed tree: an HTTP event that does
    /// not fit `APIGatewayV2Request` is `.other`, as it is there.
    public init?(json: JSONValue) {
        if json["requestContext"]?["http"] != nil, json["rawPath"] != nil, let request = APIGatewayV2Request(json: json) {
            self = .http(request)
        } else if json["detail-type"]?.stringValue == "Scheduled Event",
                  let event = try? JSONDecoder().decode(ScheduledEvent.self, from: json.encoded()) {
            // Rare (a schedule fires at most once a minute), so Codable is fine here.
            self = .schedule(event)
        } else {
            self = .other(json)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .http(let r): try r.encode(to: encoder)
        case .schedule(let s): try s.encode(to: encoder)
        case .other(let v): try v.encode(to: encoder)
        }
    }

    public func writeJSON(to w: inout JSONWriter) {
        switch self {
        case .http(let r): r.writeJSON(to: &w)
        case .schedule(let s): w.bytes.append(contentsOf: (try? JSONEncoder().encode(s)) ?? Data("null".utf8))
        case .other(let v): w.value(v)
        }
    }
}

