import JSON

/// An event of a function that is invoked in several ways (the `reembed` worker: HTTP routes,
/// schedules and async invocations). Decoded in one pass by trying the known shapes in order.
public enum IncomingEvent: Decodable, Sendable {
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
