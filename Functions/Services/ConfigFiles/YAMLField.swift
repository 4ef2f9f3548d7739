import Foundation
import Yams

/// A YAML node together with where it is (file, context, field path), so every typed read fails
/// with an error that says where, in the caller's own error type. The one YAML reader of the
/// package: the router's catalog, rules and settings and the generation config read through it.
///
/// Nodes come from `Yams.compose` without implicit tag resolution: every typed read looks at the
/// scalar's text (so a seed phrase `no` or `on` stays a string), and the default resolver runs
/// up to 7 regexes per scalar (and per mapping key again when Yams checks for duplicate keys),
/// a fifth of a 100-action catalog reload.
package struct YAMLField<Failure: YAMLFailure> {
    package let node: Node
    package let file: String
    package let context: String?
    package let path: String

    package init(node: Node, file: String, context: String? = nil, path: String = "") {
        self.node = node
        self.file = file
        self.context = context
        self.path = path
    }

    /// Parses a whole file's text; an empty file is an empty mapping.
    package static func root(yaml: String, file: String) throws(Failure) -> YAMLField {
        do {
            let node = try Yams.compose(yaml: yaml, .basic) ?? Node.mapping(Node.Mapping([]))
            return YAMLField(node: node, file: file)
        } catch let error as YamlError {
            throw .malformedYAML(file: file, line: Self.line(of: error), reason: Self.problem(of: error))
        } catch {
            throw .malformedYAML(file: file, line: nil, reason: "\(error)")
        }
    }

    /// Reads and parses a file.
    package static func load(_ path: String) throws(Failure) -> YAMLField {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(file: path, reason: "cannot read the file (does it exist?)")
        }
        return try root(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    package var line: Int? { node.mark?.line }
    package var isNull: Bool { node.null != nil }
    package var fieldName: String { location.fieldName }
    package var location: YAMLLocation { YAMLLocation(file: file, context: context, path: path, line: line) }

    package func child(_ key: String, node: Node, context: String? = nil) -> YAMLField {
        YAMLField(node: node, file: file, context: context ?? self.context, path: path.isEmpty ? key : "\(path).\(key)")
    }

    package func element(_ index: Int, node: Node) -> YAMLField {
        YAMLField(node: node, file: file, context: context, path: "\(path)[\(index)]")
    }

    package func withContext(_ context: String) -> YAMLField { YAMLField(node: node, file: file, context: context, path: path) }

    package func wrongType(_ expected: String) -> Failure { .wrongType(location, expected: expected) }

    /// An error about this value, in the caller's words.
    package func error(_ reason: String) -> Failure { .invalidValue(location, reason: reason) }

    // MARK: Mappings

    /// The entries in file order; `allowed` (when given) rejects unknown keys, which are
    /// nearly always typos ("seed:" for "seeds:") that would otherwise be ignored silently.
    package func entries(allowed: Set<String>? = nil) throws(Failure) -> [(key: String, value: YAMLField)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw wrongType("a mapping") }
        var out: [(key: String, value: YAMLField)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw wrongType("a mapping with string keys") }
            let field = child(key, node: v)
            if let allowed, !allowed.contains(key) {
                throw .unknownField(field.location, allowed: allowed)
            }
            out.append((key, field))
        }
        return out
    }

    /// The mapping as a dictionary, after checking its keys.
    package func fields(allowed: Set<String>) throws(Failure) -> [String: YAMLField] {
        var out: [String: YAMLField] = [:]
        for (key, value) in try entries(allowed: allowed) { out[key] = value }
        return out
    }

    // MARK: Scalars

    package func string() throws(Failure) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw wrongType("a string") }
        return scalar.string
    }

    package func nonEmptyString() throws(Failure) -> String {
        let s = try string().trimmingCharacters(in: .whitespacesAndNewlines)
        guard !s.isEmpty else { throw .invalidValue(location, reason: "must not be empty") }
        return s
    }

    package func double(in range: ClosedRange<Double>) throws(Failure) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)),
              value.isFinite
        else { throw wrongType("a number") }
        guard range.contains(value) else {
            throw .outOfRange(location, value: value, valueText: "\(value)", lowerBound: "\(range.lowerBound)", upperBound: "\(range.upperBound)")
        }
        return value
    }

    package func int(in range: ClosedRange<Int>) throws(Failure) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw wrongType("an integer")
        }
        guard range.contains(value) else {
            throw .outOfRange(location, value: Double(value), valueText: "\(value)", lowerBound: "\(range.lowerBound)", upperBound: "\(range.upperBound)")
        }
        return value
    }

    /// YAML 1.1's words for booleans, unquoted only (`"true"` is a string), as Yams's default
    /// resolver would read them (tags are not resolved here: see the type's comment).
    package func bool() throws(Failure) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { throw wrongType("true or false") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw wrongType("true or false")
        }
    }

    /// The string with `${VAR}` and `${VAR:-default}` replaced from `environment`, so secrets
    /// stay out of the file. An unset variable becomes the empty string.
    package func substituted(_ environment: [String: String]) throws(Failure) -> String {
        let raw = try string()
        do {
            return try EnvironmentSubstitution.apply(raw, environment)
        } catch let reason {
            throw error(reason.message)
        }
    }

    /// A boolean that may come from the environment (`enabled: ${USE_LOCAL_LLM:-false}`).
    package func substitutedBool(_ environment: [String: String]) throws(Failure) -> Bool {
        switch try substituted(environment).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0", "": return false
        case let other: throw error("expected true or false, not \(other)")
        }
    }

    // MARK: Sequences

    /// A sequence's items; a single scalar counts as a one-item list, a null as an empty one.
    package func items() throws(Failure) -> [YAMLField] {
        if isNull { return [] }
        switch node {
        case .sequence(let seq): return seq.enumerated().map { element($0.offset, node: $0.element) }
        case .scalar: return [self]
        default: throw wrongType("a list")
        }
    }

    package func strings() throws(Failure) -> [String] {
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
