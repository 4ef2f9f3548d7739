import JSON
import LambdaEvents
import Tenancy

/// What started an invocation of the worker, besides HTTP.
///
/// - `{"task": "drain"}`: the per-minute schedule's input; also any EventBridge scheduled
///   event without an input.
/// - `{"task": "stale_scan"}`: the nightly schedule's input.
/// - `{"job_id": "…", "org_id": "…"}`: `upload` (or a re-embed request) asking for a job now.
///   The worker drains the queue in order, that job included: claiming it by id would let one
///   org's burst jump the queue, and the drain reaches it within the same invocation.
package enum WorkerEvent: Sendable, Equatable {
    case drain
    case staleScan
    case job(id: String, org: OrgID)

    package struct Unknown: Error, CustomStringConvertible {
        package let description: String
    }

    package static func from(_ event: IncomingEvent) throws(Unknown) -> WorkerEvent {
        switch event {
        case .schedule(let s):
            // A rule without an input: the detail may still carry one.
            if case .object = s.detail, let task = s.detail["task"]?.stringValue { return try from(task: task) }
            return .drain
        case .other(let value):
            if let task = value["task"]?.stringValue { return try from(task: task) }
            if let id = value["job_id"]?.stringValue, let raw = value["org_id"]?.stringValue {
                guard let org = OrgID(raw) else { throw Unknown(description: "The event's `org_id` is not a valid org id (\(OrgID.rule)).") }
                return .job(id: id, org: org)
            }
            throw Unknown(description: "The worker takes {\"task\": \"drain\" | \"stale_scan\"} or {\"job_id\", \"org_id\"}; got \(Self.shape(value)).")
        case .http:
            throw Unknown(description: "HTTP events are routed, not worker events.")
        }
    }

    static func from(task: String) throws(Unknown) -> WorkerEvent {
        switch task {
        case "drain": return .drain
        case "stale_scan": return .staleScan
        default: throw Unknown(description: "Unknown task `\(task)`; expected drain or stale_scan.")
        }
    }

    /// Keys only: an event may carry data that does not belong in logs.
    static func shape(_ value: JSONValue) -> String {
        if let o = value.objectValue { return "an object with keys [\(o.keys.sorted().joined(separator: ", "))]" }
        return "a non-object"
    }
}
