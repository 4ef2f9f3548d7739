import Foundation
import Yams

/// A YAML node together with where it is (file, action, field path), so every typed read can
/// fail with an error that says where. Nodes come from `Yams.compose`, which keeps scalars as
/// written: a seed phrase `no` or `on` stays a string instead of becoming a boolean.
struct YAMLField {
    let node: Node
    let file: String
    let action: String?
    let path: String

    /// Parses a whole file's text; an empty file is an empty mapping.
    static func root(yaml: String, file: String) throws(ConfigurationError) -> YAMLField {
        do {
            // No implicit tag resolution: every typed read below looks at the scalar's text, and
            // the default resolver runs up to 7 regexes per scalar (and per mapping key again
            // when Yams checks for duplicate keys), a fifth of a 100-action catalog reload.
            let node = try Yams.compose(yaml: yaml, .basic) ?? Node.mapping(Node.Mapping([]))
            return YAMLField(node: node, file: file, action: nil, path: "")
        } catch let error as YamlError {
            throw .malformedYAML(file: file, line: Self.line(of: error), reason: Self.problem(of: error))
        } catch {
            throw .malformedYAML(file: file, line: nil, reason: "\(error)")
        }
    }

    var line: Int? { node.mark?.line }
    var isNull: Bool { node.null != nil }
    var fieldName: String { path.isEmpty ? "(document)" : path }

    func child(_ key: String, node: Node, action: String? = nil) -> YAMLField {
        YAMLField(node: node, file: file, action: action ?? self.action, path: path.isEmpty ? key : "\(path).\(key)")
    }

    func element(_ index: Int, node: Node) -> YAMLField {
        YAMLField(node: node, file: file, action: action, path: "\(path)[\(index)]")
    }

    func withAction(_ id: String) -> YAMLField { YAMLField(node: node, file: file, action: id, path: path) }

    func wrongType(_ expected: String) -> ConfigurationError {
        .wrongType(file: file, action: action, field: fieldName, expected: expected, line: line)
    }

    // MARK: Mappings

    /// The entries in file order; `allowed` (when given) rejects unknown keys, which are
    /// nearly always typos ("seed:" for "seeds:") that would otherwise be ignored silently.
    func entries(allowed: Set<String>? = nil) throws(ConfigurationError) -> [(key: String, value: YAMLField)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw wrongType("a mapping") }
        var out: [(key: String, value: YAMLField)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw wrongType("a mapping with string keys") }
            let field = child(key, node: v)
            if let allowed, !allowed.contains(key) {
                throw .unknownField(file: file, action: action, field: field.path)
            }
            out.append((key, field))
        }
        return out
    }

    /// The mapping as a dictionary, after checking its keys.
    func fields(allowed: Set<String>) throws(ConfigurationError) -> [String: YAMLField] {
        var out: [String: YAMLField] = [:]
        for (key, value) in try entries(allowed: allowed) { out[key] = value }
        return out
    }

    // MARK: Scalars

    func string() throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw wrongType("a string") }
        return scalar.string
    }

    func nonEmptyString() throws(ConfigurationError) -> String {
        let s = try string().trimmedWhitespace
        guard !s.isEmpty else { throw .invalidValue(file: file, action: action, field: fieldName, reason: "must not be empty") }
        return s
    }

    func double(in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmedWhitespace),
              value.isFinite
        else { throw wrongType("a number") }
        guard range.contains(value) else {
            throw .valueOutOfRange(file: file, action: action, field: fieldName, value: value,
                                   range: "[\(range.lowerBound), \(range.upperBound)]")
        }
        return value
    }

    func int(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmedWhitespace) else {
            throw wrongType("an integer")
        }
        guard range.contains(value) else {
            throw .valueOutOfRange(file: file, action: action, field: fieldName, value: Double(value),
                                   range: "[\(range.lowerBound), \(range.upperBound)]")
        }
        return value
    }

    /// YAML 1.1's words for booleans, unquoted only (`"true"` is a string), as Yams's default
    /// resolver would read them (tags are not resolved here: see `root`).
    func bool() throws(ConfigurationError) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { throw wrongType("true or false") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw wrongType("true or false")
        }
    }

    // MARK: Sequences

    /// A sequence's items; a single scalar counts as a one-item list, a null as an empty one.
    func items() throws(ConfigurationError) -> [YAMLField] {
        if isNull { return [] }
        switch node {
        case .sequence(let seq): return seq.enumerated().map { element($0.offset, node: $0.element) }
        case .scalar: return [self]
        default: throw wrongType("a list")
        }
    }

    func strings() throws(ConfigurationError) -> [String] {
        var out: [String] = []
        for item in try items() { out.append(try item.string()) }
        return out
    }

    // MARK: Yams errors

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
             .composer(let context, let problem, _, _):
            (context.map { "\($0.text) " } ?? "") + problem
        case .duplicatedKeysInMapping(let duplicates, _): "duplicate keys \(duplicates.joined(separator: ", "))"
        default: "\(error)"
        }
    }
}
