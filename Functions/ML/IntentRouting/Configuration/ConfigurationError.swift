/// Why a catalog, rules or router settings file was refused. Every case names the file and,
/// where there is one, the action and the field (a path such as `actions[3].seeds` or
/// `rules.leave.request.patterns[1].regex`), so the message says exactly what to fix.
package enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case fileUnreadable(file: String, reason: String)
    case malformedYAML(file: String, line: Int?, reason: String)
    /// A line of a JSON lines file (seeds, devset) that is not `{"text": ..., "label": ...}`.
    case malformedLine(file: String, line: Int, reason: String)
    case missingField(file: String, action: String?, field: String)
    case unknownField(file: String, action: String?, field: String)
    case wrongType(file: String, action: String?, field: String, expected: String, line: Int?)
    case duplicateActionId(file: String, action: String, field: String)
    case emptySeeds(file: String, action: String, field: String)
    case invalidRegex(file: String, action: String?, field: String, pattern: String, reason: String)
    case unknownDomain(file: String, action: String?, field: String, domain: String)
    case unknownIntentType(file: String, action: String?, field: String, intentType: String)
    /// A rule (or a weight override) for an action the catalog does not have.
    case unknownAction(file: String, action: String, field: String)
    case unknownEntity(file: String, action: String?, field: String, entity: String)
    case valueOutOfRange(file: String, action: String?, field: String, value: Double, range: String)
    case invalidValue(file: String, action: String?, field: String, reason: String)

    package var file: String {
        switch self {
        case .fileUnreadable(let f, _), .malformedYAML(let f, _, _), .malformedLine(let f, _, _),
             .missingField(let f, _, _), .unknownField(let f, _, _), .wrongType(let f, _, _, _, _),
             .duplicateActionId(let f, _, _), .emptySeeds(let f, _, _), .invalidRegex(let f, _, _, _, _),
             .unknownDomain(let f, _, _, _), .unknownIntentType(let f, _, _, _), .unknownAction(let f, _, _),
             .unknownEntity(let f, _, _, _), .valueOutOfRange(let f, _, _, _, _), .invalidValue(let f, _, _, _):
            f
        }
    }

    package var action: String? {
        switch self {
        case .fileUnreadable, .malformedYAML, .malformedLine: nil
        case .missingField(_, let a, _), .unknownField(_, let a, _), .wrongType(_, let a, _, _, _),
             .invalidRegex(_, let a, _, _, _), .unknownDomain(_, let a, _, _), .unknownIntentType(_, let a, _, _),
             .unknownEntity(_, let a, _, _), .valueOutOfRange(_, let a, _, _, _), .invalidValue(_, let a, _, _):
            a
        case .duplicateActionId(_, let a, _), .emptySeeds(_, let a, _), .unknownAction(_, let a, _): a
        }
    }

    package var field: String? {
        switch self {
        case .fileUnreadable, .malformedYAML, .malformedLine: nil
        case .missingField(_, _, let f), .unknownField(_, _, let f), .wrongType(_, _, let f, _, _),
             .duplicateActionId(_, _, let f), .emptySeeds(_, _, let f), .invalidRegex(_, _, let f, _, _),
             .unknownDomain(_, _, let f, _), .unknownIntentType(_, _, let f, _), .unknownAction(_, _, let f),
             .unknownEntity(_, _, let f, _), .valueOutOfRange(_, _, let f, _, _), .invalidValue(_, _, let f, _):
            f
        }
    }

    package var description: String {
        let place = [action.map { "action '\($0)'" }, field.map { "field '\($0)'" }].compactMap { $0 }.joined(separator: ", ")
        let prefix = place.isEmpty ? "\(file): " : "\(file): \(place): "
        switch self {
        case .fileUnreadable(_, let reason): return prefix + "cannot be read (\(reason))"
        case .malformedYAML(_, let line, let reason):
            return prefix + "is not valid YAML" + (line.map { " (line \($0))" } ?? "") + ": \(reason)"
        case .malformedLine(_, let line, let reason): return prefix + "line \(line): \(reason)"
        case .missingField: return prefix + "is required and missing"
        case .unknownField: return prefix + "is not a known field (a typo?)"
        case .wrongType(_, _, _, let expected, let line):
            return prefix + "must be \(expected)" + (line.map { " (line \($0))" } ?? "")
        case .duplicateActionId: return prefix + "the id is used by an earlier action; ids must be unique"
        case .emptySeeds: return prefix + "needs at least one non-empty seed phrase"
        case .invalidRegex(_, _, _, let pattern, let reason): return prefix + "invalid regular expression '\(pattern)': \(reason)"
        case .unknownDomain(_, _, _, let domain): return prefix + "domain '\(domain)' is not declared under 'domains' in the catalog"
        case .unknownIntentType(_, _, _, let type):
            return prefix + "intent type '\(type)' is not declared under 'intent_types' in the catalog"
        case .unknownAction: return prefix + "no action with this id in the catalog"
        case .unknownEntity(_, _, _, let entity): return prefix + "entity '\(entity)' is not declared under 'entities' in the rules file"
        case .valueOutOfRange(_, _, _, let value, let range): return prefix + "\(value) is out of range \(range)"
        case .invalidValue(_, _, _, let reason): return prefix + reason
        }
    }
}
