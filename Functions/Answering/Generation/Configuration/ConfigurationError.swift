/// A generation config file that cannot be used, with the file and field named so the fix is
/// obvious from the message alone (init fails with it; the emulator answers 502 with it).
package struct GenerationConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var field: String?
    package var reason: String

    package init(file: String, field: String? = nil, _ reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    package var description: String {
        "\(file)" + (field.map { ": `\($0)`" } ?? "") + ": \(reason)"
    }
}
