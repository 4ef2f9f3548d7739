/// A generation config file that cannot be used, with the file and field named so the fix is
/// obvious from the message alone (init fails with it; the emulator answers 502 with it).
public struct GenerationConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var field: String?
    public var reason: String

    public init(file: String, field: String? = nil, _ reason: String) {
        self.file = file
        self.field = field
        self.reason = reason
    }

    public var description: String {
        "\(file)" + (field.map { ": `\($0)`" } ?? "") + ": \(reason)"
    }
}
