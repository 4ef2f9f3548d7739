import ConfigFiles

/// The router's files read through the package's one YAML reader, failing with `ConfigurationError`.
typealias YAMLField = ConfigFiles.YAMLField<ConfigurationError>

extension ConfigurationError: YAMLFailure {
    package static func unreadable(file: String, reason: String) -> ConfigurationError {
        .fileUnreadable(file: file, reason: reason)
    }

    package static func wrongType(_ at: YAMLLocation, expected: String) -> ConfigurationError {
        .wrongType(file: at.file, action: at.context, field: at.fieldName, expected: expected, line: at.line)
    }

    package static func unknownField(_ at: YAMLLocation, allowed: Set<String>) -> ConfigurationError {
        .unknownField(file: at.file, action: at.context, field: at.path)
    }

    package static func outOfRange(_ at: YAMLLocation, value: Double, valueText: String, lowerBound: String, upperBound: String) -> ConfigurationError {
        .valueOutOfRange(file: at.file, action: at.context, field: at.fieldName, value: value, range: "[\(lowerBound), \(upperBound)]")
    }

    package static func invalidValue(_ at: YAMLLocation, reason: String) -> ConfigurationError {
        .invalidValue(file: at.file, action: at.context, field: at.fieldName, reason: reason)
    }
}
