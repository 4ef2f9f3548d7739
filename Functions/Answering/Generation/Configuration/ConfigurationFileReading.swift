import ConfigFiles

/// The generation config read through the package's one YAML reader, failing with
/// `GenerationConfigurationError`.
typealias YAMLValue = YAMLField<GenerationConfigurationError>

extension GenerationConfigurationError: YAMLFailure {
    package static func unreadable(file: String, reason: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: file, reason)
    }

    package static func malformedYAML(file: String, line: Int?, reason: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: file, "not valid YAML" + (line.map { " (line \($0))" } ?? "") + ": \(reason)")
    }

    package static func wrongType(_ at: YAMLLocation, expected: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: at.file, field: at.path.isEmpty ? nil : at.path, "expected \(expected)")
    }

    package static func unknownField(_ at: YAMLLocation, allowed: Set<String>) -> GenerationConfigurationError {
        GenerationConfigurationError(file: at.file, field: at.path, "unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
    }

    package static func outOfRange(_ at: YAMLLocation, value: Double, valueText: String, lowerBound: String, upperBound: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: at.file, field: at.path.isEmpty ? nil : at.path, "must be \(lowerBound)...\(upperBound), not \(valueText)")
    }

    package static func invalidValue(_ at: YAMLLocation, reason: String) -> GenerationConfigurationError {
        GenerationConfigurationError(file: at.file, field: at.path.isEmpty ? nil : at.path, reason)
    }
}
