import Foundation

/// A template schedule, parsed and checked: what `emulator schedules` lists and what the cron
/// emulator fires.
package struct ScheduleRule: Sendable {
    package let name: String
    package let function: FunctionSpec
    package let spec: ScheduleSpec
    package let expression: ScheduleExpression
    package let timeZone: TimeZone

    /// Every schedule in the template. An invalid expression or time zone is an error that names
    /// the rule and the reason, so the emulator refuses to start rather than never firing.
    package static func all(in template: Template) throws -> [ScheduleRule] {
        var rules: [ScheduleRule] = []
        for function in template.functions {
            for spec in function.schedules {
                let expression: ScheduleExpression
                do {
                    expression = try ScheduleExpression.parse(spec.expression)
                } catch {
                    throw TemplateError("Schedule \(spec.name) (\(function.logicalId)): invalid expression `\(spec.expression)`: \(error)")
                }
                guard let zone = TimeZone(identifier: spec.timezone ?? "UTC") else {
                    throw TemplateError("Schedule \(spec.name) (\(function.logicalId)): unknown ScheduleExpressionTimezone `\(spec.timezone ?? "")`")
                }
                rules.append(ScheduleRule(name: spec.name, function: function, spec: spec, expression: expression, timeZone: zone))
            }
        }
        return rules.sorted { $0.name < $1.name }
    }
}
