import JSON

/// One line of a devset or seeds file: `{"text": "...", "label": "leave.request"}`. In a devset
/// the label `oos` means out of scope (the router should ask to clarify).
package struct LabelledText: Sendable, Hashable, Codable {
    package static let outOfScope = "oos"

    package var text: String
    package var label: String

    package init(text: String, label: String) {
        self.text = text
        self.label = label
    }

    /// JSON lines; blank lines and lines starting with `#` or `//` are skipped.
    package static func parseLines(_ bytes: [UInt8], file: String) throws(ConfigurationError) -> [LabelledText] {
        var out: [LabelledText] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") || trimmed.starts(with: "//".utf8) { continue }
            let value: JSONValue
            do { value = try JSONValue.parse(line) } catch {
                throw .malformedLine(file: file, line: lineNumber, reason: error.description)
            }
            guard let text = value["text"]?.stringValue, !NormalizedText(text).isEmpty else {
                throw .malformedLine(file: file, line: lineNumber, reason: "no non-empty \"text\" string")
            }
            guard let label = value["label"]?.stringValue ?? value["intent"]?.stringValue, !label.isEmpty else {
                throw .malformedLine(file: file, line: lineNumber, reason: "no \"label\" string")
            }
            out.append(LabelledText(text: text, label: label))
        }
        return out
    }

    package static func load(path: String) throws(ConfigurationError) -> [LabelledText] {
        try parseLines(try RouterConfiguration.readFile(path), file: path)
    }
}
