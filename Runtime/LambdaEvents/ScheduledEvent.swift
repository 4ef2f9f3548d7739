#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON

/// The EventBridge scheduled event a schedule delivers when the rule has no constant `Input`.
public struct ScheduledEvent: Codable, Sendable, Equatable {
    public var version: String
    public var id: String
    public var detailType: String
    public var source: String
    public var account: String
    /// ISO 8601, UTC, second precision, as EventBridge writes it (`2015-10-08T16:53:06Z`).
    public var time: String
    public var region: String
    public var resources: [String]
    public var detail: JSONValue

    enum CodingKeys: String, CodingKey {
        case version, id, detailType = "detail-type", source, account, time, region, resources, detail
    }

    public init(id: String, time: String, ruleArn: String, account: String = "123456789012", region: String = "us-east-1") {
        self.version = "0"
        self.id = id
        self.detailType = "Scheduled Event"
        self.source = "aws.events"
        self.account = account
        self.time = time
        self.region = region
        self.resources = [ruleArn]
        self.detail = .object([:])
    }

    public var isScheduledEvent: Bool { source == "aws.events" && detailType == "Scheduled Event" }

    /// The rule's name, the last path component of its ARN.
    public var ruleName: String? {
        resources.first.flatMap { $0.split(separator: "/").last.map(String.init) }
    }
}
