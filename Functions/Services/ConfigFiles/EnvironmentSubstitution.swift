/// `${VAR}` / `${VAR:-default}` in configuration values.
package enum EnvironmentSubstitution {
    package struct Failure: Error { package var message: String }

    package static func apply(_ text: String, _ environment: [String: String]) throws(Failure) -> String {
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
