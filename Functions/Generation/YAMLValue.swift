import Foundation
import Yams

/// A YAML node with its file and field path, so every typed read fails naming where. Nodes come
/// from `Yams.compose`, which keeps mappings in file order (the provider order) and scalars as
/// written.
struct YAMLValue {
    let node: Node
    let file: String
    let path: String

    static func parse(_ text: String, file: String) throws(GenerationConfigurationError) -> YAMLValue {
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLValue(node: node, file: file, path: "")
        } catch {
            throw GenerationConfigurationError(file: file, "not valid YAML: \(error)")
        }
    }

    static func load(_ path: String) throws(GenerationConfigurationError) -> YAMLValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GenerationConfigurationError(file: path, "cannot read the file (does it exist?)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    var isNull: Bool { node.null != nil }

    func error(_ reason: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: file, field: path.isEmpty ? nil : path, reason)
    }

    private func child(_ key: String, _ node: Node) -> YAMLValue {
        YAMLValue(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// Entries in file order. `allowed` rejects unknown keys: nearly always typos that would
    /// otherwise be ignored silently.
    func entries(allowed: Set<String>? = nil) throws(GenerationConfigurationError) -> [(key: String, value: YAMLValue)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw error("expected a mapping") }
        var out: [(key: String, value: YAMLValue)] = []
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw error("expected string keys") }
            let value = child(key, v)
            if let allowed, !allowed.contains(key) {
                throw value.error("unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            out.append((key, value))
        }
        return out
    }

    func fields(allowed: Set<String>) throws(GenerationConfigurationError) -> [String: YAMLValue] {
        var out: [String: YAMLValue] = [:]
        for (k, v) in try entries(allowed: allowed) { out[k] = v }
        return out
    }

    func string() throws(GenerationConfigurationError) -> String {
        guard case .scalar(let s) = node, !isNull else { throw error("expected a string") }
        return s.string
    }

    /// The string with `${VAR}` and `${VAR:-default}` replaced from `environment`, so keys stay
    /// out of the file. An unset variable becomes the empty string (a provider without a key is
    /// disabled, not an error).
    func substituted(_ environment: [String: String]) throws(GenerationConfigurationError) -> String {
        let raw = try string()
        do {
            return try EnvironmentSubstitution.apply(raw, environment)
        } catch let reason {
            throw error(reason.message)
        }
    }

    func int(in range: ClosedRange<Int>) throws(GenerationConfigurationError) -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string.trimmingCharacters(in: .whitespaces)) else {
            throw error("expected a whole number")
        }
        guard range.contains(v) else { throw error("must be \(range.lowerBound)...\(range.upperBound), not \(v)") }
        return v
    }

    func double(in range: ClosedRange<Double>) throws(GenerationConfigurationError) -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw error("expected a number")
        }
        guard range.contains(v) else { throw error("must be \(range.lowerBound)...\(range.upperBound), not \(v)") }
        return v
    }

    func bool() throws(GenerationConfigurationError) -> Bool {
        guard case .scalar(let s) = node else { throw error("expected true or false") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, not \(s.string)")
        }
    }

    /// A boolean that may come from the environment (`enabled: ${USE_LOCAL_LLM:-false}`).
    func substitutedBool(_ environment: [String: String]) throws(GenerationConfigurationError) -> Bool {
        switch try substituted(environment).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0", "": return false
        case let other: throw error("expected true or false, not \(other)")
        }
    }

    func strings() throws(GenerationConfigurationError) -> [String] {
        if isNull { return [] }
        guard case .sequence(let seq) = node else { throw error("expected a list of strings") }
        var out: [String] = []
        for (i, n) in seq.enumerated() {
            guard case .scalar(let s) = n else { throw YAMLValue(node: n, file: file, path: "\(path)[\(i)]").error("expected a string") }
            out.append(s.string)
        }
        return out
    }
}

/// `${VAR}` / `${VAR:-default}` in configuration values.
enum EnvironmentSubstitution {
    struct Failure: Error { var message: String }

    static func apply(_ text: String, _ environment: [String: String]) throws(Failure) -> String {
        guard text.contains("${") else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            // The matching brace: a default may itself hold a reference (`${A:-${B}}`).
            var depth = 1
            var j = open.upperBound
            while j < rest.endIndex {
                if rest[j] == "}" { depth -= 1; if depth == 0 { break } }
                else if rest[j] == "{" { depth += 1 }
                j = rest.index(after: j)
            }
            guard j < rest.endIndex else { throw Failure(message: "unclosed ${ in \"\(text)\"") }
            let close = j
            let inner = rest[open.upperBound..<close]
            let name: Substring
            var fallback: String? = nil
            if let sep = inner.range(of: ":-") {
                name = inner[..<sep.lowerBound]
                fallback = try apply(String(inner[sep.upperBound...]), environment)
            } else {
                name = inner
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw Failure(message: "`${\(inner)}` is not a variable reference (use ${NAME} or ${NAME:-default})")
            }
            let value = environment[String(name)] ?? ""
            out += value.isEmpty ? (fallback ?? "") : value
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}
