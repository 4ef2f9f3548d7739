/// Where a value sits in a configuration file: the file, what it belongs to (a router action,
/// when there is one), its field path, and its line.
package struct YAMLLocation: Sendable, Equatable {
    package var file: String
    package var context: String?
    package var path: String
    package var line: Int?

    /// The field path, or `(document)` for the file's root.
    package var fieldName: String { path.isEmpty ? "(document)" : path }
}

/// How a module's configuration error type says what a typed YAML read found wrong. Each module
/// keeps its own error type (its messages, its cases); the reader (`YAMLField`) is one.
package protocol YAMLFailure: Error {
    static func unreadable(file: String, reason: String) -> Self
    static func malformedYAML(file: String, line: Int?, reason: String) -> Self
    /// `expected` reads after "expected": "a string", "an integer", "a mapping", ...
    static func wrongType(_ at: YAMLLocation, expected: String) -> Self
    static func unknownField(_ at: YAMLLocation, allowed: Set<String>) -> Self
    /// The bounds and the value as written for people (`1...10`, `0.0...1.0`).
    static func outOfRange(_ at: YAMLLocation, value: Double, valueText: String, lowerBound: String, upperBound: String) -> Self
    static func invalidValue(_ at: YAMLLocation, reason: String) -> Self
}
