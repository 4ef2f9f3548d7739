import ConfigFiles

/// What is wrong with the embedding providers file, saying where.
package enum EmbeddingPolicyError: YAMLFailure, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case malformedYAML(file: String, line: Int?, reason: String)
    case wrongType(YAMLLocation, expected: String)
    case unknownField(YAMLLocation, allowed: Set<String>)
    case outOfRange(YAMLLocation, value: Double, valueText: String, lowerBound: String, upperBound: String)
    case invalidValue(YAMLLocation, reason: String)

    package var description: String {
        func at(_ l: YAMLLocation) -> String { "\(l.file)\(l.line.map { ":\($0)" } ?? ""): \(l.fieldName)" }
        switch self {
        case .unreadable(let file, let reason): return "\(file): \(reason)"
        case .malformedYAML(let file, let line, let reason): return "\(file)\(line.map { ":\($0)" } ?? ""): not valid YAML: \(reason)"
        case .wrongType(let l, let expected): return "\(at(l)): expected \(expected)"
        case .unknownField(let l, let allowed): return "\(at(l)): unknown field; allowed: \(allowed.sorted().joined(separator: ", "))"
        case .outOfRange(let l, _, let text, let lo, let hi): return "\(at(l)): \(text) is outside \(lo)...\(hi)"
        case .invalidValue(let l, let reason): return "\(at(l)): \(reason)"
        }
    }
}
