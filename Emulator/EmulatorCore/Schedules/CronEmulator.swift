import Foundation
import JSON
import LambdaEvents
import NIOConcurrencyHelpers

/// The emulator's clock. Real time by default; `--now` starts it elsewhere and
/// `POST /__emulator/clock` moves it, so schedules are tested deterministically.
package final class EmulatorClock: Sendable {
    private let offset: NIOLockedValueBox<TimeInterval>

    package init(now: Date? = nil) {
        offset = NIOLockedValueBox(now.map { $0.timeIntervalSinceNow } ?? 0)
    }

    package func now() -> Date { Date().addingTimeInterval(offset.withLockedValue { $0 }) }

    package func advance(by seconds: TimeInterval) { offset.withLockedValue { $0 += seconds } }

    package func set(_ date: Date) { offset.withLockedValue { $0 = date.timeIntervalSinceNow } }
}

/// Fires the template's schedules into their functions, like EventBridge.
///
/// Policy: a rule fires within a second of its computed time (checked every 200 ms). A run that
/// is still going when the next is due makes that next one skip (logged), never overlap. After a
/// pause or a clock jump, a rule catches up at most one missed run, then continues from now.
package final class CronEmulator: Sendable {
    package let rules: [ScheduleRule]
    package let clock: EmulatorClock
    let invoker: Invoker
    let log: EmulatorLog

    private struct RuleState {
        var nextDue: Date?
        var running = false
        var fired = 0
        var skipped = 0
    }

    private let state: NIOLockedValueBox<[String: RuleState]>
    private let started: Date

    package init(rules: [ScheduleRule], invoker: Invoker, clock: EmulatorClock) {
        self.rules = rules
        self.invoker = invoker
        self.clock = clock
        self.log = invoker.log
        let now = clock.now()
        started = now
        var s: [String: RuleState] = [:]
        for r in rules {
            s[r.name] = RuleState(nextDue: r.spec.enabled ? r.expression.nextFire(after: now, timeZone: r.timeZone, start: now) : nil)
        }
        state = NIOLockedValueBox(s)
    }

    /// Fires due rules until cancelled.
    package func run() async {
        for r in rules {
            let next = state.withLockedValue { $0[r.name]?.nextDue }
            log.emulator("schedule \(r.name) \(r.spec.expression) -> \(r.function.logicalId): " +
                         (r.spec.enabled ? "next \(next.map(Self.format) ?? "never")" : "disabled"))
        }
        while !Task.isCancelled {
            tick()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Fires every rule that is due at the clock's current time.
    func tick() {
        let now = clock.now()
        for rule in rules {
            let due: Date? = state.withLockedValue { s in
                guard let next = s[rule.name]?.nextDue, next <= now else { return nil }
                // At most one catch-up run: the next due time is computed from now, not from `next`.
                s[rule.name]?.nextDue = rule.expression.nextFire(after: now, timeZone: rule.timeZone, start: started)
                return next
            }
            if let due { fire(rule, scheduledFor: due, manual: false) }
        }
    }

    package enum TriggerResult: Equatable, Sendable {
        case fired(requestId: String)
        case stillRunning
        case unknownRule
    }

    /// Fires a rule now (`emulator trigger`, `POST /__emulator/schedules/{rule}/trigger`).
    @discardableResult
    package func trigger(_ name: String) -> TriggerResult {
        guard let rule = rules.first(where: { $0.name == name }) else { return .unknownRule }
        return fire(rule, scheduledFor: clock.now(), manual: true)
    }

    @discardableResult
    private func fire(_ rule: ScheduleRule, scheduledFor: Date, manual: Bool) -> TriggerResult {
        let overlapping = state.withLockedValue { s -> Bool in
            if s[rule.name]?.running == true {
                s[rule.name]?.skipped += 1
                return true
            }
            s[rule.name]?.running = true
            s[rule.name]?.fired += 1
            return false
        }
        if overlapping {
            log.emulator("schedule \(rule.name): skipped the run due \(Self.format(scheduledFor)): the previous run is still going")
            return .stillRunning
        }
        let requestId = Invoker.newRequestId()
        let event = Self.event(for: rule, at: scheduledFor, id: requestId)
        log.emulator("schedule \(rule.name): firing\(manual ? " (triggered)" : "") for \(Self.format(scheduledFor)) -> \(rule.function.logicalId) [\(requestId)]")
        let invoker = self.invoker
        invoker.log.telemetry.label(requestId, "schedule:\(rule.name)")
        Task {
            let result = await invoker.invoke(rule.function, event: event, requestId: requestId)
            self.state.withLockedValue { $0[rule.name]?.running = false }
            switch result.outcome {
            case .success(.response), .success(.streamed(_, nil)): break
            case .success(.streamed(_, let e?)), .success(.functionError(let e)):
                self.log.emulator("schedule \(rule.name) [\(requestId)]: the function failed: \(e.errorType): \(e.errorMessage)")
            case .failure(let f):
                self.log.emulator("schedule \(rule.name) [\(requestId)]: \(f)")
            }
        }
        return .fired(requestId: requestId)
    }

    /// The rule's constant `Input` when it has one (JSON, else the text), else the EventBridge
    /// scheduled event.
    package static func event(for rule: ScheduleRule, at time: Date, id: String) -> JSONValue {
        if let input = rule.spec.input {
            return (try? JSONValue.parse(Array(input.utf8))) ?? .string(input)
        }
        let e = ScheduledEvent(id: id, time: Timestamps.iso8601Seconds(Int64(time.timeIntervalSince1970 * 1000)),
                               ruleArn: "arn:aws:events:us-east-1:123456789012:rule/\(rule.name)")
        return (try? JSONValue.decode(JSONEncoder().encode(e))) ?? .object([:])
    }

    package struct RuleStatus: Encodable, Sendable {
        package var name: String
        package var function: String
        package var expression: String
        package var timezone: String
        package var enabled: Bool
        package var next: String?
        package var running: Bool
        package var fired: Int
        package var skipped: Int
    }

    package var status: [RuleStatus] {
        let s = state.withLockedValue { $0 }
        return rules.map { r in
            let st = s[r.name] ?? RuleState()
            return RuleStatus(name: r.name, function: r.function.logicalId, expression: r.spec.expression,
                              timezone: r.spec.timezone ?? "UTC", enabled: r.spec.enabled, next: st.nextDue.map(Self.format),
                              running: st.running, fired: st.fired, skipped: st.skipped)
        }
    }

    package static func format(_ d: Date) -> String { Timestamps.iso8601Seconds(Int64(d.timeIntervalSince1970 * 1000)) }
}
